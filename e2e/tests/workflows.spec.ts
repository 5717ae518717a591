// The workflows page: the list with versions and last runs, new, export, archive; and the
// designer's Run button, which checks the input against the schema and opens the run.
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from './fixtures/test';
import { DesignerPage } from './fixtures/designer_page';
import { WorkflowsPage } from './fixtures/workflows_page';

const examples = path.resolve(__dirname, '../../examples');
/** An example definition, saved under another name so scenarios do not share workflows. */
const example = (file: string, name: string) => ({
  ...JSON.parse(fs.readFileSync(path.join(examples, `${file}.json`), 'utf8')),
  name,
});

test('the list shows versions and last runs; export, archive and new work from it', async ({
  page,
  request,
  pageErrors: _,
}) => {
  const order = example('order-process', 'list-orders');
  const hook = example('webhook-deploy', 'list-deploys');
  // Two versions of one, one version of another, and a run of the first.
  expect((await request.put(`/api/workflows/${order.name}`, { data: order })).ok()).toBe(true);
  const v2 = { ...order, description: 'Second version.' };
  expect((await request.put(`/api/workflows/${order.name}`, { data: v2 })).ok()).toBe(true);
  expect((await request.put(`/api/workflows/${hook.name}`, { data: hook })).ok()).toBe(true);
  const run = await request.post(`/api/workflows/${order.name}/runs`, {
    data: { input: { order_id: 'o-1', amount: 5 } },
  });
  expect(run.status()).toBe(201);

  const list = new WorkflowsPage(page);
  await list.goto();
  await expect(list.row(order.name)).toBeVisible();
  await expect(list.row(order.name).getByTestId('workflow-version')).toHaveText('v2');
  await expect(list.row(order.name)).toContainText('Second version.');
  await expect(list.row(order.name).getByTestId('last-run-status')).toBeVisible();
  await expect(list.row(hook.name).getByTestId('workflow-version')).toHaveText('v1');
  await expect(list.row(hook.name)).toContainText('never run');
  await page.screenshot({ path: 'screenshots/workflows-1-list.png' });
  // At 1024 px the table fits: no sideways scroll, every row's actions in view.
  await page.setViewportSize({ width: 1024, height: 768 });
  const table = page.getByTestId('workflows-table');
  await page.screenshot({ path: 'screenshots/workflows-1-list-1024.png', fullPage: true });
  const fits = await table.evaluate((el) => el.scrollWidth <= el.clientWidth + 1 && document.documentElement.scrollWidth <= window.innerWidth);
  expect(fits, 'the workflows table fits at 1024 px').toBe(true);
  const menuBox = (await list.row(order.name).getByTestId('workflow-menu').boundingBox())!;
  expect(menuBox.x + menuBox.width).toBeLessThanOrEqual(1024);
  const menu = list.row(order.name).getByTestId('workflow-menu');
  const exportItem = list.row(order.name).getByTestId('export-workflow');
  await menu.click();
  await expect(exportItem).toBeVisible();
  await page.screenshot({ path: 'screenshots/workflows-1-list-1024-menu.png' });
  // Escape closes the menu, and so does a click elsewhere.
  await page.keyboard.press('Escape');
  await expect(exportItem).toBeHidden();
  await menu.click();
  await expect(exportItem).toBeVisible();
  await page.getByRole('heading', { name: 'Workflows' }).click();
  await expect(exportItem).toBeHidden();
  await page.setViewportSize({ width: 1280, height: 800 });

  // Preview draws the latest version read-only with the run console's renderer.
  await list.row(order.name).getByTestId('preview-workflow').click();
  const preview = page.getByTestId('workflow-preview');
  await expect(preview.locator('g.wf-node')).toHaveCount(order.nodes.length);
  // Other scenarios' workflows share the server, so the row may sit below the fold.
  await preview.scrollIntoViewIfNeeded();
  for (const n of order.nodes) await expect(preview.getByTestId(`node-${n.id}`)).toBeInViewport();
  await preview.getByTestId('node-charge').locator('.wf-node-label').click();
  await expect(page.getByTestId('preview-selected')).toHaveText('Selected: charge');
  await expect(preview.getByTestId('node-charge')).toHaveClass(/selected/);
  await page.screenshot({ path: 'screenshots/workflows-1b-preview.png' });
  await list.row(order.name).getByTestId('preview-workflow').click();
  await expect(preview).toHaveCount(0);

  // Export downloads the latest definition.
  const download = page.waitForEvent('download');
  await expect(list.row(order.name).getByTestId('export-workflow')).toBeHidden();
  await list.row(order.name).getByTestId('workflow-menu').click();
  await list.row(order.name).getByTestId('export-workflow').click();
  const file = await download;
  expect(file.suggestedFilename()).toBe(`${order.name}.json`);
  const exported = JSON.parse(fs.readFileSync(await file.path(), 'utf8'));
  expect(exported.description).toBe('Second version.');
  expect(exported.nodes.length).toBe(order.nodes.length);

  // Archive asks first, then the row goes.
  page.once('dialog', (dialog) => void dialog.accept());
  await list.row(hook.name).getByTestId('workflow-menu').click();
  await expect(list.row(hook.name).getByTestId('archive-workflow')).toHaveText('Archive…');
  await list.row(hook.name).getByTestId('archive-workflow').click();
  await expect(list.row(hook.name)).toHaveCount(0);
  await expect(list.row(order.name)).toBeVisible();

  // Open goes to the designer; New to an empty one.
  await list.row(order.name).getByTestId('workflow-link').click();
  await expect(page).toHaveURL(new RegExp(`/workflows/${order.name}$`));
  const d = new DesignerPage(page);
  await expect(d.nodes).toHaveCount(order.nodes.length);
  await expect(d.version).toHaveText('v2');
  await page.getByTestId('designer-back').click();
  await page.getByTestId('new-workflow').click();
  await expect(page).toHaveURL(/\/workflows\/new$/);
  await expect(d.nodes).toHaveCount(0);
});

test('Run checks the input against the schema, starts a run and opens it', async ({ page, request, pageErrors: _ }) => {
  const order = example('order-process', 'run-orders');
  expect((await request.put(`/api/workflows/${order.name}`, { data: order })).ok()).toBe(true);
  const d = new DesignerPage(page);
  await d.goto(order.name);
  await page.getByTestId('run-button').click();
  const dialog = page.getByTestId('start-run-dialog');
  await expect(dialog).toBeVisible();
  const input = dialog.getByTestId('start-input');
  // Prefilled from the schema's required properties.
  expect(JSON.parse(await input.inputValue())).toEqual({ order_id: '', amount: 0 });

  await input.fill('{"order_id": 7}');
  await expect(dialog.getByTestId('start-input-problems')).toContainText('amount');
  await expect(dialog.getByTestId('start-submit')).toBeDisabled();
  await page.screenshot({ path: 'screenshots/workflows-2-run-dialog-invalid.png' });
  await input.fill('{"order_id": "o-7", "amount": 12.5}');
  await expect(dialog.getByTestId('start-input-ok')).toBeVisible();
  await dialog.getByTestId('start-submit').click();

  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId('page-run')).toBeVisible();
  const id = page.url().split('/').pop();
  const started = await (await request.get(`/api/runs/${id}`)).json();
  expect(started.workflow).toBe(order.name);
  expect(started.input).toEqual({ order_id: 'o-7', amount: 12.5 });
});

test('the designer is usable at 1024 wide', async ({ page, request, pageErrors: _ }) => {
  const order = example('order-process', 'narrow-orders');
  expect((await request.put(`/api/workflows/${order.name}`, { data: order })).ok()).toBe(true);
  await page.setViewportSize({ width: 1024, height: 768 });
  const d = new DesignerPage(page);
  await d.goto(order.name);
  await expect(d.nodes).toHaveCount(order.nodes.length);
  await expect(d.saveButton).toBeInViewport();
  await expect(page.getByTestId('palette-http')).toBeInViewport();
  await d.select('charge');
  await expect(d.inspector.getByTestId('retry-schedule')).toHaveText(
    '5 attempts; waits 1s → 2s → 4s → 8s between them',
  );
  await page.screenshot({ path: 'screenshots/workflows-3-designer-1024.png' });
  await d.selectNothing();
  await d.field('webhook').check();
  await d.field('webhook-secret').fill('ORDERS_HOOK');
  await expect(d.inspector.getByTestId('webhook-curl')).toContainText('WEFT_HOOK_SECRET_ORDERS_HOOK');
  await expect(d.inspector.getByTestId('webhook-url')).toHaveText(/\/hooks\/narrow-orders$/);
  await d.inspector.getByTestId('webhook-curl').scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'screenshots/workflows-4-webhook-1024.png' });
});

test('Start run on the runs page checks the input against the schema of the workflow picked', async ({
  page,
  request,
  pageErrors: _,
}) => {
  const order = example('order-process', 'start-orders');
  expect((await request.put(`/api/workflows/${order.name}`, { data: order })).ok()).toBe(true);
  await page.goto(`/runs?workflow=${order.name}`);
  await page.getByTestId('start-run').click();
  const dialog = page.getByTestId('start-run-dialog');
  await expect(dialog.getByTestId('start-workflow')).toHaveValue(order.name);
  const input = dialog.getByTestId('start-input');
  // The same dialog as the designer's: prefilled from the schema, checked as it is typed.
  await expect.poll(async () => JSON.parse(await input.inputValue())).toEqual({ order_id: '', amount: 0 });
  await input.fill('{"order_id": 7}');
  await expect(dialog.getByTestId('start-input-problems')).toContainText('amount');
  await expect(dialog.getByTestId('start-submit')).toBeDisabled();
  await input.fill('{"order_id": "o-8", "amount": 3}');
  await expect(dialog.getByTestId('start-input-ok')).toContainText('Matches the input schema');
  await dialog.getByTestId('start-submit').click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
});
