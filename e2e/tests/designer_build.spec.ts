// The designer's main scenario: the seed's order workflow built from an empty canvas with the
// mouse (typing only into the inspector), checked live, saved, and read back from the server.
import { expect, test } from './fixtures/test';
import { DesignerPage } from './fixtures/designer_page';

const EDGES = [
  'edge-charge-next-fulfil',
  'edge-confirm-next-inventory',
  'edge-fulfil-next-confirm',
  'edge-inventory-next-done',
  'edge-refund-next-refunded',
  'edge-start-next-charge',
];
const NODES = ['charge', 'confirm', 'done', 'fulfil', 'inventory', 'refund', 'refunded', 'start'];

test('build the order workflow from an empty canvas, save it, and get the same graph back', async ({
  page,
  request,
  pageErrors: _,
}) => {
  const d = new DesignerPage(page);
  await d.goto('new');
  await expect(page.getByTestId('canvas-hint')).toBeVisible();
  await expect(d.nodes).toHaveCount(0);
  await d.screenshot('designer-build-1-empty');

  // Room for eight nodes: zoom out twice.
  await page.getByTestId('zoom-out').click();
  await page.getByTestId('zoom-out').click();

  // start → charge, with charge still leading nowhere.
  await d.dropType('start', 100, 120);
  await expect(d.node('start')).toBeVisible();
  await expect(page.getByTestId('canvas-hint')).toBeHidden();
  await d.dropType('http', 290, 120);
  await d.rename('charge');
  await d.field('label').fill('Charge card');
  await d.field('url').fill('http://127.0.0.1:9000/charge');
  await d.field('body').fill('{"order": "{{ input.order_id }}", "amount": "{{ input.amount }}"}');
  await d.field('timeout').fill('5s');
  await d.field('max-attempts').fill('5');
  await d.field('initial-interval').fill('1s');
  await d.field('backoff').fill('2');
  await d.field('max-interval').fill('30s');
  await expect(d.inspector.getByTestId('retry-schedule')).toHaveText(
    '5 attempts; waits 1s → 2s → 4s → 8s between them',
  );
  // A duration that is not one says so where it is typed, and the validator agrees.
  await d.field('timeout').fill('5 sekunden');
  await expect(d.inspector.getByTestId('field-error')).toContainText('Not a duration');
  await expect(d.finding('invalid_duration', 'charge')).toBeVisible();
  await d.field('timeout').fill('5s');
  await expect(d.inspector.getByTestId('field-error')).toHaveCount(0);
  await expect(d.node('charge')).toContainText('POST /charge · 5s · 5 tries');

  await d.connect('start', 'next', 'charge');
  await expect(d.edge('start', 'next', 'charge')).toBeAttached();
  // charge is dangling: the finding names it, and the node is outlined.
  await expect(d.finding('no_way_out', 'charge')).toBeVisible();
  await expect(d.node('charge')).toHaveClass(/flag-error/);
  await d.screenshot('designer-build-2-dangling');
  // A click on the finding selects the node it names.
  await d.select('start');
  await d.finding('no_way_out', 'charge').click();
  await expect(d.node('charge')).toHaveClass(/selected/);
  await expect(d.inspector.getByTestId('inspector-title')).toHaveText('Charge card');

  // The rest of the graph.
  const http = async (id: string, x: number, y: number, path: string) => {
    await d.dropType('http', x, y);
    await d.rename(id);
    await d.field('url').fill(`http://127.0.0.1:9000/${path}`);
  };
  await http('fulfil', 480, 120, 'fulfil');
  await http('confirm', 100, 260, 'confirm');
  await http('inventory', 290, 260, 'inventory');
  await d.dropType('end', 480, 260);
  await d.rename('done');
  await http('refund', 100, 420, 'refund');
  await d.dropType('end', 290, 420);
  await d.rename('refunded');

  await d.connect('charge', 'next', 'fulfil');
  // Fixed: charge leads on now.
  await expect(d.finding('no_way_out', 'charge')).toHaveCount(0);
  await expect(d.node('charge')).not.toHaveClass(/flag-error/);
  await d.connect('fulfil', 'next', 'confirm');
  await d.connect('confirm', 'next', 'inventory');
  await d.connect('inventory', 'next', 'done');
  await d.connect('refund', 'next', 'refunded');
  expect(await d.edgeIds()).toEqual(EDGES);

  // refund is not reachable from start until it is the cancel path.
  await expect(d.finding('unreachable', 'refund')).toBeVisible();
  await d.selectNothing();
  await d.field('name').fill('order-process');
  await d.field('description').fill('Charge, fulfil, confirm, update inventory; refund on cancel.');
  await d.field('input-schema').fill('{"type": "object", "required": ["order_id", "amount"]}');
  await d.field('on-cancel').selectOption('refund');
  await expect(page.getByTestId('no-findings')).toBeVisible();
  await expect(page.getByTestId('designer-validity')).toHaveText('Valid');
  await d.screenshot('designer-build-3-valid');

  await d.saveButton.click();
  await expect(d.saveStatus).toHaveText('Saved as version 1');
  await expect(page).toHaveURL(/\/workflows\/order-process$/);
  await expect(d.version).toHaveText('v1');
  await expect(d.dirty).toBeHidden();
  const before = await d.nodes.evaluateAll((els) =>
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

  // After a reload the same graph comes back from the server, where it was drawn.
  await page.reload();
  await expect(d.nodes).toHaveCount(NODES.length);
  expect(await d.nodeIds()).toEqual(NODES);
  expect(await d.edgeIds()).toEqual(EDGES);
  await expect(d.draftBanner).toBeHidden();
  const after = await d.nodes.evaluateAll((els) =>
    Object.fromEntries(els.map((e) => [e.getAttribute('data-node'), e.getAttribute('transform')])),
  );
  expect(after).toEqual(before);
  await d.select('charge');
  await expect(d.field('max-attempts')).toHaveValue('5');
  await expect(d.field('timeout')).toHaveValue('5s');
  await expect(d.field('label')).toHaveValue('Charge card');
  await d.screenshot('designer-build-4-reloaded');
  // A close look at the node cards: type, label, summary, labelled ports.
  await page.getByTestId('zoom-in').click();
  await page.getByTestId('zoom-in').click();
  await d.canvas.screenshot({ path: 'screenshots/designer-build-5-closeup.png' });
});
