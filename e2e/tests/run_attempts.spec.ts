// Every attempt explained (issue 18): an http node that fails once, then succeeds, shows both
// attempts in the node panel — outcome, error, when the retry was due, and what went over the
// wire — with the secret in its Authorization header masked everywhere on the page. The
// service it calls echoes that header back, so an unmasked secret would show in a response.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { expect, test } from './fixtures/test';
import { saveWorkflow, startRun, uniqueName } from './fixtures/console_target';
import { OwnServer } from './fixtures/own_server';
import { RunPage } from './fixtures/run_page';

const shots = path.join(__dirname, '..', 'screenshots');
const SECRET = 's3cr3t-value';

/** Answers 503 to the first request, 200 after; both echo the `Authorization` they got. */
async function echoService(): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits += 1;
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const echo = { authorization: req.headers.authorization ?? null, attempt: hits, got: body };
      res.writeHead(hits === 1 ? 503 : 200, { 'content-type': 'application/json', 'x-service': 'echo' });
      res.end(JSON.stringify(echo));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test('an http node retried once shows both attempts with request and response, the secret masked', async ({
  page,
  playwright,
  pageErrors: _errors,
}) => {
  test.setTimeout(90_000);
  const service = await echoService();
  const server = await OwnServer.start({ port: 18293, env: { WEFT_SECRET_TOKEN: SECRET } });
  try {
    const api = await playwright.request.newContext({ baseURL: server.base });
    const name = uniqueName('attempts');
    await saveWorkflow(api, {
      name,
      nodes: [
        { id: 'start', type: 'start' },
        {
          id: 'charge',
          type: 'http',
          label: 'Charge card',
          request: {
            method: 'POST',
            url: `${service.url}/charge`,
            headers: { Authorization: 'Bearer {{ secrets.TOKEN }}' },
            body: { order: '{{ input.order }}', amount: 12 },
          },
          retry: { max_attempts: 3, initial_interval: '1s', backoff_coefficient: 2 },
        },
        { id: 'done', type: 'end', output: { ok: true } },
      ],
      edges: [
        { from: 'start', to: 'charge' },
        { from: 'charge', to: 'done' },
      ],
    });
    const id = await startRun(api, name, { order: 'A7' });

    const run = new RunPage(page);
    await page.goto(`${server.base}/runs/${id}`);
    await expect(run.status).toHaveText('completed');
    expect(service.hits()).toBe(2);
    await run.node('charge').click();

    await expect(run.attempts).toHaveCount(2);
    const first = run.attempt(1);
    const second = run.attempt(2);
    await expect(first).toHaveAttribute('data-outcome', 'failed');
    await expect(first.getByTestId('attempt-error')).toContainText('503');
    // The retry's time, relative, with the exact time on hover.
    const retry = first.getByTestId('attempt-retry');
    await expect(retry).toContainText(/Retried (in \d+ s|\d+ s ago|just now)/);
    await expect(retry.locator('time')).toHaveAttribute('title', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
    await expect(second).toHaveAttribute('data-outcome', 'succeeded');
    await expect(second.getByTestId('attempt-retry')).toHaveCount(0);
    await expect(second.getByTestId('attempt-duration')).toHaveText(/\d/);

    // Each attempt's request and response, collapsed until opened.
    for (const [attempt, status] of [
      [first, '503'],
      [second, '200'],
    ] as const) {
      const request = attempt.getByTestId('attempt-request');
      const response = attempt.getByTestId('attempt-response');
      await expect(request.getByTestId('request-url')).toHaveText(`${service.url}/charge`);
      await expect(response.getByTestId('response-status')).toHaveText(status);
      await request.locator('summary').click();
      await response.locator('summary').click();
      await expect(request.getByTestId('exchange-headers')).toContainText('Bearer ***');
      await expect(request.getByTestId('exchange-body')).toContainText('"order": "A7"');
      await expect(response.getByTestId('exchange-headers')).toContainText('x-service');
      // The service echoed the header it got; the server recorded it masked.
      await expect(response.getByTestId('exchange-body')).toContainText('"authorization": "Bearer ***"');
    }
    await expect(page.locator('body')).not.toContainText(SECRET);
    expect(await page.content()).not.toContain(SECRET);

    // The path the run took: every edge carried it.
    await expect(run.root.locator('[data-testid="edge-start-next-charge"]')).toHaveClass(/on-path/);
    await expect(run.root.locator('[data-testid="edge-charge-next-done"]')).toHaveClass(/on-path/);

    // The timeline is being rebuilt in its own branch (helper C, with its own axe check);
    // today's bars name themselves differently from their text (label-content-name-mismatch).
    const axe = await new AxeBuilder({ page })
      .include('[data-testid="page-run"]')
      .exclude('[data-testid="timeline"]')
      .analyze();
    const serious = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(', ')}`)).toEqual([]);

    // The first attempt at the top of the node panel (it scrolls on its own).
    const top = () =>
      first.evaluate((el) => {
        const side = el.closest('.run-side')!;
        side.scrollTop += el.getBoundingClientRect().top - side.getBoundingClientRect().top - 8;
      });
    await top();
    await page.screenshot({ path: path.join(shots, 'run-attempts-1280.png') });
    await page.setViewportSize({ width: 1024, height: 768 });
    await top();
    await page.screenshot({ path: path.join(shots, 'run-attempts-1024.png') });
    await api.dispose();
  } finally {
    await server.dispose();
    await service.close();
  }
});
