// Issue 17, "Expressions": a template field in the inspector completes what the template may
// read (the `nodes.*` are exactly those the validator lets it read: after a condition's
// branches meet, neither branch is offered) and previews what it renders to, with the
// workflow's last run as the sample: the preview must equal what the server rendered for
// that run (a transform's output, an end's output, the URL an http node called).
import path from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures/test';
import { DesignerPage } from './fixtures/designer_page';
import { Target, saveWorkflow, startRun, uniqueName } from './fixtures/console_target';

/** Screenshots go here when it is set (`WEFT_E2E_SHOTS=/some/dir`). */
const SHOTS = process.env.WEFT_E2E_SHOTS;

/** start → check; true → big, false → small; both → merge → call (http) → done. */
function branched(name: string, target: Target) {
  return {
    name,
    input_schema: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        n: { type: 'integer' },
        customer: { type: 'object', properties: { email: { type: 'string' } } },
      },
    },
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'check', type: 'condition', expr: 'input.n > 1' },
      { id: 'big', type: 'transform', output: '{{ input.name | upper }}-{{ input.n * 2 }}' },
      { id: 'small', type: 'transform', output: 'small' },
      { id: 'merge', type: 'join' },
      {
        id: 'call',
        type: 'http',
        request: { method: 'GET', url: `${target.url}/ok/{{ input.name | lower | replace(' ', '-') }}/{{ nodes.check.output }}` },
      },
      {
        id: 'done',
        type: 'end',
        output: { greeting: '{{ input.name | title }} has {{ input.n + 1 }}', path: '{{ nodes.call.output.body.path }}' },
      },
    ],
    edges: [
      { from: 'start', to: 'check' },
      { from: 'check', to: 'big', port: 'true' },
      { from: 'check', to: 'small', port: 'false' },
      { from: 'big', to: 'merge' },
      { from: 'small', to: 'merge' },
      { from: 'merge', to: 'call' },
      { from: 'call', to: 'done' },
    ],
  };
}

/** The names the open suggestion list offers (a hidden list is not in the accessibility tree). */
function offered(page: Page) {
  return page.getByRole('listbox', { name: 'Suggestions' }).getByRole('option').locator('code');
}

let target: Target;
test.beforeAll(async () => {
  target = await Target.start();
});
test.afterAll(async () => {
  await target.stop();
});

test('autocomplete offers exactly the nodes that surely ran before, by keyboard', async ({ page, request }) => {
  const name = uniqueName('expr-complete');
  await saveWorkflow(request, branched(name, target));
  const d = new DesignerPage(page);
  await d.goto(name);
  await page.getByTestId('zoom-fit').click();

  // The end node after the branches meet: not `big` nor `small`.
  await d.select('done');
  const output = d.field('output');
  await output.fill('"');
  await output.press('End');
  await page.keyboard.type('{{ ');
  await expect(offered(page)).toHaveText(['input', 'nodes', 'run']);
  await page.keyboard.type('nodes.');
  await expect(offered(page)).toHaveText(['start', 'check', 'merge', 'call']);
  await expect(output).toHaveAttribute('aria-autocomplete', 'list');
  // The list of this field: the output's controls it.
  const list = page.locator(`#${await output.getAttribute('aria-controls')}`);
  await expect(list).toHaveAttribute('role', 'listbox');
  await expect(list).toBeVisible();
  // Down to `check`, Enter takes it.
  await page.keyboard.press('ArrowDown');
  await expect(list.getByRole('option', { selected: true })).toContainText('check');
  const active = await list.getByRole('option', { selected: true }).getAttribute('id');
  await expect(output).toHaveAttribute('aria-activedescendant', active!);
  await page.keyboard.press('Enter');
  await expect(list).toBeHidden();
  await expect(output).toHaveValue('"{{ nodes.check');
  await page.keyboard.type('.');
  await expect(offered(page)).toHaveText(['output', 'status']);
  await page.keyboard.press('Escape');
  await expect(list).toBeHidden();
  await page.keyboard.type('output }}"');
  await expect(output).toHaveValue('"{{ nodes.check.output }}"');
  await expect(d.inspector.getByTestId('field-error')).toHaveCount(0);

  // The http node's URL is a combobox; its scope has `secrets` (http may read them), and the
  // nodes before it: the join, not the branches. Tab accepts too.
  await d.select('call');
  const url = d.field('url');
  await expect(url).toHaveAttribute('role', 'combobox');
  await expect(url).toHaveAttribute('aria-expanded', 'false');
  await url.fill('http://example.test/');
  await url.press('End');
  await page.keyboard.type('{{ ');
  await expect(url).toHaveAttribute('aria-expanded', 'true');
  await expect(offered(page)).toHaveText(['input', 'nodes', 'run', 'secrets']);
  // The secrets' names come from the server (`GET /api/secrets`, never a value): no node
  // reads one yet.
  await page.keyboard.type('secrets.');
  await expect(offered(page)).toHaveText(['SHIPPING_KEY']);
  await page.keyboard.press('Escape');
  for (let i = 0; i < 'secrets.'.length; i++) await page.keyboard.press('Backspace');
  await page.keyboard.type('nodes.');
  await expect(offered(page)).toHaveText(['start', 'check', 'merge']);
  await page.keyboard.press('Escape');
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Backspace');
  await page.keyboard.type('input.');
  await expect(offered(page)).toHaveText(['customer', 'n', 'name']);
  await page.keyboard.type('customer.');
  await expect(offered(page)).toHaveText(['email']);
  await page.keyboard.press('Tab');
  await expect(url).toHaveValue('http://example.test/{{ input.customer.email');
  await page.keyboard.type(' | ');
  await expect(offered(page)).toContainText(['default', 'upper']);
  await page.keyboard.type('up');
  await expect(offered(page)).toHaveText(['upper']);
  if (SHOTS) {
    await page.getByRole('listbox', { name: 'Suggestions' }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'designer-expressions-complete-1280.png') });
    await d.inspector.screenshot({ path: path.join(SHOTS, 'designer-expressions-complete-inspector.png') });
  }
  await page.keyboard.press('Enter');
  await page.keyboard.type(' }}');
  await expect(url).toHaveValue('http://example.test/{{ input.customer.email | upper }}');
  await expect(url).toHaveAttribute('aria-expanded', 'false');

  // A condition's expression is one expression as a whole: no braces needed.
  await d.select('check');
  const expr = d.field('expr');
  await expr.fill('');
  await expr.pressSequentially('input.');
  await expect(offered(page)).toHaveText(['customer', 'n', 'name']);
  await page.keyboard.press('ArrowUp');
  await expect(page.getByRole('listbox', { name: 'Suggestions' }).getByRole('option', { selected: true })).toContainText('name');
  await page.keyboard.press('Enter');
  await expect(expr).toHaveValue('input.name');
});

test("the preview renders as the server did, with the last run's input and outputs", async ({ page, request }) => {
  const name = uniqueName('expr-preview');
  await saveWorkflow(request, branched(name, target));
  const input = { name: 'Ada Lovelace', n: 3, customer: { email: 'ada@example.com' } };
  const runId = await startRun(request, name, input);
  await expect
    .poll(async () => (await (await request.get(`/api/runs/${runId}`)).json()).status)
    .toBe('completed');
  const run = await (await request.get(`/api/runs/${runId}`)).json();
  const called = [...target.hits.keys()].find((p) => p.startsWith('/ok/ada-lovelace/'));
  expect(called, 'the http node called the target').toBeTruthy();

  const d = new DesignerPage(page);
  await d.goto(name);
  await page.getByTestId('zoom-fit').click();
  await d.select('big');
  const value = d.inspector.getByTestId('expression-preview-value');
  await expect(d.inspector.getByTestId('expression-preview')).toContainText(`from run ${runId.slice(0, 8)}`);
  await expect(value).toHaveText(run.nodes.big.output);

  await d.select('call');
  await expect(d.inspector.getByTestId('expression-preview-value').first()).toHaveText(`${target.url}${called}`);

  await d.select('check');
  await expect(value).toHaveText(JSON.stringify(run.nodes.check.output));

  // The end reads `nodes.call.output` from the sample run.
  await d.select('done');
  await expect(value).toHaveText(/greeting/);
  expect(JSON.parse((await value.textContent())!)).toEqual(run.output);
  if (SHOTS) {
    await value.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'designer-expressions-preview-1280.png') });
    await d.inspector.screenshot({ path: path.join(SHOTS, 'designer-expressions-preview-inspector.png') });
  }

  // A typed sample input: the preview follows it, and a second run with that input renders the same.
  await d.select('big');
  await d.inspector.getByTestId('expression-preview').locator('summary').click();
  const other = { name: 'grace hopper', n: 5 };
  await d.inspector.getByTestId('sample-input').fill(JSON.stringify(other));
  const second = await startRun(request, name, other);
  await expect
    .poll(async () => (await (await request.get(`/api/runs/${second}`)).json()).status)
    .toBe('completed');
  const secondRun = await (await request.get(`/api/runs/${second}`)).json();
  await expect(value).toHaveText(secondRun.nodes.big.output);

  // A broken template: the preview shows the error the node would fail with.
  await d.field('output').fill('"{{ input.name * }}"');
  await expect(d.inspector.getByTestId('expression-preview-error')).toContainText('output:');
  await d.inspector.getByTestId('sample-input').fill('{"name": ');
  await expect(d.inspector.getByTestId('expression-preview-error')).toContainText('not JSON');
});
