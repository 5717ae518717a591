// The designer's main scenario: the seed's order workflow built from an empty canvas, the way
// the canvas tools allow: palette search, a first edge, every further step dropped into the
// edge it belongs to, the refund path copied and pasted, checked live, saved, and read back
// from the server. Every click, key press, drag and typed-in value is counted; the count is
// printed (issue 17: the same graph took about 90 actions by mouse before).
import { expect, test } from './fixtures/test';
import { DesignerPage } from './fixtures/designer_page';
import type { Locator } from '@playwright/test';

const EDGES = [
  'edge-charge-next-fulfil',
  'edge-confirm-next-inventory',
  'edge-fulfil-next-confirm',
  'edge-inventory-next-done',
  'edge-refund-next-refunded',
  'edge-start-next-charge',
];
const NODES = ['charge', 'confirm', 'done', 'fulfil', 'inventory', 'refund', 'refunded', 'start'];

/** The person's actions, counted: clicks, key presses, drags, and values typed into a field. */
class Actions {
  count = 0;
  constructor(readonly d: DesignerPage) {}
  async click(target: Locator, options?: Parameters<Locator['click']>[0]): Promise<void> {
    this.count++;
    await target.click(options);
  }
  async type(field: Locator, text: string): Promise<void> {
    this.count++;
    await field.fill(text);
  }
  async press(key: string, field?: Locator): Promise<void> {
    this.count++;
    if (field) await field.press(key);
    else await this.d.page.keyboard.press(key);
  }
  /** Palette search: the query typed, then Enter. */
  async search(query: string): Promise<void> {
    this.count += 2;
    await this.d.search(query);
  }
  async connect(from: string, port: string, to: string): Promise<void> {
    this.count++;
    await this.d.connect(from, port, to);
  }
  /** A palette type dragged onto the middle of an edge. */
  async dropInto(type: string, from: string, to: string): Promise<void> {
    this.count++;
    await this.d.dropTypeAt(type, await this.d.edgeMiddle(from, 'next', to));
  }
  /** Clicks Fit (counted) when node `id` is not wholly on the canvas, as a person would. */
  async show(id: string): Promise<void> {
    if (!(await inCanvas(this.d, id))) await this.click(this.d.page.getByTestId('zoom-fit'));
  }
  /** Clicks a node's card (after Fit, if it is off the canvas). */
  async pick(id: string, options?: Parameters<Locator['click']>[0]): Promise<void> {
    await this.show(id);
    await this.click(this.d.node(id), options);
  }
  /** The selected node's id typed and confirmed with Enter. */
  async rename(id: string): Promise<void> {
    await this.type(this.d.field('id'), id);
    await this.press('Enter', this.d.field('id'));
    await expect(this.d.node(id)).toBeVisible();
  }
}

test('build the order workflow from an empty canvas, save it, and get the same graph back', async ({
  page,
  request,
  pageErrors: _,
}) => {
  test.setTimeout(60_000);
  const d = new DesignerPage(page);
  const act = new Actions(d);
  await d.goto('new');
  await expect(page.getByTestId('canvas-hint')).toBeVisible();
  await expect(d.nodes).toHaveCount(0);
  await d.screenshot('designer-build-1-empty');

  // Palette search: `end`, then `start` beside it, and the first edge between them.
  await act.search('end');
  await act.search('start');
  await expect(d.node('start')).toBeVisible();
  await expect(page.getByTestId('canvas-hint')).toBeHidden();
  await act.connect('start', 'next', 'end');

  // charge goes into that edge, a column right of start; end moves on to make room.
  await act.dropInto('http', 'start', 'end');
  await expect(d.edge('start', 'next', 'http')).toBeAttached();
  await expect(d.edge('http', 'next', 'end')).toBeAttached();
  await act.rename('charge');
  await act.type(d.field('label'), 'Charge card');
  await act.type(d.field('url'), 'http://127.0.0.1:9000/charge');
  await act.type(d.field('body'), '{"order": "{{ input.order_id }}", "amount": "{{ input.amount }}"}');
  await act.type(d.field('timeout'), '5s');
  await act.type(d.field('max-attempts'), '5');
  await act.type(d.field('initial-interval'), '1s');
  await act.type(d.field('backoff'), '2');
  await act.type(d.field('max-interval'), '30s');
  await expect(d.inspector.getByTestId('retry-schedule')).toHaveText(
    '5 attempts; waits 1s → 2s → 4s → 8s between them',
  );
  await expect(d.node('charge')).toContainText('POST /charge · 5s · 5 tries');
  // A check, not part of the build (so not counted): a duration that is not one says so
  // where it is typed, and the validator agrees.
  await d.field('timeout').fill('5 sekunden');
  await expect(d.inspector.getByTestId('field-error')).toContainText('Not a duration');
  await expect(d.finding('invalid_duration', 'charge')).toBeVisible();
  await d.field('timeout').fill('5s');
  await expect(d.inspector.getByTestId('field-error')).toHaveCount(0);
  await d.screenshot('designer-build-2-charge');

  // fulfil, confirm and inventory: each dropped into the edge before `end`.
  let before = 'charge';
  for (const id of ['fulfil', 'confirm', 'inventory']) {
    // The chain grows to the right: Fit brings the edge to drop on back into view.
    await act.show('end');
    await act.dropInto('http', before, 'end');
    await act.rename(id);
    await act.type(d.field('url'), `http://127.0.0.1:9000/${id}`);
    before = id;
  }
  await act.pick('end');
  await act.rename('done');

  // The refund path is the same shape as inventory → done: copy both (with their edge),
  // paste them below, and rename the copies.
  await act.pick('inventory');
  await act.pick('done', { modifiers: ['Shift'] });
  await act.press('Control+c');
  const box = (await d.canvas.boundingBox())!;
  await page.mouse.move(box.x + box.width / 3, box.y + box.height - 150); // a hover, not counted
  await act.press('Control+v');
  await expect(d.edge('inventory_2', 'next', 'done_2')).toBeAttached();
  await act.pick('inventory_2');
  await act.rename('refund');
  await act.type(d.field('url'), 'http://127.0.0.1:9000/refund');
  await act.pick('done_2');
  await act.rename('refunded');
  expect(await d.edgeIds()).toEqual(EDGES);
  await d.expectNoOverlaps();

  // refund is not reachable from start until it is the cancel path. (A check, not counted:
  // a click on the finding selects the node it names.)
  await expect(d.finding('unreachable', 'refund')).toBeVisible();
  await d.finding('unreachable', 'refund').click();
  await expect(d.node('refund')).toHaveClass(/selected/);
  await act.click(page.getByTestId('canvas'), { position: { x: 8, y: box.height - 8 } });
  await expect(d.inspector.getByTestId('inspector-title')).toHaveText('Workflow settings');
  await act.type(d.field('name'), 'order-process');
  await act.type(d.field('description'), 'Charge, fulfil, confirm, update inventory; refund on cancel.');
  await act.type(d.field('input-schema'), '{"type": "object", "required": ["order_id", "amount"]}');
  act.count++;
  await d.field('on-cancel').selectOption('refund');
  await expect(page.getByTestId('no-findings')).toBeVisible();
  await expect(page.getByTestId('designer-validity')).toHaveText('Valid');
  await d.screenshot('designer-build-3-valid');

  await act.click(d.saveButton);
  await expect(d.saveStatus).toHaveText('Saved as version 1');
  console.log(`order process built in ${act.count} actions (clicks, key presses, drags, typed values)`);
  // Fewer than half of the ~90 the same graph took by mouse before issue 17.
  expect(act.count).toBeLessThan(60);
  await expect(page).toHaveURL(/\/workflows\/order-process$/);
  await expect(d.version).toHaveText('v1');
  await expect(d.dirty).toBeHidden();
  const saved = await d.nodes.evaluateAll((els) =>
    Object.fromEntries(els.map((e) => [e.getAttribute('data-node'), e.getAttribute('transform')])),
  );

  // The server has it as drawn.
  const stored = await (await request.get('/api/workflows/order-process')).json();
  expect(stored.version).toBe(1);
  const def = stored.definition;
  expect(def.nodes.map((n: any) => n.id).sort()).toEqual(NODES);
  expect(def.edges.map((e: any) => `edge-${e.from}-${e.port ?? 'next'}-${e.to}`).sort()).toEqual(EDGES);
  expect(def.on_cancel).toBe('refund');
  const charge = def.nodes.find((n: any) => n.id === 'charge');
  expect(charge).toMatchObject({
    type: 'http',
    label: 'Charge card',
    timeout: '5s',
    retry: { max_attempts: 5, initial_interval: '1s', backoff_coefficient: 2, max_interval: '30s' },
    request: { method: 'POST', url: 'http://127.0.0.1:9000/charge' },
  });
  const refund = def.nodes.find((n: any) => n.id === 'refund');
  expect(refund.request.url).toBe('http://127.0.0.1:9000/refund');

  // After a reload the same graph comes back from the server, where it was drawn.
  await page.reload();
  await expect(d.nodes).toHaveCount(NODES.length);
  expect(await d.nodeIds()).toEqual(NODES);
  expect(await d.edgeIds()).toEqual(EDGES);
  await expect(d.draftBanner).toBeHidden();
  const after = await d.nodes.evaluateAll((els) =>
    Object.fromEntries(els.map((e) => [e.getAttribute('data-node'), e.getAttribute('transform')])),
  );
  expect(after).toEqual(saved);
  // Opened zoomed out, the cards show only their labels: click the card.
  await d.node('charge').click();
  await expect(d.field('max-attempts')).toHaveValue('5');
  await expect(d.field('timeout')).toHaveValue('5s');
  await expect(d.field('label')).toHaveValue('Charge card');
  await d.screenshot('designer-build-4-reloaded');
  // A close look at the node cards: type, label, summary, labelled ports.
  await page.getByTestId('zoom-in').click();
  await page.getByTestId('zoom-in').click();
  await d.canvas.screenshot({ path: 'screenshots/designer-build-5-closeup.png' });
});

/** Whether node `id` lies wholly inside the canvas's box (so its edges can be dropped on). */
async function inCanvas(d: DesignerPage, id: string): Promise<boolean> {
  const c = (await d.canvas.boundingBox())!;
  const b = await d.node(id).locator('.wf-node-box').boundingBox();
  return !!b && b.x >= c.x && b.y >= c.y && b.x + b.width <= c.x + c.width && b.y + b.height <= c.y + c.height;
}
