// Scenarios for the runs page (issue 7): newest first, filtered, and live.
import path from 'node:path';
import { expect, test } from './fixtures/test';
import { Target, approvalWorkflow, saveWorkflow, startRun, uniqueName } from './fixtures/console_target';
import { RunsPage } from './fixtures/run_page';

let target: Target;

test.beforeAll(async () => {
  target = await Target.start();
});

test.afterAll(async () => {
  await target.stop();
});

test('new runs appear and change status without a reload; filters narrow the list', async ({
  page,
  request,
  pageErrors: _errors,
}) => {
  const name = uniqueName('list');
  await saveWorkflow(request, approvalWorkflow(name, target));
  const first = await startRun(request, name, { order_id: 'E1' });
  const runs = new RunsPage(page);
  await runs.goto(`?workflow=${name}`);
  await expect(runs.rows).toHaveCount(1);
  await expect(runs.workflowFilter).toHaveValue(name);
  let loads = 0;
  page.on('load', () => (loads += 1));

  // A run started elsewhere shows up on top, running.
  const second = await startRun(request, name, { order_id: 'E2' });
  await expect(runs.rows).toHaveCount(2);
  await expect(runs.rows.first()).toHaveAttribute('data-run', second);
  await expect(runs.row(second)).toHaveAttribute('data-status', 'running');

  // Its approval is decided elsewhere: the row turns completed.
  await expect
    .poll(async () => (await (await request.get(`/api/runs/${second}`)).json()).nodes.approve.status)
    .toBe('waiting');
  const res = await request.post(`/api/runs/${second}/approvals/approve`, { data: { decision: 'approve' } });
  expect(res.ok()).toBeTruthy();
  await expect(runs.row(second)).toHaveAttribute('data-status', 'completed');
  await expect(runs.row(first)).toHaveAttribute('data-status', 'running');
  expect(loads, 'the page never reloaded').toBe(0);
  await page.screenshot({ path: path.join(shots(), 'runs.png'), fullPage: true });

  // Filter by status.
  await runs.statusFilter.selectOption('completed');
  await expect(page).toHaveURL(/status=completed/);
  await expect(runs.rows).toHaveCount(1);
  await expect(runs.rows.first()).toHaveAttribute('data-run', second);
  await runs.statusFilter.selectOption('running');
  await expect(runs.rows).toHaveCount(1);
  await expect(runs.rows.first()).toHaveAttribute('data-run', first);

  // A row opens its run.
  await runs.rows.first().getByRole('link').first().click();
  await expect(page).toHaveURL(new RegExp(`/runs/${first}$`));
  await expect(page.getByTestId('page-run')).toBeVisible();
});

function shots() {
  return path.join(__dirname, '..', 'screenshots');
}

test('runs come 25 to a page when asked, newest first, with older and newer pages', async ({ page, request, pageErrors: _errors }) => {
  const name = uniqueName('pages');
  await saveWorkflow(request, approvalWorkflow(name, target));
  const ids: string[] = [];
  for (let i = 0; i < 27; i += 1) ids.push(await startRun(request, name, { order_id: `P${i}` }));
  const runs = new RunsPage(page);
  await runs.goto(`?workflow=${name}&limit=25`);

  await expect(runs.rows).toHaveCount(25);
  await expect(runs.rows.first()).toHaveAttribute('data-run', ids[26]);
  await expect(page.getByTestId('page-newer')).toBeDisabled();
  await page.getByTestId('page-older').click();
  await expect(runs.rows).toHaveCount(2);
  await expect(runs.rows.first()).toHaveAttribute('data-run', ids[1]);
  await expect(runs.rows.last()).toHaveAttribute('data-run', ids[0]);
  await expect(page.getByTestId('page-older')).toBeDisabled();
  await page.getByTestId('page-newer').click();
  await expect(runs.rows).toHaveCount(25);
  await expect(runs.rows.first()).toHaveAttribute('data-run', ids[26]);
});

test('Start run with no workflow filter offers a workflow, also when opened again', async ({
  page,
  request,
  pageErrors: _errors,
}) => {
  const name = uniqueName('pick');
  await saveWorkflow(request, approvalWorkflow(name, target));
  const runs = new RunsPage(page);
  await runs.goto('');
  // The list of workflows is in before the dialog opens: it must still pick one.
  await expect(runs.workflowFilter.locator('option', { hasText: name })).toHaveCount(1);
  for (let open = 0; open < 2; open += 1) {
    await runs.startButton.click();
    await expect(runs.startWorkflow).not.toHaveValue('');
    await page.getByTestId('start-cancel').click();
  }
});
