// Editing in the designer: delete, undo and redo of every kind of edit, the keyboard
// shortcuts, and what the designer refuses.
import path from 'node:path';
import { expect, test } from './fixtures/test';
import { DesignerPage } from './fixtures/designer_page';

test('delete, undo and redo with the keyboard and the toolbar; Escape and Ctrl+S', async ({ page, pageErrors: _ }) => {
  const d = new DesignerPage(page);
  await d.goto('new');
  await d.dropType('start', 140, 150);
  await d.dropType('timer', 440, 150);
  await d.dropType('end', 440, 400);
  await d.connect('start', 'next', 'timer');
  await d.connect('timer', 'next', 'end');
  expect(await d.edgeIds()).toEqual(['edge-start-next-timer', 'edge-timer-next-end']);

  // Delete a node: its edges go with it. Ctrl+Z brings both back, Ctrl+Shift+Z takes them again.
  await d.select('timer');
  await page.keyboard.press('Delete');
  await expect(d.node('timer')).toHaveCount(0);
  expect(await d.edgeIds()).toEqual([]);
  await page.keyboard.press('Control+z');
  await expect(d.node('timer')).toBeVisible();
  expect(await d.edgeIds()).toEqual(['edge-start-next-timer', 'edge-timer-next-end']);
  await page.keyboard.press('Control+Shift+Z');
  await expect(d.node('timer')).toHaveCount(0);
  await page.getByTestId('undo').click();
  await expect(d.node('timer')).toBeVisible();
  await expect(d.edges).toHaveCount(2);

  // Select an edge by clicking it; Delete removes only it.
  await d.edge('timer', 'next', 'end').locator('.wf-edge-hit').click();
  await expect(d.inspector.getByTestId('inspector-title')).toHaveText('Edge');
  await page.keyboard.press('Delete');
  expect(await d.edgeIds()).toEqual(['edge-start-next-timer']);
  await expect(d.finding('no_way_out', 'timer')).toBeVisible();
  await page.keyboard.press('Control+z');
  expect(await d.edgeIds()).toEqual(['edge-start-next-timer', 'edge-timer-next-end']);

  // A move is one undo step however far it went.
  const at = () => d.node('end').getAttribute('transform');
  const before = await at();
  await d.moveNode('end', 160, -60);
  expect(await at()).not.toEqual(before);
  await page.keyboard.press('Control+z');
  expect(await at()).toEqual(before);
  await page.getByTestId('redo').click();
  expect(await at()).not.toEqual(before);

  // Inspector edits are undoable too; typing in one field is one step.
  await d.select('timer');
  await d.field('duration').fill('10m');
  await expect(d.node('timer')).toContainText('waits 10m');
  await page.getByTestId('undo').click();
  await expect(d.node('timer')).toContainText('waits 1m');
  await expect(d.field('duration')).toHaveValue('1m');

  // The designer refuses an edge into start, and says so on the canvas.
  await d.connect('timer', 'next', 'start');
  await expect(page.getByTestId('canvas-notice')).toContainText('nothing can lead into start');
  await d.screenshot('designer-edit-1-refused');

  // The view: the wheel zooms, dragging the background pans, Fit brings everything back.
  const layer = d.canvas.locator('svg.wf-svg > g[transform]');
  const view = () => layer.getAttribute('transform');
  const box = (await d.canvas.boundingBox())!;
  const start = await view();
  await page.mouse.move(box.x + 300, box.y + 300);
  await page.mouse.wheel(0, -400);
  await expect.poll(view).not.toEqual(start);
  expect(await view()).toMatch(/scale\(1\.[0-9]+\)/);
  const zoomed = await view();
  await page.mouse.move(box.x + 20, box.y + box.height - 20);
  await page.mouse.down();
  await page.mouse.move(box.x + 120, box.y + box.height - 60, { steps: 5 });
  await page.mouse.up();
  expect(await view()).not.toEqual(zoomed);
  await page.getByTestId('zoom-fit').click();
  for (const id of ['start', 'timer', 'end']) await expect(d.node(id)).toBeInViewport();

  // Escape: nothing selected, the workflow's settings show.
  await d.select('end');
  await page.keyboard.press('Escape');
  await expect(d.node('end')).not.toHaveClass(/selected/);
  await expect(d.inspector.getByTestId('inspector-title')).toHaveText('Workflow settings');
  await expect(page.getByTestId('canvas-notice')).toBeHidden();

  // Ctrl+S saves (even while typing in a field).
  await d.field('name').fill('keyboard-flow');
  await page.keyboard.press('Control+s');
  await expect(d.saveStatus).toHaveText('Saved as version 1');
  await expect(page).toHaveURL(/\/workflows\/keyboard-flow$/);
  await expect(d.dirty).toBeHidden();

  // An edit marks the page unsaved; undoing it back to the saved state clears the mark.
  await d.select('timer');
  await page.keyboard.press('Delete');
  await expect(d.dirty).toBeVisible();
  await page.keyboard.press('Control+z');
  await expect(d.dirty).toBeHidden();

  // Errors the browser sees keep Save disabled, with the reason; Ctrl+S says it too.
  await d.select('timer');
  await page.keyboard.press('Delete');
  await expect(d.saveButton).toBeDisabled();
  await expect(d.saveButton).toHaveAttribute('title', /^Fix the \d+ errors? first/);
  await page.keyboard.press('Control+s');
  await expect(d.saveStatus).toContainText('Fix the');
  await expect(d.version).toHaveText('v1');
  await page.keyboard.press('Control+z');
  await expect(d.saveButton).toBeEnabled();

  // A save the server refuses shows its findings the same way: a subflow whose child
  // workflow does not exist (the browser only warns: its list of workflows may be stale).
  await d.dropType('subflow', 140, 400);
  await d.edge('timer', 'next', 'end').locator('.wf-edge-hit').click();
  await page.keyboard.press('Delete');
  await d.connect('timer', 'next', 'subflow');
  await d.connect('subflow', 'next', 'end');
  await expect(page.getByTestId('designer-validity')).toHaveText(/warning/);
  await expect(d.saveButton).toBeEnabled();
  await page.keyboard.press('Control+s');
  await expect(page.getByTestId('server-findings')).toBeVisible();
  await expect(d.saveStatus).toContainText('refused');
  await expect(d.version).toHaveText('v1');
  await d.screenshot('designer-edit-2-server-refused');

  // Leaving with unsaved changes asks first; staying stays, leaving keeps the draft.
  await expect(d.dirty).toBeVisible();
  const asked: string[] = [];
  page.once('dialog', (dialog) => {
    asked.push(dialog.type());
    void dialog.dismiss();
  });
  await page.getByTestId('nav-runs').click();
  await expect(page).toHaveURL(/\/workflows\/keyboard-flow$/);
  expect(asked).toEqual(['confirm']);
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByTestId('nav-runs').click();
  await expect(page.getByTestId('page-runs')).toBeVisible();
  await page.goBack();
  await expect(d.draftBanner).toBeVisible();
  await expect(d.node('subflow')).toBeVisible();
  await expect(d.version).toHaveText('v1');
});

test('text that is not JSON marks the workflow invalid, keeps Save waiting and is kept across selections', async ({
  page,
  pageErrors: _,
}) => {
  const d = new DesignerPage(page);
  await d.goto('new');
  await d.dropType('start', 140, 150);
  await d.dropType('end', 440, 150);
  await d.connect('start', 'next', 'end');
  await d.selectNothing();
  await d.field('name').fill('json-fields');
  const validity = page.getByTestId('designer-validity');
  await expect(validity).toHaveText('Valid');

  // Half-typed JSON in the end node's output: an error finding on that node, Save waits.
  await d.select('end');
  await d.field('output').fill('{"total": ');
  await expect(d.inspector.getByTestId('field-error')).toContainText('Not JSON yet');
  await expect(validity).toHaveText('1 error');
  await expect(d.finding('invalid_json', 'end')).toContainText(/Output \(template\)\s*of\s*end\s*is not valid JSON/);
  await expect(d.saveButton).toBeDisabled();

  // Another node selected and back: the text and its error are still there.
  await d.select('start');
  await d.select('end');
  await expect(d.field('output')).toHaveValue('{"total": ');
  await expect(d.inspector.getByTestId('field-error')).toContainText('Not JSON yet');
  await expect(validity).toHaveText('1 error');
  await d.screenshot('designer-edit-4-not-json');

  // The workflow's own JSON field counts too.
  await d.selectNothing();
  await d.field('input-schema').fill('{');
  await expect(validity).toHaveText('2 errors');
  await d.field('input-schema').fill('');
  await expect(validity).toHaveText('1 error');

  // Finished, it reaches the model: valid, and saved with it.
  await d.select('end');
  await d.field('output').fill('{"total": 3}');
  await expect(validity).toHaveText('Valid');
  await expect(d.saveButton).toBeEnabled();
  await d.saveButton.click();
  await expect(d.saveStatus).toHaveText('Saved as version 1');
  const stored = await (await page.request.get('/api/workflows/json-fields')).json();
  expect(stored.definition.nodes.find((n: any) => n.id === 'end').output).toEqual({ total: 3 });
});

test('a workflow that does not exist is said so, and can be created under that name', async ({ page, pageErrors: _ }) => {
  await page.goto('/workflows/no-such-flow-here');
  const missing = page.getByTestId('designer-missing');
  await expect(missing).toContainText('No workflow named no-such-flow-here');
  await expect(page.getByTestId('canvas')).toHaveCount(0);
  await page.setViewportSize({ width: 1024, height: 700 });
  await page.screenshot({ path: path.join(__dirname, '..', 'screenshots', 'designer-missing.png') });
  await missing.getByTestId('create-missing').click();
  const d = new DesignerPage(page);
  await expect(d.canvas).toBeVisible();
  await d.selectNothing();
  await expect(d.field('name')).toHaveValue('no-such-flow-here');
});

test('saving a new workflow under a taken name asks before adding a version to it', async ({
  page,
  request,
  pageErrors: _,
}) => {
  const taken = {
    name: 'taken-name',
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'done', type: 'end' },
    ],
    edges: [{ from: 'start', to: 'done' }],
  };
  expect((await request.put('/api/workflows/taken-name', { data: taken })).ok()).toBe(true);
  const d = new DesignerPage(page);
  await d.goto('new');
  await d.dropType('start', 150, 150);
  await d.dropType('end', 450, 150);
  await d.connect('start', 'next', 'end');
  await d.selectNothing();
  await d.field('name').fill('taken-name');

  page.once('dialog', (dialog) => {
    expect(dialog.message()).toContain('already exists (v1)');
    void dialog.dismiss();
  });
  await d.saveButton.click();
  await expect(d.saveButton).toBeEnabled();
  await expect(page).toHaveURL(/\/workflows\/new$/);
  expect((await (await request.get('/api/workflows/taken-name')).json()).version).toBe(1);

  page.once('dialog', (dialog) => void dialog.accept());
  await d.saveButton.click();
  await expect(d.saveStatus).toHaveText('Saved as version 2');
  await expect(page).toHaveURL(/\/workflows\/taken-name$/);
  await expect(d.version).toHaveText('v2');
  await d.screenshot('designer-edit-3-saved-over-taken-name');
});

test('the palette filters as you type and Enter adds the first type listed; a label names the node; tool buttons have names', async ({
  page,
  pageErrors: _,
}) => {
  const d = new DesignerPage(page);
  await d.goto('new');
  const search = page.getByTestId('palette-search');
  const visibleTypes = () =>
    page.locator('[data-testid^="palette-"].palette-item:visible').evaluateAll((els) =>
      els.map((el) => el.getAttribute('data-testid')!.replace('palette-', '')),
    );
  await search.fill('person');
  expect(await visibleTypes()).toEqual(['approval']);
  await search.fill('HTT');
  expect(await visibleTypes()).toEqual(['http']);
  await search.press('Enter');
  await expect(d.node('http')).toBeVisible();
  await expect(d.inspector.getByTestId('inspector-title')).toHaveText('http');
  await expect(search).toHaveValue('');
  expect((await visibleTypes()).length).toBeGreaterThan(10);
  // Labelled, a node still named after its type takes its id from the label.
  await d.field('label').fill('Charge card');
  await d.field('label').press('Tab');
  await expect(d.node('charge_card')).toBeVisible();
  await expect(d.node('http')).toHaveCount(0);
  await expect(d.field('id')).toHaveValue('charge_card');
  await search.fill('no such thing');
  await expect(page.getByTestId('palette-none')).toBeVisible();
  await search.press('Enter');
  await expect(d.nodes).toHaveCount(1);
  await search.press('Escape');
  await expect(search).toHaveValue('');

  await expect(page.getByTestId('undo')).toHaveAccessibleName('Undo');
  await expect(page.getByTestId('redo')).toHaveAccessibleName('Redo');
  await expect(d.canvas.getByTestId('zoom-in')).toHaveAccessibleName('Zoom in');
  await expect(d.canvas.getByTestId('zoom-out')).toHaveAccessibleName('Zoom out');
});
