// Scenarios for a run's page (issue 7): the console follows a run live from its event stream,
// lets a person approve, reject, signal and cancel, and draws the run's timeline and history.
// The http nodes call a local service started here; runs go through the real `weft serve`.
import path from 'node:path';
import { expect, test } from './fixtures/test';
import {
  Target,
  approvalWorkflow,
  events,
  saveWorkflow,
  serverNodeStatus,
  signalWorkflow,
  startRun,
  uniqueName,
} from './fixtures/console_target';
import { RunPage, RunsPage } from './fixtures/run_page';

const shots = path.join(__dirname, '..', 'screenshots');
let target: Target;

test.beforeAll(async () => {
  target = await Target.start();
});

test.afterAll(async () => {
  await target.stop();
});

test('a run started from the console is followed live, approved, and timed attempt by attempt', async ({
  page,
  request,
  pageErrors: _errors,
}) => {
  const name = uniqueName('approve');
  await saveWorkflow(request, approvalWorkflow(name, target));
  const runs = new RunsPage(page);
  await runs.goto(`?workflow=${name}`);
  let loads = 0;
  page.on('load', () => (loads += 1));

  // Start it from the runs page and land on its page.
  await runs.startButton.click();
  await expect(runs.startWorkflow).toHaveValue(name);
  await runs.startInput.fill('{"order_id": "A1"}');
  await runs.startSubmit.click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  const run = new RunPage(page);
  const id = page.url().split('/').pop()!;

  // The charge fails twice, then succeeds; the approval waits, all without a reload.
  await run.expectNode('charge', 'completed');
  await run.expectNode('approve', 'waiting');
  await run.expectNode('ship', 'pending');
  await expect(run.status).toHaveText('running');
  await expect(run.link).toHaveText('Live');
  await expect(run.prompt).toHaveText('Ship order A1?');

  await run.node('charge').click();
  await expect(run.nodeDetails.getByTestId('node-details-attempts')).toHaveText('3 of 4');
  await expect(run.nodeDetails.getByTestId('node-details-status')).toHaveText('completed');

  // The timeline: one bar per attempt, coloured by outcome, backoff between them, a wait.
  await expect(run.bars('charge', 'attempt')).toHaveCount(3);
  const outcomes = await run.bars('charge', 'attempt').evaluateAll((bars) => bars.map((b) => b.getAttribute('data-outcome')));
  expect(outcomes).toEqual(['failed', 'failed', 'completed']);
  await expect(run.bars('charge', 'backoff')).toHaveCount(2);
  await expect(run.bars('approve', 'wait')).toHaveAttribute('data-outcome', 'open');
  await page.screenshot({ path: path.join(shots, 'run-waiting.png'), fullPage: true });

  // Approve, with a comment: the run goes on and completes.
  await run.comment.fill('looks fine');
  await run.approveButton.click();
  await expect(run.status).toHaveText('completed');
  await run.expectNode('approve', 'completed');
  await run.expectNode('ship', 'completed');
  await run.expectNode('done', 'completed');
  await expect(run.link).toHaveText('Finished');
  await expect(run.approveButton).toHaveCount(0);
  await expect(run.cancelButton).toHaveCount(0);
  expect(loads, 'the page never reloaded').toBe(0);

  // A bar's tooltip and details.
  await run.bars('charge', 'attempt').first().hover();
  await expect(run.tooltip).toContainText('Attempt 1');
  await expect(run.tooltip).toContainText('HTTP 503');
  await run.bars('charge', 'attempt').first().click();
  await expect(run.barDetails).toContainText('charge · Attempt 1');
  await expect(run.barDetails.getByTestId('bar-error')).toContainText('HTTP 503');
  await expect(run.bars('approve', 'wait')).toHaveAttribute('data-outcome', 'completed');
  await expect(run.bars('ship', 'attempt')).toHaveCount(1);

  // Zoom in: the chart gets wider than its frame.
  await page.getByTestId('timeline-zoom-in').click();
  await page.getByTestId('timeline-zoom-in').click();
  await expect(page.getByTestId('timeline-zoom-level')).toHaveText('×4');
  await page.mouse.move(0, 0);
  await run.timeline.screenshot({ path: path.join(shots, 'run-timeline-zoomed.png') });
  await page.getByTestId('timeline-zoom-fit').click();

  // The history, the same as the server's, filterable by node, each event's data expandable.
  const all = await events(request, id);
  await expect(run.historyEvents).toHaveCount(all.length);
  await run.historyFilter.selectOption('charge');
  // Three attempts: started, failed (or completed), and each one's http exchange.
  await expect(run.historyEvents).toHaveCount(all.filter((e) => e.node === 'charge').length);
  const failed = run.history.locator('[data-type="attempt_failed"]').first();
  await failed.locator('summary').click();
  await expect(failed.getByTestId('history-data')).toContainText('"retry_at"');

  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(shots, 'run-completed.png'), fullPage: true });
  await run.timeline.screenshot({ path: path.join(shots, 'run-timeline.png') });

  // Run again: the same workflow and input, on a new run's page.
  await page.getByTestId('run-again').click();
  await expect(runs.startWorkflow).toHaveValue(name);
  expect(JSON.parse(await runs.startInput.inputValue())).toEqual({ order_id: 'A1' });
  await runs.startSubmit.click();
  await expect(page).not.toHaveURL(new RegExp(id));
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  await run.expectNode('approve', 'waiting');
  await expect(run.prompt).toHaveText('Ship order A1?');
  expect(loads, 'the page never reloaded').toBe(0);
});

test('a retrying node shows its attempt and when the next one starts, then fails the run', async ({
  page,
  request,
  pageErrors: _errors,
}) => {
  const name = uniqueName('retry');
  const definition = approvalWorkflow(name, target);
  // Two attempts, 5 s apart (room for a loaded machine to open the page in between): both
  // meet the service's two 503s.
  (definition.nodes[1] as any).retry = { max_attempts: 2, initial_interval: '5s', backoff_coefficient: 2 };
  await saveWorkflow(request, definition);
  const id = await startRun(request, name, { order_id: 'R1' });
  const run = new RunPage(page);
  await run.goto(id);

  await run.expectNode('charge', 'retrying');
  await expect(run.node('charge').getByTestId('node-badge')).toHaveText(/^1\/2·\ds$/);
  await run.node('charge').click();
  await expect(run.nodeDetails.getByTestId('node-details-due')).toContainText(/Next attempt (in \d+ s|just now)/);
  await expect(run.nodeDetails.getByTestId('node-details-error')).toContainText('HTTP 503');
  await expect(run.bars('charge', 'backoff')).toHaveAttribute('data-outcome', 'open');
  await page.screenshot({ path: path.join(shots, 'run-retrying.png') });

  await run.expectNode('charge', 'failed');
  await expect(run.status).toHaveText('failed');
  await expect(run.node('charge').getByTestId('node-badge')).toHaveText('2/2');
  await expect(run.nodeDetails.getByTestId('node-details-attempts')).toHaveText('2 of 2');
  await expect(run.runError).toContainText('HTTP 503');
  const outcomes = await run.bars('charge').evaluateAll((bars) => bars.map((b) => `${b.getAttribute('data-kind')}:${b.getAttribute('data-outcome')}`));
  expect(outcomes).toEqual(['attempt:failed', 'backoff:completed', 'attempt:failed']);
  await expect(run.approveButton).toHaveCount(0);
});

test('rejecting an approval fails the run and says why', async ({ page, request, pageErrors: _errors }) => {
  const name = uniqueName('reject');
  await saveWorkflow(request, approvalWorkflow(name, target));
  const id = await startRun(request, name, { order_id: 'B2' });
  const run = new RunPage(page);
  await run.goto(id);

  await expect(run.prompt).toHaveText('Ship order B2?');
  await run.comment.fill('not today');
  await run.rejectButton.click();

  await expect(run.status).toHaveText('failed');
  await run.expectNode('approve', 'failed');
  await run.expectNode('ship', 'pending');
  await expect(run.runError).toContainText('rejected by local: not today');
  await expect(run.bars('approve', 'wait')).toHaveAttribute('data-outcome', 'failed');
  await page.screenshot({ path: path.join(shots, 'run-rejected.png'), fullPage: true });
});

test('cancelling asks first, runs the on_cancel path and ends cancelled', async ({
  page,
  request,
  pageErrors: _errors,
}) => {
  const name = uniqueName('cancel');
  await saveWorkflow(request, approvalWorkflow(name, target));
  const id = await startRun(request, name, { order_id: 'C3' });
  const run = new RunPage(page);
  await run.goto(id);
  await run.expectNode('approve', 'waiting');

  // Backing out of the confirmation changes nothing.
  await run.cancelButton.click();
  await page.getByRole('button', { name: 'Keep running' }).click();
  await expect(page.getByTestId('cancel-dialog')).toHaveCount(0);
  await expect(run.status).toHaveText('running');

  await run.cancelButton.click();
  await run.cancelReason.fill('customer called');
  await page.screenshot({ path: path.join(shots, 'run-cancel-dialog.png') });
  await run.cancelConfirm.click();

  await expect(run.status).toHaveText('cancelled');
  await run.expectNode('approve', 'cancelled');
  await run.expectNode('refund', 'completed');
  await run.expectNode('refunded', 'completed');
  await expect(run.cancelButton).toHaveCount(0);
  await expect(run.approveButton).toHaveCount(0);
  expect(target.hits.get(`/ok/refund/${name}`)).toBe(1);
  await expect(run.history.locator('[data-type="cancel_requested"]')).toHaveCount(1);
  await expect(page.getByTestId('run-cancelled')).toHaveText('Cancelled: customer called');
  await page.screenshot({ path: path.join(shots, 'run-cancelled.png'), fullPage: true });
});

test('a cancel whose answer comes after the stream has shown it ends cleanly', async ({
  page,
  request,
  pageErrors: _errors,
}) => {
  const name = uniqueName('late');
  await saveWorkflow(request, approvalWorkflow(name, target));
  const id = await startRun(request, name, { order_id: 'L1' });
  const run = new RunPage(page);
  await run.goto(id);
  await run.expectNode('approve', 'waiting');
  // The server's answer is held until the page shows the cancel from the run's stream, so the
  // cancel control that sent it is gone when the answer arrives.
  await page.route(`**/api/runs/${id}/cancel`, async (route) => {
    const response = await route.fetch();
    await expect(run.status).toHaveText('cancelled');
    await expect(run.cancelButton).toHaveCount(0);
    await route.fulfill({ response });
  });
  await run.cancelButton.click();
  await run.cancelConfirm.click();
  await page.waitForEvent('requestfinished', (r) => r.url().endsWith(`/api/runs/${id}/cancel`));
  // The page goes on working (after the answer was handled): Run again opens its dialog.
  await page.getByTestId('run-again').click();
  await expect(new RunsPage(page).startWorkflow).toHaveValue(name);
});

test('after a reload mid-run the page resumes live updates, and a signal can be sent', async ({
  page,
  request,
  pageErrors: _errors,
}) => {
  const name = uniqueName('signal');
  // A second signal, `other`, taken after `paid`: sent first, it is kept until its node waits.
  const definition = signalWorkflow(name, target);
  definition.nodes.splice(4, 0, { id: 'note', type: 'signal', signal: 'other' });
  definition.edges.splice(3, 1, { from: 'paid', to: 'note' }, { from: 'note', to: 'done' });
  await saveWorkflow(request, definition);
  const id = await startRun(request, name, {});
  const run = new RunPage(page);
  await run.goto(id);
  await run.expectNode('paid', 'waiting');

  await page.reload();
  await run.expectNode('call', 'completed');
  await run.expectNode('paid', 'waiting');
  await expect(run.link).toHaveText('Live');
  // The replayed history is not doubled.
  await expect(run.historyEvents).toHaveCount((await events(request, id)).length);

  // Someone else's action shows up live after the reload.
  const res = await request.post(`/api/runs/${id}/signals/other`, { data: { payload: { ignored: true } } });
  expect(res.ok()).toBeTruthy();
  await expect(run.history.locator('[data-type="signal_received"]')).toHaveCount(1);

  // Send the awaited signal from the page, with a JSON payload.
  const card = page.getByTestId('signal-paid');
  await card.getByTestId('signal-payload').fill('{"amount": 5');
  await card.getByTestId('signal-send').click();
  await expect(card.getByRole('alert')).toContainText('not valid JSON');
  await page.screenshot({ path: path.join(shots, 'run-signal.png') });
  await card.getByTestId('signal-payload').fill('{"amount": 5}');
  await card.getByTestId('signal-send').click();

  await expect(run.status).toHaveText('completed');
  await run.expectNode('paid', 'completed');
  await serverNodeStatus(request, id, 'done', 'completed');
  // The timer and the signal were waits, drawn as such.
  await expect(run.bars('pause', 'wait')).toHaveAttribute('aria-label', 'pause: Waiting (timer)');
  await expect(run.bars('pause', 'wait')).toHaveAttribute('data-outcome', 'completed');
  await expect(run.bars('paid', 'wait')).toHaveAttribute('aria-label', 'paid: Waiting (signal)');
  await expect(run.historyEvents).toHaveCount((await events(request, id)).length);
  await expect(page.getByTestId('run-data')).toContainText('"amount": 5');
});

test('after a dropped connection the page reconnects without doubling the history, and a finished run is not redialled', async ({
  page,
  request,
  pageErrors: _errors,
}) => {
  const name = uniqueName('drop');
  await saveWorkflow(request, signalWorkflow(name, target));
  const id = await startRun(request, name, {});
  await serverNodeStatus(request, id, 'paid', 'waiting');
  const history = await events(request, id);

  // The first connection carries two events, then drops (and asks to be retried quickly).
  // The browser dials again by itself; whatever the server replays, the page keeps each
  // event once.
  let reconnects = 0;
  let first = true;
  await page.route(`**/api/runs/${id}/stream*`, async (route) => {
    if (first) {
      first = false;
      const body = history
        .slice(0, 2)
        .map((e) => `retry: 200\nid: ${e.seq}\nevent: run_event\ndata: ${JSON.stringify(e)}\n\n`)
        .join('');
      await route.fulfill({ status: 200, headers: { 'content-type': 'text/event-stream' }, body });
    } else {
      reconnects += 1;
      await route.continue();
    }
  });
  const run = new RunPage(page);
  await run.goto(id);

  await expect.poll(() => reconnects).toBe(1);
  await run.expectNode('paid', 'waiting');
  await expect(run.link).toHaveText('Live');
  await expect(run.historyEvents).toHaveCount(history.length);

  const res = await request.post(`/api/runs/${id}/signals/paid`, { data: { payload: { ok: 1 } } });
  expect(res.ok()).toBeTruthy();
  await expect(run.status).toHaveText('completed');
  await expect(run.link).toHaveText('Finished');
  await expect(run.historyEvents).toHaveCount((await events(request, id)).length);
  // The server ended the stream after the final event; the page does not dial again
  // (a browser retries a closed stream after about 3 s).
  await page.waitForTimeout(4000);
  expect(reconnects).toBe(1);
});

test('a refused stream is reported, and "Try now" connects again', async ({ page, request, pageErrors: _errors }) => {
  const name = uniqueName('refused');
  await saveWorkflow(request, signalWorkflow(name, target));
  const id = await startRun(request, name, {});
  await page.route(`**/api/runs/${id}/stream*`, (route) =>
    route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":{"code":"unavailable","message":"down"}}' }),
  );
  const run = new RunPage(page);
  await run.goto(id);
  await expect(run.link).toHaveText('Reconnecting…');
  await expect(run.banner).toBeVisible();
  // Refused again and again, the page waits longer each time (0.5 s, 1 s, 2 s, 4 s …): once
  // the next try is seconds away, "Try now" does not wait for it.
  await expect(run.banner.getByTestId('connection-next-try')).toHaveText(/Next try in ([3-9]|10) s\./, {
    timeout: 20_000,
  });

  await page.unroute(`**/api/runs/${id}/stream*`);
  await run.tryNow.click();
  await expect(run.link).toHaveText('Live');
  await run.expectNode('paid', 'waiting');
  await expect(run.banner).toHaveCount(0);
});

test('when someone else decides first, the page says so plainly and shows the outcome', async ({
  page,
  request,
  pageErrors: _errors,
}) => {
  const name = uniqueName('conflict');
  await saveWorkflow(request, approvalWorkflow(name, target));
  const id = await startRun(request, name, { order_id: 'D4' });
  const run = new RunPage(page);
  await run.goto(id);
  await expect(run.approveButton).toBeVisible();

  // Another person rejects while this page's Approve is on its way.
  await page.route(`**/api/runs/${id}/approvals/approve`, async (route) => {
    const other = await request.post(`/api/runs/${id}/approvals/approve`, { data: { decision: 'reject' } });
    expect(other.ok()).toBeTruthy();
    await route.continue();
  });
  await run.approveButton.click();

  await expect(run.notice).toContainText('Someone else acted on this run first');
  await expect(run.status).toHaveText('failed');
  await run.expectNode('approve', 'failed');
  await page.screenshot({ path: path.join(shots, 'run-conflict.png') });
});
