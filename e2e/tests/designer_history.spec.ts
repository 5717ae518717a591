// The designer's history (issue 17): saves with a message, the versions listed with who,
// when and why, a version opened read-only, two versions diffed on the canvas (exactly one
// node added, one removed and one changed, each changed field listed), and a version
// restored as a new one equal to it. Screenshots go to WEFT_E2E_SHOTS when it is set.
import { expect, test } from './fixtures/test';
import { DesignerPage } from './fixtures/designer_page';
import type { Page } from '@playwright/test';

const SHOTS = process.env.WEFT_E2E_SHOTS;
const NAME = 'history-orders';

/** v1: start → charge → notify → done. */
const v1 = {
  name: NAME,
  description: 'Orders, first cut',
  nodes: [
    { id: 'start', type: 'start', position: { x: 40, y: 140 } },
    {
      id: 'charge',
      type: 'http',
      label: 'Charge card',
      request: { method: 'POST', url: 'http://127.0.0.1:9/charge' },
      position: { x: 280, y: 140 },
    },
    { id: 'notify', type: 'transform', label: 'Notify', output: { sent: true }, position: { x: 520, y: 40 } },
    { id: 'done', type: 'end', position: { x: 760, y: 140 } },
  ],
  edges: [
    { from: 'start', to: 'charge' },
    { from: 'charge', to: 'notify' },
    { from: 'notify', to: 'done' },
  ],
};

/** v2: `notify` removed, `ship` added, `charge` changed (label and URL); the rest as before. */
const v2 = {
  ...v1,
  nodes: [
    v1.nodes[0],
    {
      ...v1.nodes[1],
      label: 'Charge the card',
      request: { method: 'POST', url: 'http://127.0.0.1:9/v2/charge' },
    },
    { id: 'ship', type: 'transform', label: 'Ship', output: { shipped: true }, position: { x: 520, y: 260 } },
    v1.nodes[3],
  ],
  edges: [
    { from: 'start', to: 'charge' },
    { from: 'charge', to: 'ship' },
    { from: 'ship', to: 'done' },
  ],
};

/** Opens `def` in the designer through the import dialog, as unsaved work. */
async function importDraft(page: Page, def: object): Promise<DesignerPage> {
  await page.goto('/workflows');
  await page.getByTestId('import-button').click();
  await page.getByTestId('import-text').fill(JSON.stringify(def));
  await page.getByTestId('import-open').click();
  const d = new DesignerPage(page);
  await expect(page).toHaveURL(new RegExp(`/workflows/${NAME}$`));
  await expect(d.canvas).toBeVisible();
  return d;
}

test('versions with messages, a diff on the canvas, and a restore as a new version', async ({
  page,
  request,
  pageErrors: _,
}) => {
  // v1, saved with a message from the Save button.
  let d = await importDraft(page, v1);
  await expect(page.getByTestId('history-button')).toBeDisabled();
  await page.getByTestId('save-message').fill('First cut');
  await d.saveButton.click();
  await expect(d.saveStatus).toHaveText('Saved as version 1');
  await expect(page.getByTestId('save-message')).toHaveValue('');

  // v2, saved with Enter in the message field.
  d = await importDraft(page, v2);
  await expect(d.draftBanner).toBeVisible();
  await page.getByTestId('save-message').fill('Ship instead of notify');
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/designer-history-save-message-1280.png` });
  await page.getByTestId('save-message').press('Enter');
  await expect(d.saveStatus).toHaveText('Saved as version 2');

  // The history opens on the latest version, read-only, in the editor's place.
  await page.getByTestId('history-button').click();
  const banner = page.getByTestId('history-banner');
  await expect(banner).toContainText('Viewing v2 (read-only)');
  await expect(page.getByTestId('history-restore')).toBeDisabled();
  await expect(page.getByTestId('palette')).toBeHidden();
  await expect(d.saveButton).toBeHidden();
  const rows = page.getByTestId('history-list').locator('.history-row');
  await expect(rows).toHaveCount(2);
  await expect(page.getByTestId('history-row-2')).toContainText('Ship instead of notify');
  await expect(page.getByTestId('history-row-2')).toContainText('4 nodes');
  await expect(page.getByTestId('history-row-1')).toContainText('First cut');
  const canvas = page.getByTestId('history-canvas');
  await expect(canvas.locator('g.wf-node')).toHaveCount(4);
  await expect(canvas.getByTestId('node-ship')).toBeVisible();
  // The editor's keys are off: Delete on a selected node deletes nothing.
  await canvas.getByTestId('node-ship').click();
  await expect(page.getByTestId('history-node')).toContainText('"id": "ship"');
  await page.keyboard.press('Delete');
  await expect(canvas.getByTestId('node-ship')).toBeVisible();

  // Diff v1 → v2: exactly one node added, one removed (drawn from v1), one changed.
  await expect(page.getByTestId('diff-from')).toHaveValue('1');
  await expect(page.getByTestId('diff-to')).toHaveValue('2');
  await page.getByTestId('diff-show').click();
  await expect(banner).toContainText('Comparing v1 → v2 (read-only)');
  await expect(canvas.locator('g.wf-node')).toHaveCount(5);
  await expect(canvas.locator('g.wf-node.diff-added')).toHaveCount(1);
  await expect(canvas.locator('g.wf-node.diff-removed')).toHaveCount(1);
  await expect(canvas.locator('g.wf-node.diff-changed')).toHaveCount(1);
  await expect(canvas.locator('g.wf-node.diff-moved')).toHaveCount(0);
  await expect(canvas.getByTestId('node-ship')).toHaveClass(/diff-added/);
  await expect(canvas.getByTestId('node-notify')).toHaveClass(/diff-removed/);
  await expect(canvas.getByTestId('node-charge')).toHaveClass(/diff-changed/);
  for (const id of ['start', 'done']) {
    await expect(canvas.getByTestId(`node-${id}`)).not.toHaveClass(/diff-/);
  }
  // Each mark says its word too, not only its colour.
  await expect(canvas.getByTestId('node-notify').getByTestId('node-badge')).toHaveText('removed');
  await expect(page.getByTestId('diff-legend')).toContainText('added');
  await expect(page.getByTestId('diff-count-added')).toHaveText('1 added');
  await expect(page.getByTestId('diff-count-removed')).toHaveText('1 removed');
  await expect(page.getByTestId('diff-count-changed')).toHaveText('1 changed');
  // Edges: two added (through ship), two removed (through notify), one kept.
  await expect(canvas.locator('g.wf-edge')).toHaveCount(5);
  await expect(canvas.locator('g.wf-edge.diff-added')).toHaveCount(2);
  await expect(canvas.locator('g.wf-edge.diff-removed')).toHaveCount(2);
  // The removed node is drawn where v1 had it, not on top of another node, and the view
  // fits the whole diff in its box.
  await d.expectNoOverlaps(canvas);
  const frame = (await canvas.boundingBox())!;
  for (const box of await canvas.locator('.wf-node-box').evaluateAll((els) =>
    els.map((e) => e.getBoundingClientRect().toJSON()),
  )) {
    expect(box.left).toBeGreaterThanOrEqual(frame.x);
    expect(box.right).toBeLessThanOrEqual(frame.x + frame.width);
  }

  // The changed node's fields, one by one.
  await canvas.getByTestId('node-charge').click();
  await expect(canvas.getByTestId('node-charge')).toHaveClass(/selected/);
  const fields = page.getByTestId('field-diff');
  await expect(fields.locator('tbody tr')).toHaveCount(2);
  await expect(fields.getByTestId('field-label')).toContainText('"Charge card"');
  await expect(fields.getByTestId('field-label')).toContainText('"Charge the card"');
  await expect(fields.getByTestId('field-request.url')).toContainText('http://127.0.0.1:9/charge');
  await expect(fields.getByTestId('field-request.url')).toContainText('http://127.0.0.1:9/v2/charge');
  await expect(page.getByTestId('diff-node-change')).toHaveText('changed');
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/designer-history-diff-1280.png` });
  await page.setViewportSize({ width: 1024, height: 768 });
  await expect(fields).toBeVisible();
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/designer-history-diff-1024.png` });
  await page.setViewportSize({ width: 1280, height: 800 });

  // A removed node shows its v1 definition.
  await canvas.getByTestId('node-notify').click();
  await expect(page.getByTestId('diff-node-change')).toHaveText('removed');
  await expect(page.getByTestId('node-change')).toContainText('Only in v1');

  // Open v1 read-only and restore it: v3, equal to v1, "Restored from v1".
  await page.getByTestId('history-row-1').click();
  await expect(banner).toContainText('Viewing v1 (read-only)');
  await expect(canvas.getByTestId('node-notify')).toBeVisible();
  await expect(canvas.locator('g.wf-node')).toHaveCount(4);
  await expect(page.getByTestId('version-facts')).toContainText('First cut');
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/designer-history-version-1280.png` });
  await page.getByTestId('history-restore').click();
  await expect(page.getByTestId('history')).toBeHidden();
  await expect(d.saveStatus).toHaveText('Saved as version 3');
  await expect(d.version).toHaveText('v3');
  await expect(d.dirty).toBeHidden();
  await expect(d.node('notify')).toBeVisible();
  await expect(d.node('ship')).toHaveCount(0);

  const one = await (await request.get(`/api/workflows/${NAME}/versions/1`)).json();
  const three = await (await request.get(`/api/workflows/${NAME}/versions/3`)).json();
  expect(three.definition).toEqual(one.definition);
  const list = await (await request.get(`/api/workflows/${NAME}/versions`)).json();
  expect(list.versions.map((v: { version: number; message: string | null }) => [v.version, v.message])).toEqual([
    [3, 'Restored from v1'],
    [2, 'Ship instead of notify'],
    [1, 'First cut'],
  ]);

  // The history lists the restore; v3 and v1 are the same graph.
  await page.getByTestId('history-button').click();
  await expect(rows).toHaveCount(3);
  await expect(page.getByTestId('history-row-3')).toContainText('Restored from v1');
  await page.getByTestId('diff-from').selectOption('1');
  await page.getByTestId('diff-to').selectOption('3');
  await page.getByTestId('diff-show').click();
  await expect(banner).toContainText('Comparing v1 → v3');
  await expect(page.getByTestId('diff-none')).toBeVisible();
  await expect(canvas.locator('g.wf-node[class*="diff-"]')).toHaveCount(0);
  // Escape goes back to editing, as the banner's button does.
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('history')).toBeHidden();
  await expect(d.canvas).toBeVisible();
});
