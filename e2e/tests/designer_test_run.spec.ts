// Test runs from the designer (SPEC §6 "Test runs"): the graph as drawn, with an unsaved
// change, runs with a stubbed `http` step that sends nothing to its (local) target while the
// step really run does; the canvas shows each node's state and the inspector the selected
// node's rendered input and output; "run up to this node" stops there; the runs list hides
// test runs unless asked.
import { expect, test } from './fixtures/test';
import { DesignerPage } from './fixtures/designer_page';
import { Target, uniqueName } from './fixtures/console_target';

test('a test run stubs the charge, really sends the notice and shows both in the inspector', async ({
  page,
  request,
  pageErrors: _,
}) => {
  const target = await Target.start();
  try {
    const name = uniqueName('try-order');
    const post = (path: string, body?: object) => ({ method: 'POST', url: `${target.url}${path}`, ...(body ? { body } : {}) });
    const saved = await request.put(`/api/workflows/${name}`, {
      data: {
        name,
        input_schema: { type: 'object', required: ['amount'], properties: { amount: { type: 'number' } } },
        nodes: [
          { id: 'start', type: 'start' },
          { id: 'charge', type: 'http', label: 'Charge card', request: post('/charge', { amount: '{{ input.amount }}' }) },
          { id: 'notify', type: 'http', request: post('/old', { charge: '{{ nodes.charge.output.body.id }}' }) },
          { id: 'done', type: 'end', output: '{{ nodes.notify.output.body }}' },
        ],
        edges: [
          { from: 'start', to: 'charge' },
          { from: 'charge', to: 'notify' },
          { from: 'notify', to: 'done' },
        ],
      },
    });
    expect(saved.status()).toBe(201);

    const d = new DesignerPage(page);
    await d.goto(name);
    // An unsaved change: the test run must run the graph as drawn, not the saved version.
    await d.select('notify');
    await d.field('url').fill(`${target.url}/notify`);
    await expect(d.dirty).toBeVisible();

    await page.getByTestId('test-button').click();
    const panel = page.getByTestId('test-panel');
    await expect(panel).toBeVisible();
    await panel.getByTestId('test-input').fill('{"amount": 5}');
    // Each step that acts is stubbed unless told otherwise; really running names what it does.
    await expect(panel.getByTestId('test-stub-charge')).toBeChecked();
    await panel.getByTestId('test-stub-output-charge').fill('{"status": 200, "body": {"id": "ch_9"}}');
    await expect(panel.getByTestId('test-actor-notify')).toContainText(
      `Really run it: POST ${target.url}/notify will really be sent`,
    );
    await panel.getByTestId('test-real-notify').check();
    await expect(panel.getByTestId('test-stub-output-notify')).toHaveCount(0);
    await d.screenshot('designer-test-run-1-panel');

    await panel.getByTestId('test-start').click();
    await expect(panel.getByTestId('test-run-status')).toHaveText('completed');
    expect(target.hits.get('/charge'), 'the stubbed step sent nothing').toBeUndefined();
    expect(target.hits.get('/old'), 'the saved version did not run').toBeUndefined();
    expect(target.hits.get('/notify')).toBe(1);

    // The canvas shows the run: every node completed, the stub marked.
    for (const id of ['start', 'charge', 'notify', 'done']) await expect(d.node(id)).toHaveClass(/state-completed/);
    await expect(d.node('charge')).toContainText('stubbed');

    // The inspector: the stubbed step's input as it would have been sent, and its stub.
    await d.select('charge');
    const result = d.inspector.getByTestId('test-node-result');
    await expect(result.getByTestId('test-node-stubbed')).toBeVisible();
    await expect(result.getByTestId('test-node-input')).toContainText(`"url": "${target.url}/charge"`);
    await expect(result.getByTestId('test-node-input')).toContainText('"amount": 5');
    await expect(result.getByTestId('test-node-output')).toContainText('"id": "ch_9"');
    // The step really run: its input carries the stub's id, its output the target's answer.
    await d.select('notify');
    await expect(result.getByTestId('test-node-stubbed')).toHaveCount(0);
    await expect(result.getByTestId('test-node-input')).toContainText('"charge": "ch_9"');
    await expect(result.getByTestId('test-node-output')).toContainText('"path": "/notify"');
    await d.screenshot('designer-test-run-2-results');

    // Run up to the selected node: the run stops after `charge`, so nothing is sent at all.
    await d.select('charge');
    await panel.getByTestId('test-until').check();
    await expect(panel).toContainText('Run up to the selected node, charge, and stop');
    await panel.getByTestId('test-start').click();
    await expect(panel.getByTestId('test-run-status')).toHaveText('completed');
    await expect(d.node('charge')).toHaveClass(/state-completed/);
    await expect(d.node('notify')).toHaveClass(/state-pending/);
    expect(target.hits.get('/notify'), 'nothing past the stop').toBe(1);
    expect(target.hits.get('/charge')).toBeUndefined();
    await d.screenshot('designer-test-run-3-until');

    // The run page has the whole history; the runs list hides test runs unless shown.
    const href = await panel.getByTestId('test-run-link').getAttribute('href');
    expect(href).toMatch(/^\/runs\//);
    const runId = decodeURIComponent(href!.slice('/runs/'.length));
    // An ordinary run of the saved version, so the list has a row either way.
    const started = await request.post(`/api/workflows/${name}/runs`, { data: { input: { amount: 1 } } });
    expect(started.status()).toBe(201);
    await page.goto('/runs');
    await expect(page.getByTestId('run-row').first()).toBeVisible();
    await expect(page.locator(`[data-run="${runId}"]`)).toHaveCount(0);
    await page.getByTestId('show-test-runs').check();
    const row = page.locator(`[data-run="${runId}"]`);
    await expect(row).toBeVisible();
    await expect(row.getByTestId('run-row-test')).toHaveText('test');
    await d.screenshot('designer-test-run-4-runs-list');
  } finally {
    await target.stop();
  }
});
