// Issue 18's replay: on a finished run, a scrubber steps through its events and the graph shows
// each node's state as it was at that event (checked against the run's log from the API), the
// header's status and the Run panel as they were then, the timeline's cursor at that event's time; play reaches the end; leaving replay shows the final
// view again. Before the run finishes there is no replay.
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { expect, test } from './fixtures/test';
import { RunPage } from './fixtures/run_page';
import { ReplayBar, TimelinePage } from './fixtures/timeline_page';
import { Target, events, saveWorkflow, startRun, uniqueName } from './fixtures/console_target';

const shots = path.join(__dirname, '..', 'screenshots');

/** Each node's status after the first `k` events of `log`, as the run's fold has it. */
function statesAt(log: any[], k: number): Map<string, string> {
  const states = new Map<string, string>();
  for (const e of log.slice(0, k)) {
    if (!e.node) continue;
    const next: Record<string, string> = {
      node_started: 'running',
      attempt_failed: e.data?.retry_at ? 'retrying' : 'failed',
      node_completed: 'completed',
      node_failed: 'failed',
      node_waiting: 'waiting',
    };
    if (next[e.type]) states.set(e.node, next[e.type]);
  }
  return states;
}

test('replay steps a finished run through its events on the graph and the timeline', async ({ page, request }) => {
  const target = await Target.start();
  try {
    const name = uniqueName('replay');
    await saveWorkflow(request, {
      name,
      nodes: [
        { id: 'start', type: 'start' },
        {
          id: 'charge',
          type: 'http',
          request: { method: 'POST', url: `${target.url}/flaky/${name}` },
          retry: { max_attempts: 3, initial_interval: '100ms', backoff_coefficient: 1 },
        },
        { id: 'done', type: 'end', output: '{{ nodes.charge.output }}' },
      ],
      edges: [
        { from: 'start', to: 'charge' },
        { from: 'charge', to: 'done' },
      ],
    } as any);
    const id = await startRun(request, name, {});
    const run = new RunPage(page);
    const replay = new ReplayBar(page);
    const timeline = new TimelinePage(page);
    await page.goto(`/runs/${id}`);
    await expect(run.status).toHaveText('completed');
    const log = await events(request, id);
    expect(log.length).toBeGreaterThan(6);
    for (const node of ['start', 'charge', 'done']) await run.expectNode(node, 'completed');

    // Step to the third event: the graph is the run as it stood then.
    await replay.start.click();
    await expect(replay.position).toHaveText(`1 of ${log.length}`);
    await expect(replay.back).toBeDisabled();
    await replay.forward.click();
    await replay.forward.click();
    await expect(replay.position).toHaveText(`3 of ${log.length}`);
    const third = log[2];
    await expect(replay.event).toContainText(`#3 ${third.type}${third.node ? ` · ${third.node}` : ''}`);
    const then = statesAt(log, 3);
    expect(then.get('charge'), 'the third event starts the call').toBe('running');
    for (const node of ['start', 'charge', 'done']) await run.expectNode(node, then.get(node) ?? 'pending');
    await expect(timeline.cursor).toHaveAttribute('data-at', String(third.at));
    // The header and the Run panel are the run at that moment too: running, no output yet.
    await expect(run.status).toHaveText('running');
    await expect(run.root.getByTestId('run-data').locator('.json-title')).toHaveText(['Input']);
    await page.mouse.move(0, 0);
    for (const width of [1280, 1024]) {
      await page.setViewportSize({ width, height: 900 });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: path.join(shots, `run-replay-${width}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 1280, height: 800 });

    // The slider's arrow keys step too.
    await replay.slider.focus();
    await page.keyboard.press('ArrowRight');
    await expect(replay.position).toHaveText(`4 of ${log.length}`);
    const fourth = statesAt(log, 4);
    await run.expectNode('charge', fourth.get('charge')!);
    await expect(timeline.cursor).toHaveAttribute('data-at', String(log[3].at));
    await page.keyboard.press('ArrowLeft');
    await expect(replay.position).toHaveText(`3 of ${log.length}`);

    // No serious accessibility problem on the replay controls or the timeline.
    const axe = await new AxeBuilder({ page })
      .include('[data-testid="replay"]')
      .include('[data-testid="timeline"]')
      .analyze();
    const serious = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(', ')}`)).toEqual([]);
    await expect(replay.back).toHaveAccessibleName('Previous event');
    await expect(replay.forward).toHaveAccessibleName('Next event');
    await expect(replay.play).toHaveAccessibleName('Play');

    // Play reaches the end, where every node is as the run ended.
    await replay.play.click();
    await expect(replay.play).toHaveAccessibleName('Pause');
    await expect(replay.position).toHaveText(`${log.length} of ${log.length}`);
    await expect(replay.play).toHaveAccessibleName('Play');
    await expect(replay.event).toContainText(`#${log.length} run_completed`);
    await expect(run.status).toHaveText('completed');
    await expect(run.root.getByTestId('run-data').locator('.json-title')).toHaveText(['Input', 'Output']);
    for (const node of ['start', 'charge', 'done']) await run.expectNode(node, 'completed');

    // Back to the first event, then leave: the final view, no cursor.
    await replay.slider.focus();
    await page.keyboard.press('Home');
    await expect(replay.position).toHaveText(`1 of ${log.length}`);
    await run.expectNode('start', 'pending');
    await replay.exit.click();
    await expect(replay.start).toBeVisible();
    await expect(timeline.cursor).toHaveCount(0);
    for (const node of ['start', 'charge', 'done']) await run.expectNode(node, 'completed');
  } finally {
    await target.stop();
  }
});

test('a run still going has no replay', async ({ page, request }) => {
  const name = uniqueName('replay-wait');
  await saveWorkflow(request, {
    name,
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'approve', type: 'approval', prompt: 'Go?' },
      { id: 'done', type: 'end' },
    ],
    edges: [
      { from: 'start', to: 'approve' },
      { from: 'approve', to: 'done', port: 'approved' },
    ],
  } as any);
  const id = await startRun(request, name, {});
  const run = new RunPage(page);
  await page.goto(`/runs/${id}`);
  await run.expectNode('approve', 'waiting');
  await expect(new ReplayBar(page).root).toHaveCount(0);
});
