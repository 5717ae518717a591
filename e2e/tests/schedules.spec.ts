// Schedules (issue 14): a schedule is added in the designer's workflow settings, checked as
// it is typed and previewed with its next fire times; the schedules page lists it, pauses,
// resumes and triggers it, and backfills a range after counting it.
import type { APIRequestContext } from '@playwright/test';
import { expect, test } from './fixtures/test';
import { saveWorkflow, uniqueName } from './fixtures/console_target';
import { DesignerPage } from './fixtures/designer_page';
import { ScheduleForm, SchedulesPage } from './fixtures/schedules_page';

// The backfill range is picked in the browser's time: pin it, so the range below means the
// same days wherever the suite runs.
test.use({ timezoneId: 'Europe/Berlin' });

const DAY = 86_400_000;

/** The schedule as `GET /api/schedules` has it. */
async function serverSchedule(request: APIRequestContext, workflow: string, index: number) {
  const res = await request.get('/api/schedules');
  expect(res.ok()).toBeTruthy();
  const list = (await res.json()).schedules as any[];
  return list.find((s) => s.workflow === workflow && s.index === index);
}

test('a schedule made in the designer is listed, paused, resumed, triggered and backfilled', async ({
  page,
  request,
  pageErrors: _,
}) => {
  const name = uniqueName('nightly');
  await saveWorkflow(request, {
    name,
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'done', type: 'end' },
    ],
    edges: [{ from: 'start', to: 'done' }],
  });

  // The designer: with nothing selected, the workflow's settings, with their schedules.
  const d = new DesignerPage(page);
  await d.goto(name);
  await expect(d.inspector.getByTestId('inspector-title')).toHaveText('Workflow settings');
  const form = await ScheduleForm.add(d.inspector);
  await expect(form.cronError).toContainText('Required');

  // Checked as typed: the parser's own message under the field, and a validator finding.
  await form.cron.fill('0 2 * *');
  await expect(form.cronError).toContainText('has 4 fields');
  await expect(form.cron).toHaveClass(/invalid/);
  await expect(d.findings.filter({ hasText: 'invalid_cron' })).toHaveCount(1);
  await expect(form.fires).toHaveCount(0);
  await form.cron.fill('0 2 * * *');
  await expect(form.cronError).toHaveCount(0);
  await expect(d.findings.filter({ hasText: 'invalid_cron' })).toHaveCount(0);

  await form.timezone.fill('Mars/Olympus');
  await expect(form.timezoneError).toContainText('Mars/Olympus');
  await expect(form.fires).toHaveCount(0);
  await form.timezone.fill('Europe/Berlin');
  await expect(form.timezoneError).toHaveCount(0);

  // The next five fire times, on Berlin's wall clock: 02:00 on five days in a row.
  await expect(form.fires).toHaveCount(5);
  const texts = await form.fires.allInnerTexts();
  const days = texts.map((t) => {
    const m = /^\w{3} (\d{4}-\d{2}-\d{2}) 02:00 CES?T$/.exec(t);
    expect(m, t).not.toBeNull();
    return Date.parse(`${m![1]}T00:00:00Z`);
  });
  for (let i = 1; i < days.length; i++) expect(days[i] - days[i - 1]).toBe(DAY);
  // The first is the next one: within a day from now.
  const first = Date.parse((await form.fires.first().getAttribute('title'))!);
  expect(first).toBeGreaterThan(Date.now());
  expect(first - Date.now()).toBeLessThanOrEqual(DAY);

  await form.overlap.selectOption('buffer_one');
  await form.root.scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'screenshots/schedules-editor.png' });

  await d.saveButton.click();
  await expect(d.saveStatus).toHaveText('Saved as version 2');
  const saved = await (await request.get(`/api/workflows/${name}`)).json();
  expect(saved.definition.triggers.schedules).toEqual([
    { cron: '0 2 * * *', timezone: 'Europe/Berlin', overlap: 'buffer_one' },
  ]);

  // The schedules page, from the top bar.
  await page.getByTestId('nav-schedules').click();
  const schedules = new SchedulesPage(page);
  await expect(schedules.root).toBeVisible();
  const row = schedules.row(name, 0);
  await expect(row.getByTestId('schedule-cron')).toHaveText('0 2 * * *');
  await expect(row.getByTestId('schedule-zone')).toHaveText('Europe/Berlin · buffer_one');
  await expect(row.getByTestId('schedule-state')).toHaveText('active');
  await expect(row.getByTestId('schedule-last-run')).toHaveText('none yet');
  const server = await serverSchedule(request, name, 0);
  await expect(row.getByTestId('schedule-next')).toHaveAttribute('data-at', String(server.next_fire_at));
  expect(server.next_fire_at).toBe(first);
  await expect(row.getByTestId('schedule-workflow')).toHaveAttribute('href', `/workflows/${name}`);

  // Pause, then resume: the row and the server agree.
  await row.getByTestId('schedule-pause').click();
  await expect(row.getByTestId('schedule-state')).toHaveText('paused');
  await expect(row.getByTestId('schedule-next')).toHaveText('paused');
  expect((await serverSchedule(request, name, 0)).paused).toBe(true);
  await row.getByTestId('schedule-resume').click();
  await expect(row.getByTestId('schedule-state')).toHaveText('active');
  expect((await serverSchedule(request, name, 0)).paused).toBe(false);

  // Trigger now: the started run's link, and the run is the schedule's last.
  await row.getByTestId('schedule-trigger').click();
  const started = row.getByTestId('schedule-started').getByRole('link');
  await expect(started).toBeVisible();
  const href = (await started.getAttribute('href'))!;
  const runId = href.replace('/runs/', '');
  const run = await (await request.get(`/api/runs/${runId}`)).json();
  expect(run.workflow).toBe(name);
  expect(run.trigger.schedule).toBe(0);
  await expect(row.getByTestId('schedule-last-run')).toHaveAttribute('href', href);
  await page.screenshot({ path: 'screenshots/schedules-page.png' });

  // Backfill three days: counted first, then started, then counted as there.
  const [from, to] = ['2026-01-10T00:00', '2026-01-13T00:00'];
  const fires = (Date.parse(`${to}:00+01:00`) - Date.parse(`${from}:00+01:00`)) / DAY;
  await schedules.backfill(row, from, to);
  await expect(schedules.dialog.getByTestId('backfill-count')).toHaveText(
    `This will start ${fires} runs (0 already exist).`,
  );
  await page.screenshot({ path: 'screenshots/schedules-backfill.png' });
  await schedules.dialog.getByTestId('backfill-confirm').click();
  await expect(schedules.dialog.getByTestId('backfill-result')).toContainText(`Started ${fires} runs`);
  const list = await (await request.get(`/api/runs?workflow=${name}&limit=100`)).json();
  const backfilled = list.runs.filter((r: any) => r.id.startsWith(`sched-${name}-0-`) && !r.id.includes('-now-'));
  expect(backfilled).toHaveLength(fires);
  await schedules.dialog.getByTestId('backfill-close').click();
  await expect(schedules.dialog).toHaveCount(0);

  // One more day in front: one new, the rest already there.
  await schedules.backfill(row, '2026-01-09T00:00', to);
  await expect(schedules.dialog.getByTestId('backfill-count')).toHaveText(
    `This will start 1 run (${fires} already exist).`,
  );
  await schedules.dialog.getByTestId('backfill-to').fill('2026-01-08T00:00');
  await expect(schedules.dialog.getByTestId('backfill-range-error')).toHaveText('The end must come after the start.');
  await expect(schedules.dialog.getByTestId('backfill-confirm')).toBeDisabled();
  await page.keyboard.press('Escape');
  await expect(schedules.dialog).toHaveCount(0);
});

test('the page says where schedules are added when there are none, and why it shows none when it cannot read them', async ({
  page,
  pageErrors: _,
}) => {
  // The suite shares one database, so the server's answer is stood in for here.
  const schedules = new SchedulesPage(page);
  await page.route('**/api/schedules', (route) => route.fulfill({ json: { schedules: [] } }));
  await schedules.goto();
  await expect(schedules.empty).toContainText('+ Add schedule');
  await expect(schedules.empty.getByRole('link')).toHaveAttribute('href', '/workflows');
  await expect(schedules.rows).toHaveCount(0);

  await page.unroute('**/api/schedules');
  await page.route('**/api/schedules', (route) =>
    route.fulfill({ status: 503, json: { error: { code: 'unavailable', message: 'the database is away' } } }),
  );
  await page.reload();
  await expect(page.getByTestId('schedules-error')).toContainText('the database is away');
  await expect(schedules.empty).toHaveCount(0);
});
