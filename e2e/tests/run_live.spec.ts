// Scenarios for a run page that is never stale (issue 18): the server goes away under an open
// page and comes back; the page says so, refuses to act meanwhile, catches up by itself and
// shows the run's end without a reload. Each scenario has its own `weft serve` on a fixed
// port, so the restarted server is at the address the page knows.
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { expect, test } from './fixtures/test';
import { saveWorkflow, serverNodeStatus, startRun, uniqueName } from './fixtures/console_target';
import { OwnServer } from './fixtures/own_server';
import { RunPage } from './fixtures/run_page';

const shots = path.join(__dirname, '..', 'screenshots');
/** Near 18290, away from the suite's servers and the other checkouts'. */
const PORT = 18291;

/** Ask a person, then finish. */
function approvalOnly(name: string) {
  return {
    name,
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'approve', type: 'approval', prompt: 'Go on?' },
      { id: 'done', type: 'end', output: { ok: true } },
    ],
    edges: [
      { from: 'start', to: 'approve' },
      { from: 'approve', to: 'done', port: 'approved' },
    ],
  };
}

test('a restarted server under an open run page: banner, actions disabled, then live again to the end', async ({
  page,
  playwright,
  pageErrors: _errors,
}) => {
  test.setTimeout(90_000);
  const server = await OwnServer.start({ port: PORT });
  try {
    const api = await playwright.request.newContext({ baseURL: server.base });
    const name = uniqueName('restart');
    await saveWorkflow(api, approvalOnly(name));
    const id = await startRun(api, name, {});
    await serverNodeStatus(api, id, 'approve', 'waiting');

    const run = new RunPage(page);
    await page.goto(`${server.base}/runs/${id}`);
    let loads = 0;
    page.on('load', () => (loads += 1));
    await expect(run.link).toHaveText('Live');
    await run.expectNode('approve', 'waiting');
    await expect(run.approveButton).toBeEnabled();
    await expect(run.banner).toHaveCount(0);

    // The server goes away: the page says so and will not act on what may be stale.
    await server.stop();
    await expect(run.banner).toBeVisible();
    await expect(run.banner).toContainText('Connection lost — reconnecting…');
    await expect(run.link).toHaveText('Reconnecting…');
    await expect(run.approveButton).toBeDisabled();
    await expect(run.rejectButton).toBeDisabled();
    await expect(run.cancelButton).toBeDisabled();
    await expect(run.approveButton).toHaveAttribute('title', /Not connected to the server/);
    await expect(run.banner.getByTestId('connection-next-try')).toHaveText(/Next try in \d+ s\.|Trying now…/);
    // The timeline is being rebuilt in its own branch (helper C, with its own axe check);
    // today's bars name themselves differently from their text (label-content-name-mismatch).
    const axe = await new AxeBuilder({ page })
      .include('[data-testid="page-run"]')
      .exclude('[data-testid="timeline"]')
      .analyze();
    const serious = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(', ')}`)).toEqual([]);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: path.join(shots, 'run-reconnecting-1280.png') });
    await page.setViewportSize({ width: 1024, height: 768 });
    await page.screenshot({ path: path.join(shots, 'run-reconnecting-1024.png') });
    await page.setViewportSize({ width: 1280, height: 800 });

    // Back on the same address: the page reconnects by itself (backoff at most 10 s).
    await server.restart();
    await expect(run.banner).toHaveCount(0, { timeout: 20_000 });
    await expect(run.link).toHaveText('Live');
    await expect(run.approveButton).toBeEnabled();

    // Someone else approves: the run's end arrives on this page, live.
    const res = await api.post(`/api/runs/${id}/approvals/approve`, { data: { decision: 'approve' } });
    expect(res.ok(), await res.text()).toBeTruthy();
    await expect(run.status).toHaveText('completed');
    await run.expectNode('done', 'completed');
    await expect(run.link).toHaveText('Finished');
    await expect(run.approveButton).toHaveCount(0);
    expect(loads, 'the page never reloaded').toBe(0);
    await api.dispose();
  } finally {
    await server.dispose();
  }
});

test('a run that ended while its server was away shows its end when the page is back', async ({
  page,
  playwright,
  pageErrors: _errors,
}) => {
  test.setTimeout(90_000);
  const server = await OwnServer.start({ port: PORT + 1 });
  try {
    const api = await playwright.request.newContext({ baseURL: server.base });
    const name = uniqueName('trynow');
    await saveWorkflow(api, approvalOnly(name));
    const id = await startRun(api, name, {});
    await serverNodeStatus(api, id, 'approve', 'waiting');

    const run = new RunPage(page);
    await page.goto(`${server.base}/runs/${id}`);
    let loads = 0;
    page.on('load', () => (loads += 1));
    await expect(run.link).toHaveText('Live');

    // Down long enough for the backoff to grow, then decided while no page listens.
    await server.stop();
    await expect(run.banner).toBeVisible();
    await server.restart();
    const api2 = await playwright.request.newContext({ baseURL: server.base });
    const res = await api2.post(`/api/runs/${id}/approvals/approve`, { data: { decision: 'approve' } });
    expect(res.ok(), await res.text()).toBeTruthy();

    // The page's next try finds the run over: the missed end arrives, and nothing more is dialled.
    await expect(run.status).toHaveText('completed', { timeout: 20_000 });
    await expect(run.link).toHaveText('Finished');
    await expect(run.banner).toHaveCount(0);
    await run.expectNode('done', 'completed');
    expect(loads, 'the page never reloaded').toBe(0);
    await api.dispose();
    await api2.dispose();
  } finally {
    await server.dispose();
  }
});
