// The start page (issue 17): runs waiting for a person, approvals for the caller, recent
// failures and recently edited workflows, each from the real server and each linking to its
// page; empty lists say what to do; and the template gallery, which opens every file of
// `examples/` in the designer as a draft that saves as a new workflow.
import fs from 'node:fs';
import path from 'node:path';
import type { APIRequestContext } from '@playwright/test';
import { expect, test } from './fixtures/test';
import { saveWorkflow, startRun, uniqueName } from './fixtures/console_target';
import { DesignerPage } from './fixtures/designer_page';

const SHOTS = process.env.WEFT_E2E_SHOTS;
const examples = path.resolve(__dirname, '../../examples');
/** Every example file, read from disk: the gallery must offer each. */
const exampleFiles = fs
  .readdirSync(examples)
  .filter((f) => f.endsWith('.json'))
  .sort();

async function shoot(page: import('@playwright/test').Page, name: string) {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const width of [1280, 1024]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** start → ask (an approval the caller may decide) → done. */
function askWorkflow(name: string) {
  return {
    name,
    description: 'Asks a person.',
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'ask', type: 'approval', label: 'Ship it', prompt: 'Ship order {{ input.order }}?', allow_self_approval: true },
      { id: 'done', type: 'end' },
    ],
    edges: [
      { from: 'start', to: 'ask' },
      { from: 'ask', to: 'done', port: 'approved' },
    ],
  };
}

/** start → call (refused at once: nothing listens on port 1; one attempt) → done. */
function failingWorkflow(name: string) {
  return {
    name,
    nodes: [
      { id: 'start', type: 'start' },
      {
        id: 'call',
        type: 'http',
        request: { method: 'GET', url: 'http://127.0.0.1:1/nothing' },
        retry: { max_attempts: 1 },
      },
      { id: 'done', type: 'end' },
    ],
    edges: [
      { from: 'start', to: 'call' },
      { from: 'call', to: 'done' },
    ],
  };
}

async function runStatus(request: APIRequestContext, id: string): Promise<string> {
  return (await (await request.get(`/api/runs/${id}`)).json()).status;
}

test('the start page lists what waits, what failed and what was edited, each linking to its page', async ({
  start,
  page,
  request,
}) => {
  const ask = uniqueName('start-ask');
  const broken = uniqueName('start-broken');
  await saveWorkflow(request, askWorkflow(ask));
  await saveWorkflow(request, failingWorkflow(broken));
  const waitingRun = await startRun(request, ask, { order: 'o-17' });
  const failedRun = await startRun(request, broken, {});
  await expect.poll(() => runStatus(request, failedRun)).toBe('failed');
  await expect
    .poll(async () => (await (await request.get('/api/runs?needs=person')).json()).runs.map((r: any) => r.id))
    .toContain(waitingRun);

  await start.goto();
  // Waiting for a person: the run, marked so, linking to its page.
  const waiting = start.item(start.waiting, ask);
  await expect(waiting).toBeVisible();
  await expect(waiting).toContainText('needs a person');
  await expect(waiting.locator('a')).toHaveAttribute('href', `/runs/${waitingRun}`);
  // The approval, with its label and rendered prompt.
  const approval = start.item(start.approvals, `${ask} · Ship it`);
  await expect(approval).toContainText('Ship order o-17?');
  await expect(approval.locator('a')).toHaveAttribute('href', `/runs/${waitingRun}`);
  // The failure, with its error.
  const failure = start.item(start.failures, broken);
  await expect(failure).toContainText('failed');
  await expect(failure.locator('.start-detail')).toHaveText(/\S/);
  await expect(failure.locator('a')).toHaveAttribute('href', `/runs/${failedRun}`);
  // The workflow saved last comes first.
  await expect(start.workflows.getByTestId('start-item').first()).toContainText(broken);
  await expect(start.item(start.workflows, ask)).toContainText('v1');
  await shoot(page, 'start');

  // Each link opens its page.
  await failure.locator('a').click();
  await expect(page).toHaveURL(new RegExp(`/runs/${failedRun}$`));
  await expect(page.getByTestId('page-run')).toBeVisible();
  await page.goBack();
  await start.item(start.approvals, ask).locator('a').click();
  await expect(page).toHaveURL(new RegExp(`/runs/${waitingRun}$`));
  await page.goBack();
  await start.item(start.workflows, broken).locator('a').click();
  await expect(page).toHaveURL(new RegExp(`/workflows/${broken}$`));
  await expect(page.getByTestId('designer-title')).toHaveText(broken);
});

test('empty lists say what to do', async ({ start, page }) => {
  // The shared server has runs and workflows from other scenarios: answer as an empty one.
  const runs = { runs: [], next_cursor: null, total: 0 };
  await page.route('**/api/runs?**', (route) => route.fulfill({ json: runs }));
  await page.route('**/api/approvals?**', (route) => route.fulfill({ json: { approvals: [], truncated: false } }));
  await page.route('**/api/workflows', (route) => route.fulfill({ json: { workflows: [] } }));
  await start.goto();
  await expect(start.waiting.getByTestId('start-empty')).toContainText('No run waits for an approval or a signal');
  await expect(start.approvals.getByTestId('start-empty')).toContainText('Nothing waits for your decision');
  await expect(start.failures.getByTestId('start-empty')).toContainText('No run has failed');
  await expect(start.workflows.getByTestId('start-empty')).toContainText('Start from a template below');
  for (const section of start.sections()) await expect(section.getByTestId('start-item')).toHaveCount(0);
});

test('the gallery creates a workflow from every file in examples/', async ({ start, page, request }) => {
  expect(exampleFiles.length).toBeGreaterThan(0);
  await start.goto();
  await expect(start.gallery.locator('li.gallery-card')).toHaveCount(exampleFiles.length);
  await shoot(page, 'gallery');
  const designer = new DesignerPage(page);
  // Each template twice: the second copy must not land on the first.
  for (const file of [...exampleFiles, exampleFiles[0]]) {
    const example = JSON.parse(fs.readFileSync(path.join(examples, file), 'utf8'));
    const slug = file.replace(/\.json$/, '');
    await start.goto();
    const card = start.template(slug);
    await expect(card.locator('h3')).toHaveText(example.name);
    // Backticks mark code, drawn as such.
    await expect(card.locator('.gallery-desc')).toHaveText(example.description.replaceAll('`', ''));
    await expect(card.getByTestId('template-nodes')).toHaveText(`${example.nodes.length} nodes`);

    // The name it will get: the example's, or the first free `name-N`.
    const taken: string[] = (await (await request.get('/api/workflows')).json()).workflows.map((w: any) => w.name);
    let expected = example.name;
    for (let n = 2; taken.includes(expected); n++) expected = `${example.name}-${n}`;

    const use = card.getByTestId('use-template');
    await expect(use).toBeEnabled();
    await use.click();
    await expect(page).toHaveURL(new RegExp(`/workflows/${expected}$`));
    await expect(designer.nodes).toHaveCount(example.nodes.length);
    await expect(designer.version).toHaveText('never saved');
    await expect(page.getByTestId('designer-validity')).not.toHaveClass(/badge-invalid/);
    await designer.saveButton.click();
    await expect(designer.saveStatus).toHaveText('Saved as version 1');

    const saved = await request.get(`/api/workflows/${expected}`);
    expect(saved.ok()).toBe(true);
    const definition = (await saved.json()).definition;
    expect(definition.nodes.map((n: any) => n.id)).toEqual(example.nodes.map((n: any) => n.id));
    const edge = (e: any) => `${e.from}-${e.port ?? 'next'}-${e.to}`;
    expect(definition.edges.map(edge).sort()).toEqual(example.edges.map(edge).sort());
  }
});
