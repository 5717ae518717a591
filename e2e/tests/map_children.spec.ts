// Issue 14's UI scenario for child runs: a parent with a `map` node is built in the designer
// over a saved child workflow (picked from the list, not typed), run, and watched: the map's
// progress moves on the graph, in the node panel and in the timeline as its children are
// decided; a child opens from the list, and its breadcrumb leads back to the parent.
// Each child waits for an approval, so the scenario decides when each one ends.
import fs from 'node:fs';
import path from 'node:path';
import type { APIRequestContext, Page } from '@playwright/test';
import { expect, test } from './fixtures/test';
import { DesignerPage } from './fixtures/designer_page';
import { RunPage } from './fixtures/run_page';
import { saveWorkflow, uniqueName } from './fixtures/console_target';

const shots = path.join(__dirname, '..', 'screenshots');

/** The child: waits for an approval of its line, then ends with it. Rejected, it fails. */
function lineWorkflow(name: string) {
  return {
    name,
    description: 'Approve one order line',
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'approve', type: 'approval', prompt: 'Reserve {{ input.sku }}?' },
      { id: 'done', type: 'end', output: { sku: '{{ input.sku }}' } },
    ],
    edges: [
      { from: 'start', to: 'approve' },
      { from: 'approve', to: 'done', port: 'approved' },
    ],
  };
}

/** The children of a run's node, as the server has them. */
async function children(request: APIRequestContext, run: string, node: string): Promise<any[]> {
  const res = await request.get(`/api/runs/${run}`);
  expect(res.ok()).toBeTruthy();
  return (await res.json()).nodes[node].children ?? [];
}

/** Decides the approval of child run `run`, once it waits. */
async function decide(request: APIRequestContext, run: string, decision: 'approve' | 'reject') {
  await expect
    .poll(async () => (await (await request.get(`/api/runs/${run}`)).json()).nodes?.approve?.status)
    .toBe('waiting');
  const res = await request.post(`/api/runs/${run}/approvals/approve`, { data: { decision } });
  expect(res.ok(), await res.text()).toBeTruthy();
}

async function shot(page: Page, name: string, width: number) {
  await page.setViewportSize({ width, height: 900 });
  await page.evaluate(() => window.scrollTo(0, 0));
  // Fit the graph to its new box.
  const fit = page.getByTestId('run-graph').getByTestId('zoom-fit');
  if (await fit.isVisible()) await fit.click();
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(shots, `${name}-${width}.png`), fullPage: true });
}

test('a map over a saved workflow: built in the designer, run, watched, a child opened and left by its breadcrumb', async ({
  page,
  request,
  pageErrors: _errors,
}) => {
  fs.mkdirSync(shots, { recursive: true });
  const child = uniqueName('line');
  const parent = uniqueName('lines');
  await saveWorkflow(request, lineWorkflow(child));

  // The parent, drawn: start → map → end.
  const d = new DesignerPage(page);
  await d.goto('new');
  await d.dropType('start', 90, 140);
  await d.dropType('map', 290, 140);
  await d.rename('each');
  await d.dropType('end', 490, 140);
  await d.rename('done');
  await d.connect('start', 'next', 'each');
  await d.connect('each', 'next', 'done');

  // The map's form: the workflow is picked from the saved ones. The palette's default names
  // one that does not exist: the browser warns (the server would refuse it with a 422).
  await d.select('each');
  const picker = d.field('workflow');
  await expect(picker).toHaveJSProperty('tagName', 'SELECT');
  await expect(d.inspector.getByTestId('inspector-finding')).toContainText('does not exist');
  await expect(d.finding('unknown_workflow', 'each')).toBeVisible();
  await expect(picker.locator('option', { hasText: child })).toHaveCount(1);
  await picker.selectOption(child);
  await expect(d.finding('unknown_workflow', 'each')).toHaveCount(0);
  // Its versions: latest (the default), or a pin.
  const version = d.field('version');
  await expect(version).toHaveJSProperty('tagName', 'SELECT');
  await expect(version.locator('option')).toHaveText(['latest (v1)', 'v1']);
  await version.selectOption('1');
  await version.selectOption('');
  // The link to the child's designer.
  await expect(d.inspector.getByTestId('open-child-workflow')).toHaveAttribute('href', `/workflows/${child}`);

  await d.field('items').fill('"{{ input.lines }}"');
  await d.field('input').fill('{"sku": "{{ item }}"}');
  await d.field('max-concurrency').fill('2');
  await d.field('tolerated').fill('1');
  await expect(d.node('each')).toContainText(`each item: ${child}`);
  await d.selectNothing();
  await d.field('name').fill(parent);
  await expect(page.getByTestId('designer-validity')).toHaveText('Valid');
  await d.saveButton.click();
  await expect(d.saveStatus).toHaveText('Saved as version 1');
  const stored = (await (await request.get(`/api/workflows/${parent}`)).json()).definition;
  expect(stored.nodes.find((n: any) => n.id === 'each')).toMatchObject({
    type: 'map',
    workflow: child,
    items: '{{ input.lines }}',
    max_concurrency: 2,
    tolerated_failures: 1,
  });
  expect(stored.nodes.find((n: any) => n.id === 'each').version).toBeUndefined();
  await d.select('each');
  await d.inspector.getByTestId('field-workflow').scrollIntoViewIfNeeded();
  for (const width of [1024, 1440]) await shot(page, 'map-designer', width);
  await page.setViewportSize({ width: 1280, height: 800 });

  // Run it over four lines from the designer.
  await page.getByTestId('run-button').click();
  await page.getByTestId('start-input').fill('{"lines": ["A", "B", "C", "D"]}');
  await page.getByTestId('start-submit').click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  const runId = page.url().split('/').pop()!;
  const run = new RunPage(page);

  // Two at once: two children run, two wait for a slot.
  await run.expectNode('each', 'running');
  await expect(run.node('each').getByTestId('node-badge')).toHaveText('0/4');
  await run.node('each').click();
  const progress = run.nodeDetails.getByTestId('map-progress');
  await expect(progress).toHaveText('0 / 4 done · 0 failed · 2 running');

  // Decided one by one, and the page follows each decision live.
  await expect.poll(async () => (await children(request, runId, 'each')).length).toBe(2);
  let kids = await children(request, runId, 'each');
  await decide(request, kids[0].run, 'approve');
  await expect(progress).toHaveText('1 / 4 done · 0 failed · 2 running');
  await expect(run.node('each').getByTestId('node-badge')).toHaveText('1/4');
  await decide(request, kids[1].run, 'reject');
  await expect(progress).toHaveText('1 / 4 done · 1 failed · 2 running');
  await expect(run.node('each').getByTestId('node-progress')).toBeVisible();

  // The list of children, with status and links.
  await run.nodeDetails.getByTestId('children-toggle').locator('summary').click();
  const rows = run.nodeDetails.getByTestId('child-row');
  await expect(rows).toHaveCount(4);
  await expect(rows.nth(0)).toHaveAttribute('data-status', 'completed');
  await expect(rows.nth(1)).toHaveAttribute('data-status', 'failed');
  await expect(rows.nth(2)).toHaveAttribute('data-status', 'running');
  await run.nodeDetails.getByTestId('children-filter').selectOption('failed');
  await expect(rows).toHaveCount(1);
  await run.nodeDetails.getByTestId('children-filter').selectOption('all');

  // The timeline groups the children in one line, which expands into a line each.
  await expect(run.timeline.getByTestId('timeline-children-each').getByTestId('child-bar')).toHaveCount(4);
  await run.timeline.getByTestId('timeline-group-each').click();
  await expect(run.timeline.getByTestId('timeline-child-link')).toHaveCount(4);
  for (const width of [1024, 1440]) await shot(page, 'map-run-running', width);
  await page.setViewportSize({ width: 1280, height: 800 });

  // Open the third child from the list: its page shows where it comes from.
  kids = await children(request, runId, 'each');
  await rows.nth(2).getByTestId('child-link').click();
  await expect(page).toHaveURL(new RegExp(`/runs/${kids[2].run}$`));
  await expect(run.status).toHaveText('running');
  const crumb = page.getByTestId('crumb-parent');
  await expect(crumb).toHaveText(parent);
  await expect(page.getByTestId('run-crumbs')).toContainText('› each #2');
  await expect(run.prompt).toHaveText('Reserve C?');
  for (const width of [1024, 1440]) await shot(page, 'map-child-run', width);
  await page.setViewportSize({ width: 1280, height: 800 });

  // Back by the breadcrumb; the rest are approved meanwhile, and the map completes with one
  // tolerated failure.
  await crumb.click();
  await expect(page).toHaveURL(new RegExp(`/runs/${runId}$`));
  await decide(request, kids[2].run, 'approve');
  await decide(request, kids[3].run, 'approve');
  await run.node('each').click();
  await expect(progress).toHaveText('3 / 4 done · 1 failed · 0 running');
  await run.expectNode('each', 'completed');
  await expect(run.status).toHaveText('completed');
  await expect(run.node('each').getByTestId('node-badge')).toHaveText('3/4');
  for (const width of [1024, 1440]) await shot(page, 'map-run-done', width);
});
