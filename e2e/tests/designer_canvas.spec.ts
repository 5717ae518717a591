// The designer's canvas tools (issue 17, "Space" and "Editing tools"): the full window width,
// panels that fold away and stay so, the minimap, Fit on open and after auto-layout, auto-pan
// while dragging, multi-select, copy/paste/duplicate through the clipboard, the context menu,
// dropping a node into an edge, re-pointing an edge's ends, edge labels and snap to grid.
// Screenshots at 1024, 1280 and 1920 px go to WEFT_E2E_SHOTS when it is set.
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from './fixtures/test';
import { DesignerPage } from './fixtures/designer_page';

const SHOTS = process.env.WEFT_E2E_SHOTS;
const ORDER = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../../examples/order-process.json'), 'utf8'),
);

/** Saves the order process under `name` through the API and opens it in the designer. */
async function openOrder(page: import('@playwright/test').Page, name: string): Promise<DesignerPage> {
  const res = await page.request.put(`/api/workflows/${name}`, { data: { ...ORDER, name } });
  expect(res.ok(), await res.text()).toBe(true);
  const d = new DesignerPage(page);
  await d.goto(name);
  await expect(d.nodes).toHaveCount(ORDER.nodes.length);
  return d;
}

test('the canvas takes the window, panels fold away and stay so, the minimap and auto-pan move the view', async ({
  page,
  pageErrors: _,
}) => {
  await page.setViewportSize({ width: 1920, height: 1000 });
  const d = await openOrder(page, 'canvas-space');
  // No page cap: at 1920 the canvas gets what the palette and the side panel leave.
  const wide = (await d.canvas.boundingBox())!;
  expect(wide.width).toBeGreaterThan(1300);
  // Fit on open: every node is in view.
  for (const n of ORDER.nodes) await expect(d.node(n.id)).toBeInViewport();
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/designer-1920.png` });
  for (const width of [1280, 1024]) {
    await page.setViewportSize({ width, height: 800 });
    await page.getByTestId('zoom-fit').click();
    const box = (await d.canvas.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(width);
    expect(box.width).toBeGreaterThan(width / 2 - 100);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/designer-${width}.png` });
  }
  await page.setViewportSize({ width: 1280, height: 800 });

  // The palette and the inspector fold away (the canvas grows) and stay folded after a reload.
  const before = (await d.canvas.boundingBox())!.width;
  await page.getByTestId('toggle-palette').click();
  await expect(page.getByTestId('palette')).toBeHidden();
  await expect(page.getByTestId('toggle-palette')).toHaveText('Show palette');
  await page.getByTestId('toggle-inspector').click();
  await expect(d.inspector).toBeHidden();
  await expect.poll(async () => (await d.canvas.boundingBox())!.width).toBeGreaterThan(before + 400);
  await page.reload();
  await expect(d.nodes).toHaveCount(ORDER.nodes.length);
  await expect(page.getByTestId('palette')).toBeHidden();
  await expect(d.inspector).toBeHidden();
  await page.getByTestId('toggle-palette').click();
  await page.getByTestId('toggle-inspector').click();
  await expect(page.getByTestId('palette')).toBeVisible();
  await expect(d.inspector).toBeVisible();

  // The minimap: a click moves the view there, a drag keeps moving it.
  const minimap = page.getByTestId('minimap');
  await expect(minimap.locator('.minimap-node')).toHaveCount(ORDER.nodes.length);
  const mm = (await minimap.boundingBox())!;
  const v0 = await d.view();
  await page.mouse.click(mm.x + mm.width - 6, mm.y + mm.height - 6);
  await expect.poll(() => d.view()).not.toEqual(v0);
  const v1 = await d.view();
  await d.drag({ x: mm.x + mm.width - 6, y: mm.y + mm.height - 6 }, { x: mm.x + 8, y: mm.y + 8 });
  await expect.poll(() => d.view()).not.toEqual(v1);

  // Auto-layout, then Fit: every node in view again.
  await page.getByTestId('auto-layout').click();
  for (const n of ORDER.nodes) await expect(d.node(n.id)).toBeInViewport();

  // Auto-pan: a node held at the right border drags the view along, and goes past it.
  const box = (await d.canvas.boundingBox())!;
  const grab = await d.centre(d.node('refunded').locator('.wf-node-box'));
  const was = await d.position('refunded');
  const v2 = await d.view();
  await page.mouse.move(grab.x, grab.y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width - 4, grab.y, { steps: 10 });
  await expect.poll(() => d.view()).not.toEqual(v2);
  await expect.poll(async () => (await d.position('refunded')).x).toBeGreaterThan(was.x + box.width);
  await page.mouse.up();
  // The move is one undo step.
  await page.keyboard.press('Control+z');
  await expect.poll(async () => (await d.position('refunded')).x).toBe(was.x);

  // A new edge dragged to the bottom border pans the view too (and, dropped on nothing,
  // makes no edge).
  await page.getByTestId('zoom-fit').click();
  const edges = await d.edgeIds();
  const port = await d.centre(d.port('charge', 'error').locator('.wf-port-dot'));
  const v3 = await d.view();
  await page.mouse.move(port.x, port.y);
  await page.mouse.down();
  await page.mouse.move(port.x + 30, box.y + box.height - 3, { steps: 10 });
  await expect.poll(() => d.view()).not.toEqual(v3);
  await expect(d.canvas.locator('.wf-rubber')).toBeVisible();
  await page.mouse.up();
  expect(await d.edgeIds()).toEqual(edges);
});

test.describe('at 1920 wide', () => {
  // Wide enough that a fitted order process still shows its cards' labels.
  test.use({ viewport: { width: 1920, height: 1000 } });

  test('shift-click and the rubber band select several nodes, which move, delete and undo together', async ({
    page,
    pageErrors: _,
  }) => {
    const d = await openOrder(page, 'canvas-multi');
    await page.getByTestId('auto-layout').click();
    // Shift-click: two nodes.
    await d.select('charge');
    await d.node('fulfil').click({ modifiers: ['Shift'] });
    await expect(page.getByTestId('selected-count')).toHaveText('2 nodes selected');
    await expect(d.inspector.getByTestId('inspector-title')).toHaveText('2 nodes selected');
    await expect(d.node('charge')).toHaveClass(/selected/);
    await expect(d.node('fulfil')).toHaveClass(/selected/);
    // Shift-click again takes one out.
    await d.node('fulfil').click({ modifiers: ['Shift'] });
    await expect(page.getByTestId('selected-count')).toBeHidden();
    await d.node('fulfil').click({ modifiers: ['Shift'] });

    // Dragging one moves both by the same amount, as one undo step.
    const [c0, f0, s0] = [await d.position('charge'), await d.position('fulfil'), await d.position('start')];
    await d.moveNode('charge', 0, 120);
    const [c1, f1] = [await d.position('charge'), await d.position('fulfil')];
    expect(c1.y - c0.y).toBeGreaterThan(60);
    expect(f1.y - f0.y).toBe(c1.y - c0.y);
    expect(f1.x - f0.x).toBe(c1.x - c0.x);
    expect(await d.position('start')).toEqual(s0);
    await page.keyboard.press('Control+z');
    expect(await d.position('charge')).toEqual(c0);
    expect(await d.position('fulfil')).toEqual(f0);

    // A rubber band (Shift+drag on the background) around start and charge.
    const a = (await d.node('start').locator('.wf-node-box').boundingBox())!;
    const b = (await d.node('charge').locator('.wf-node-box').boundingBox())!;
    await page.keyboard.press('Escape');
    await page.keyboard.down('Shift');
    await d.drag(
      { x: Math.min(a.x, b.x) - 10, y: Math.min(a.y, b.y) - 12 },
      { x: b.x + b.width / 2, y: Math.max(a.y + a.height, b.y + b.height) + 10 },
    );
    await page.keyboard.up('Shift');
    await expect(page.getByTestId('selected-count')).toHaveText('2 nodes selected');
    await expect(d.node('start')).toHaveClass(/selected/);
    await expect(d.node('charge')).toHaveClass(/selected/);
    await expect(d.node('fulfil')).not.toHaveClass(/selected/);

    // Delete removes both and their edges; one undo brings all back.
    const edges = await d.edgeIds();
    await page.keyboard.press('Delete');
    await expect(d.nodes).toHaveCount(ORDER.nodes.length - 2);
    await expect(d.edge('start', 'next', 'charge')).toHaveCount(0);
    await page.keyboard.press('Control+z');
    await expect(d.nodes).toHaveCount(ORDER.nodes.length);
    expect(await d.edgeIds()).toEqual(edges);

    // Ctrl+A selects every node.
    await d.selectNothing();
    await page.keyboard.press('Control+a');
    await expect(page.getByTestId('selected-count')).toHaveText(`${ORDER.nodes.length} nodes selected`);
    await expect(d.canvas.locator('g.wf-node.selected')).toHaveCount(ORDER.nodes.length);
  });

  test('copy, paste and duplicate nodes with the edges among them, also into another workflow', async ({
    page,
    pageErrors: _,
  }) => {
    // This page may use the clipboard API for now (to read what Ctrl+C put there).
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    const d = await openOrder(page, 'canvas-copy');
    await page.getByTestId('auto-layout').click();
    await d.select('refund');
    await d.node('refunded').click({ modifiers: ['Shift'] });
    await page.keyboard.press('Control+c');
    // The system clipboard holds them as JSON: the two nodes and the edge between them.
    const copied = JSON.parse(await page.evaluate(() => navigator.clipboard.readText()));
    expect(copied.kind).toBe('weft/nodes');
    expect(copied.nodes.map((n: any) => n.id)).toEqual(['refund', 'refunded']);
    expect(copied.edges).toEqual([{ from: 'refund', to: 'refunded' }]);
    await page.context().clearPermissions();
    // Paste where the pointer is: copies with fresh ids and their edge.
    const box = (await d.canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + 60);
    await page.keyboard.press('Control+v');
    await expect(d.node('refund_2')).toBeVisible();
    await expect(d.node('refunded_2')).toBeVisible();
    await expect(d.edge('refund_2', 'next', 'refunded_2')).toBeAttached();
    await expect(page.getByTestId('selected-count')).toHaveText('2 nodes selected');
    // The copy keeps the settings.
    await d.select('refund_2');
    await expect(d.field('url')).toHaveValue('http://127.0.0.1:9000/refund');
    // One undo removes the paste.
    await page.keyboard.press('Control+z');
    await expect(d.node('refund_2')).toHaveCount(0);
    await expect(d.node('refunded_2')).toHaveCount(0);

    // Ctrl+D duplicates beside the original.
    await d.select('charge');
    await page.keyboard.press('Control+d');
    await expect(d.node('charge_2')).toBeVisible();
    const [c, c2] = [await d.position('charge'), await d.position('charge_2')];
    expect(c2).toEqual({ x: c.x + 40, y: c.y + 40 });
    await d.select('charge_2');
    await expect(d.field('max-attempts')).toHaveValue('5');

    // Into another workflow: the same ids, since they are free there.
    await d.select('refund');
    await d.node('refunded').click({ modifiers: ['Shift'] });
    await page.keyboard.press('Control+c');
    page.once('dialog', (dialog) => dialog.accept());
    await d.goto('new');
    await expect(d.nodes).toHaveCount(0);
    const empty = (await d.canvas.boundingBox())!;
    await page.mouse.move(empty.x + 200, empty.y + 200);
    await page.keyboard.press('Control+v');
    await expect(d.node('refund')).toBeVisible();
    await expect(d.node('refunded')).toBeVisible();
    await expect(d.edge('refund', 'next', 'refunded')).toBeAttached();

    // The context menu's Paste reads the clipboard API, which this page may not read: the copy
    // kept in the browser is pasted instead.
    const refused = await page.evaluate(() =>
      navigator.clipboard.readText().then(
        () => false,
        () => true,
      ),
    );
    expect(refused).toBe(true);
    await page.mouse.click(empty.x + 500, empty.y + 300, { button: 'right' });
    await page.getByTestId('menu-paste').click();
    await expect(d.node('refund_2')).toBeVisible();
    await expect(d.edge('refund_2', 'next', 'refunded_2')).toBeAttached();
  });

  test('the context menu acts on nodes, edges and the background, by mouse and by keyboard', async ({
    page,
    pageErrors: _,
  }) => {
    const d = await openOrder(page, 'canvas-menu');
    await page.getByTestId('auto-layout').click();
    const menu = page.getByTestId('context-menu');

    // On a node: Duplicate.
    await d.node('confirm').click({ button: 'right' });
    await expect(menu).toBeVisible();
    await expect(menu.getByRole('menuitem')).toContainText(['Duplicate', 'Copy', 'Delete', 'Select all']);
    await page.getByTestId('menu-duplicate').click();
    await expect(menu).toBeHidden();
    await expect(d.node('confirm_2')).toBeVisible();

    // On an edge: Delete edge.
    const mid = await d.edgeMiddle('charge', 'next', 'fulfil');
    await page.mouse.click(mid.x, mid.y, { button: 'right' });
    await page.getByTestId('menu-delete-edge').click();
    await expect(d.edge('charge', 'next', 'fulfil')).toHaveCount(0);

    // On the background: add a node right there.
    const box = (await d.canvas.boundingBox())!;
    const spot = { x: box.x + box.width / 2, y: box.y + box.height - 120 };
    await page.mouse.click(spot.x, spot.y, { button: 'right' });
    await page.getByTestId('menu-add-timer').click();
    await expect(d.node('timer')).toBeVisible();
    const t = (await d.node('timer').locator('.wf-node-box').boundingBox())!;
    expect(Math.abs(t.x + t.width / 2 - spot.x)).toBeLessThan(4);
    expect(Math.abs(t.y + t.height / 2 - spot.y)).toBeLessThan(4);

    // Background: Select all, then Delete from a node's menu removes them all at once.
    await page.mouse.click(box.x + 30, box.y + box.height - 30, { button: 'right' });
    await page.getByTestId('menu-select-all').click();
    await expect(page.getByTestId('selected-count')).toHaveText(`${ORDER.nodes.length + 2} nodes selected`);

    // The keyboard: Shift+F10 opens the menu on the selection, focused; arrows move; Escape closes.
    await d.select('timer');
    await page.keyboard.press('Shift+F10');
    await expect(menu).toBeVisible();
    await expect(page.getByTestId('menu-duplicate')).toBeFocused();
    await page.keyboard.press('ArrowDown');
    await expect(page.getByTestId('menu-copy')).toBeFocused();
    await page.keyboard.press('ArrowDown');
    await expect(page.getByTestId('menu-delete')).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(d.node('timer')).toHaveCount(0);
    await d.selectNothing();
    await page.keyboard.press('ContextMenu');
    await expect(page.getByTestId('menu-paste')).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(menu).toBeHidden();
  });

  test('drop a node into an edge, drag an edge end elsewhere, edge labels, snap to grid', async ({
    page,
    pageErrors: _,
  }) => {
    const d = await openOrder(page, 'canvas-edges');
    await page.getByTestId('auto-layout').click();

    // A palette type dropped on an edge goes inside it, as one undo step.
    await d.dropTypeAt('timer', await d.edgeMiddle('charge', 'next', 'fulfil'));
    await expect(d.edge('charge', 'next', 'timer')).toBeAttached();
    await expect(d.edge('timer', 'next', 'fulfil')).toBeAttached();
    await expect(d.edge('charge', 'next', 'fulfil')).toHaveCount(0);
    await page.keyboard.press('Control+z');
    await expect(d.node('timer')).toHaveCount(0);
    await expect(d.edge('charge', 'next', 'fulfil')).toBeAttached();

    // An unconnected node on the canvas dragged onto an edge goes inside it too.
    await page.getByTestId('palette-search').fill('transform');
    await page.getByTestId('palette-search').press('Enter');
    await expect(d.node('transform')).toBeVisible();
    const grab = await d.centre(d.node('transform').locator('.wf-node-box'));
    const box = (await d.node('transform').locator('.wf-node-box').boundingBox())!;
    const mid = await d.edgeMiddle('fulfil', 'next', 'confirm');
    // Bring the card's centre (not the grabbed label) onto the edge.
    const dx = mid.x - (box.x + box.width / 2);
    const dy = mid.y - (box.y + box.height / 2);
    await d.drag(grab, { x: grab.x + dx, y: grab.y + dy });
    await expect(d.edge('fulfil', 'next', 'transform')).toBeAttached();
    await expect(d.edge('transform', 'next', 'confirm')).toBeAttached();
    // The insert moved the nodes after it right, out of view: Fit.
    await page.getByTestId('zoom-fit').click();

    // An edge's end dragged to another node changes its target.
    const e = await d.edgeMiddle('inventory', 'next', 'done');
    await page.mouse.click(e.x, e.y);
    await expect(d.edge('inventory', 'next', 'done')).toHaveClass(/selected/);
    await d.drag(
      await d.centre(page.getByTestId('edge-end-target')),
      await d.centre(d.node('refunded').locator('.wf-node-box')),
    );
    await expect(d.edge('inventory', 'next', 'refunded')).toBeAttached();
    await expect(d.edge('inventory', 'next', 'done')).toHaveCount(0);
    // Its start dragged to another port (charge's `error`) changes the port, and the edge is
    // labelled with it.
    const f = await d.edgeMiddle('charge', 'next', 'fulfil');
    await page.mouse.click(f.x, f.y);
    await d.drag(
      await d.centre(page.getByTestId('edge-end-source')),
      await d.centre(d.port('charge', 'error').locator('.wf-port-dot')),
    );
    await expect(d.edge('charge', 'error', 'fulfil')).toBeAttached();
    await expect(d.edge('charge', 'error', 'fulfil').locator('.wf-edge-label')).toHaveText('error');
    await expect(d.edge('start', 'next', 'charge').locator('.wf-edge-label')).toHaveCount(0);

    // Snap to grid: on, a dropped node lands on the 20 px grid; the choice is remembered.
    await page.getByTestId('toggle-snap').click();
    await expect(page.getByTestId('toggle-snap')).toHaveAttribute('aria-pressed', 'true');
    const c = (await d.canvas.boundingBox())!;
    await d.dropType('signal', c.width / 2 + 13, c.height - 97);
    const p = await d.position('signal');
    expect(p.x % 20).toBe(0);
    expect(p.y % 20).toBe(0);
    await d.moveNode('signal', 17, -23);
    const q = await d.position('signal');
    expect(q.x % 20).toBe(0);
    expect(q.y % 20).toBe(0);
    expect(q).not.toEqual(p);
    await page.reload();
    await expect(page.getByTestId('toggle-snap')).toHaveAttribute('aria-pressed', 'true');
  });
});
