// Scenarios for the headers that protect the UI: its pages carry a Content-Security-Policy
// that allows the wasm SPA but no inline script except Trunk's loader (by hash), and refuse
// to be framed. Every scenario of the suite also fails on a policy violation (the
// `cspViolations` fixture); this one walks the designer and the runs page with a graph, a
// palette, an inspector and a live list in view.
import path from 'node:path';
import { expect, test } from './fixtures/test';
import { saveWorkflow, startRun, uniqueName } from './fixtures/console_target';
import { DesignerPage } from './fixtures/designer_page';
import { RunsPage } from './fixtures/run_page';

const shots = path.join(__dirname, '..', 'screenshots');

test('the SPA runs under its Content-Security-Policy, which also forbids framing it', async ({
  page,
  request,
  pageErrors: _errors,
  cspViolations,
}) => {
  const headers = (await request.get('/workflows')).headers();
  const policy = headers['content-security-policy'];
  expect(policy).toContain("script-src 'self' 'wasm-unsafe-eval' 'sha256-");
  expect(policy).toContain("frame-ancestors 'none'");
  expect(policy).not.toContain('unsafe-inline');
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('no-referrer');

  const name = uniqueName('csp');
  await saveWorkflow(request, {
    name,
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'ask', type: 'approval', prompt: 'Ship it?' },
      { id: 'done', type: 'end' },
    ],
    edges: [
      { from: 'start', to: 'ask' },
      { from: 'ask', to: 'done', port: 'approved' },
    ],
  });
  const run = await startRun(request, name, {});

  const designer = new DesignerPage(page);
  await designer.goto(name);
  await designer.select('ask');
  await expect(designer.inspector.getByTestId('inspector-title')).toHaveText('ask');
  await page.screenshot({ path: path.join(shots, 'csp-designer.png') });

  const runs = new RunsPage(page);
  await runs.goto(`?workflow=${name}`);
  await expect(runs.row(run)).toBeVisible();
  await page.screenshot({ path: path.join(shots, 'csp-runs.png') });
  expect(cspViolations).toEqual([]);
});
