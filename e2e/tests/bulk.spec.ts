// Bulk actions on the runs page (issue 15): tick rows, or every run the filter matches,
// cancel them after a confirmation that shows the server's count, and watch the batch's
// progress until each run is cancelled.
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

function shots(): string {
  return path.join(__dirname, '..', 'screenshots');
}

test('bulk-cancel every run a filter matches, with the count first and the progress after', async ({
  page,
  request,
  pageErrors: _errors,
}) => {
  const name = uniqueName('bulk');
  await saveWorkflow(request, approvalWorkflow(name, target));
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    ids.push(await startRun(request, name, { order_id: `B${i}` }));
  }
  const runs = new RunsPage(page);
  await runs.goto(`?workflow=${name}`);
  await expect(runs.rows).toHaveCount(4);
  await expect(page.getByTestId('bulk-bar')).toHaveCount(0);

  // One row ticked: the bar counts it; then the whole page, then every match.
  await runs.row(ids[0]).getByTestId('pick-run').check();
  await expect(page.getByTestId('bulk-count')).toHaveText('1 selected');
  await page.getByTestId('pick-page').check();
  await expect(page.getByTestId('bulk-count')).toHaveText('4 selected');
  await page.getByTestId('bulk-all').click();
  await expect(page.getByTestId('bulk-count')).toHaveText('every run matching this filter');

  // The confirmation shows the dry run's count; Escape leaves without acting.
  await page.getByTestId('bulk-cancel').click();
  await expect(page.getByTestId('bulk-matched')).toContainText('4 runs');
  await page.screenshot({ path: path.join(shots(), 'bulk-confirm.png') });
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('bulk-dialog')).toHaveCount(0);
  for (const id of ids) {
    expect((await (await request.get(`/api/runs/${id}`)).json()).status).toBe('running');
  }

  await page.getByTestId('bulk-cancel').click();
  await expect(page.getByTestId('bulk-matched')).toContainText('4 runs');
  await page.getByTestId('bulk-confirm').click();
  await expect(page.getByTestId('bulk-state')).toHaveText('Done.');
  await expect(page.getByTestId('bulk-progress')).toHaveText('4 / 4 settled · 4 done');
  await page.screenshot({ path: path.join(shots(), 'bulk-done.png') });
  await page.getByTestId('bulk-close').click();
  for (const id of ids) {
    await expect(runs.row(id)).toHaveAttribute('data-status', 'cancelled');
  }
  await expect(page.getByTestId('bulk-bar')).toHaveCount(0);
});
