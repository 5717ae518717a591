// A run page that fits (issue 18): a 60-node run's graph is fitted whole into its box, so far
// out that the cards are blocks in their state's colour, and zoomed in a little each shows its
// label at a readable size on screen (semantic zoom); the path the run
// took is emphasised and the branch it did not take dimmed; the graph and the node panel sit
// side by side in the window at 1280 and at 1024 px, and the page is no endless scroll.
import path from 'node:path';
import { expect, test } from './fixtures/test';
import { saveWorkflow, startRun, uniqueName } from './fixtures/console_target';
import { RunPage } from './fixtures/run_page';

const shots = path.join(__dirname, '..', 'screenshots');

/** start → parallel → 6 branches of 8 transforms → join → condition: true → 5 steps → done;
 * false → no → done_no. 60 nodes; the false branch is never taken. */
function bigWorkflow(name: string) {
  const nodes: any[] = [
    { id: 'start', type: 'start' },
    { id: 'fan', type: 'parallel', label: 'Fan out' },
    { id: 'gather', type: 'join', label: 'Gather' },
    { id: 'check', type: 'condition', label: 'Always yes', expr: '1 < 2' },
    { id: 'no', type: 'transform', label: 'Never', output: {} },
    { id: 'done_no', type: 'end' },
    { id: 'done', type: 'end', output: { ok: true } },
  ];
  const edges: any[] = [
    { from: 'start', to: 'fan' },
    { from: 'gather', to: 'check' },
    { from: 'check', to: 'no', port: 'false' },
    { from: 'no', to: 'done_no' },
  ];
  for (let b = 0; b < 6; b++) {
    let prev = 'fan';
    for (let s = 0; s < 8; s++) {
      const id = `b${b}s${s}`;
      nodes.push({ id, type: 'transform', label: `Branch ${b} step ${s}`, output: { b, s } });
      edges.push({ from: prev, to: id });
      prev = id;
    }
    edges.push({ from: prev, to: 'gather' });
  }
  let prev = 'check';
  for (let y = 0; y < 5; y++) {
    const id = `yes${y}`;
    nodes.push({ id, type: 'transform', label: `Yes ${y}`, output: {} });
    edges.push({ from: prev, to: id, ...(y === 0 ? { port: 'true' } : {}) });
    prev = id;
  }
  edges.push({ from: prev, to: 'done' });
  return { name, nodes, edges };
}

for (const width of [1280, 1024]) {
  test(`a 60-node run fits its graph and keeps the node panel beside it at ${width} px`, async ({
    page,
    request,
    pageErrors: _errors,
  }) => {
    await page.setViewportSize({ width, height: 800 });
    const name = uniqueName('big');
    const definition = bigWorkflow(name);
    expect(definition.nodes).toHaveLength(60);
    await saveWorkflow(request, definition);
    const id = await startRun(request, name, {});
    const run = new RunPage(page);
    await run.goto(id);
    await expect(run.status).toHaveText('completed');

    // Every card inside the graph's box: so far out that no label would be readable, the
    // cards are blocks in their state's colour and a hint says to zoom in.
    const canvas = run.root.getByTestId('graph-view');
    await expect(canvas).toHaveClass(/wf-tiny/);
    await expect(canvas.getByTestId('zoom-hint')).toBeVisible();
    await expect(run.root.locator('.run-graph .wf-node')).toHaveCount(60);
    const box = (await canvas.boundingBox())!;
    const cards = await run.root.locator('.run-graph .wf-node').evaluateAll((els) =>
      els.map((el) => {
        const r = el.getBoundingClientRect();
        return { id: el.getAttribute('data-node'), x: r.x, y: r.y, right: r.right, bottom: r.bottom };
      }),
    );
    const outside = cards.filter(
      (c) => c.x < box.x - 1 || c.y < box.y - 1 || c.right > box.x + box.width + 1 || c.bottom > box.y + box.height + 1,
    );
    expect(outside, 'cards outside the fitted graph').toEqual([]);
    await expect(run.node('b3s4').locator('.wf-node-far-label')).toBeHidden();
    await expect(run.node('b3s4').locator('.wf-node-summary')).toBeHidden();
    const fill = await run.node('b3s4').locator('.wf-node-box').evaluate((el) => getComputedStyle(el).fill);
    expect(fill, 'a completed block is filled green').toBe('rgb(21, 128, 61)');

    // Zoomed in to the far level: each card shows its short label, at a readable size on
    // screen whatever the scale.
    for (let zoom = 0; zoom < 12 && /wf-tiny/.test((await canvas.getAttribute('class')) ?? ''); zoom++) {
      await canvas.getByTestId('zoom-in').click();
    }
    await expect(canvas).toHaveClass(/wf-far/);
    await expect(canvas).not.toHaveClass(/wf-tiny/);
    await expect(canvas.getByTestId('zoom-hint')).toHaveCount(0);
    const label = run.node('fan').locator('.wf-node-far-label');
    await expect(label).toBeVisible();
    await expect(label).toHaveText('Fan out');
    const onScreen = (await label.boundingBox())!.height;
    expect(onScreen, 'the far label is at least 11 px tall on screen').toBeGreaterThanOrEqual(11);
    expect(onScreen, 'and not huge').toBeLessThan(24);
    await canvas.screenshot({ path: path.join(shots, `run-60-nodes-${width}-labels.png`) });
    await canvas.getByTestId('zoom-fit').click();
    await expect(canvas).toHaveClass(/wf-tiny/);

    // The path: the taken branch emphasised, the branch not taken dimmed.
    await expect(run.root.getByTestId('edge-check-true-yes0')).toHaveClass(/on-path/);
    await expect(run.root.getByTestId('edge-b5s7-next-gather')).toHaveClass(/on-path/);
    await expect(run.root.getByTestId('edge-check-false-no')).toHaveClass(/off-path/);
    await expect(run.root.getByTestId('edge-no-next-done_no')).toHaveClass(/off-path/);
    await expect(run.root.locator('.run-graph .wf-edge.on-path')).toHaveCount(definition.edges.length - 2);

    // Zooming in past the far scale brings the details back.
    for (let i = 0; i < 10; i++) await canvas.getByTestId('zoom-in').click();
    await expect(canvas).not.toHaveClass(/wf-far/);
    await expect(run.node('fan').locator('.wf-node-far-label')).toBeHidden();
    await canvas.getByTestId('zoom-fit').click();
    await expect(canvas).toHaveClass(/wf-tiny/);

    // The node panel beside the graph, both in the window with the graph's top.
    await run.node('b2s2').click();
    const panel = run.nodeDetails;
    await expect(panel).toBeVisible();
    const p = (await panel.boundingBox())!;
    expect(p.x, 'the node panel is to the right of the graph').toBeGreaterThanOrEqual(box.x + box.width);
    expect(p.y, 'and starts in the window').toBeLessThan(800);
    expect(box.y + box.height, 'the graph ends in the window').toBeLessThanOrEqual(800);
    await page.screenshot({ path: path.join(shots, `run-60-nodes-${width}.png`) });
    await page.screenshot({ path: path.join(shots, `run-60-nodes-${width}-full.png`), fullPage: true });
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    expect(height, 'the page is no 3,000 px scroll').toBeLessThan(3000);
  });
}
