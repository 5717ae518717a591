// Finding runs (issue 18, SPEC §6 "Finding runs"): by id prefix, by a field of the input, the
// runs waiting for a person, with a total, a page size and paging, all in the address; the
// whole row opens its run and its full id copies. Errors are said in words next to the
// filters, and a page whose server went away recovers with Retry.
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { APIRequestContext, Page } from '@playwright/test';
import { expect, test } from './fixtures/test';
import { saveWorkflow, serverNodeStatus, uniqueName } from './fixtures/console_target';
import { OwnServer } from './fixtures/own_server';
import { RunsSearch } from './fixtures/runs_search_page';

/** Asks a person, then ends: its runs wait with `needs_person`. */
function personWorkflow(name: string) {
  return {
    name,
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'approve', type: 'approval', prompt: 'Go on?' },
      { id: 'done', type: 'end' },
    ],
    edges: [
      { from: 'start', to: 'approve' },
      { from: 'approve', to: 'done', port: 'approved' },
    ],
  };
}

/** Ends at once. */
function quickWorkflow(name: string) {
  return {
    name,
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'done', type: 'end' },
    ],
    edges: [{ from: 'start', to: 'done' }],
  };
}

async function start(request: APIRequestContext, workflow: string, runId: string, input: unknown) {
  const res = await request.post(`/api/workflows/${workflow}/runs`, { data: { input, run_id: runId } });
  expect(res.status(), await res.text()).toBe(201);
}

function shots(): string {
  return path.join(__dirname, '..', 'screenshots');
}

/** A run id prefix no other scenario uses; ids sort by it, the list by creation. */
function tag(): string {
  return `t${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}

test('search by id prefix and by an input field, the needs-a-person view, all kept in the address', async ({
  page,
  request,
  pageErrors: _errors,
}) => {
  const person = uniqueName('person');
  const quick = uniqueName('quick');
  await saveWorkflow(request, personWorkflow(person));
  await saveWorkflow(request, quickWorkflow(quick));
  const t = tag();
  const id = (s: string) => `${t}-${s}`;
  await start(request, quick, id('a1'), { customer: { id: 'c-17' }, amount: 42 });
  await start(request, quick, id('a2'), { customer: { id: 'c-18' }, amount: 42 });
  await start(request, quick, id('b1'), { customer: { id: 'c-17' }, amount: 7, code: '42' });
  await start(request, person, id('p1'), { customer: { id: 'c-17' } });
  await start(request, person, id('p2'), { customer: { id: 'c-99' } });
  await serverNodeStatus(request, id('p1'), 'approve', 'waiting');
  await serverNodeStatus(request, id('p2'), 'approve', 'waiting');

  const runs = new RunsSearch(page);
  await runs.goto('');

  // An id prefix: exactly the runs it begins, newest first, counted.
  await runs.searchId(id('a'));
  await expect(page).toHaveURL(new RegExp(`id_prefix=${id('a')}`));
  await expect.poll(() => runs.ids()).toEqual([id('a2'), id('a1')]);
  await expect(runs.count).toHaveText('1–2 of 2 runs');

  // A whole id finds its run.
  await runs.searchId(id('b1'));
  await expect.poll(() => runs.ids()).toEqual([id('b1')]);

  // An input field, with the id prefix of this scenario's runs.
  await runs.idFilter.fill(t);
  await runs.searchInput('customer.id', 'c-17');
  await expect.poll(() => runs.ids()).toEqual([id('p1'), id('b1'), id('a1')]);
  await expect(runs.count).toHaveText('1–3 of 3 runs');
  // A number is JSON; a quoted one is text.
  await runs.searchInput('amount', '42');
  await expect.poll(() => runs.ids()).toEqual([id('a2'), id('a1')]);
  await runs.searchInput('code', '"42"');
  await expect.poll(() => runs.ids()).toEqual([id('b1')]);
  await runs.searchInput('code', '42');
  await expect.poll(() => runs.ids()).toEqual([]);
  await expect(page.getByTestId('runs-empty')).toBeVisible();

  // The address holds the list: a reload shows the same filters and rows.
  await runs.searchInput('customer.id', 'c-17');
  await expect.poll(() => runs.ids()).toEqual([id('p1'), id('b1'), id('a1')]);
  await page.reload();
  await expect(runs.idFilter).toHaveValue(t);
  await expect(runs.inputPath).toHaveValue('customer.id');
  await expect(runs.inputValue).toHaveValue('c-17');
  await expect.poll(() => runs.ids()).toEqual([id('p1'), id('b1'), id('a1')]);

  // A run waiting for a person reads differently from one that merely ran.
  await expect(runs.row(id('p1')).getByTestId('run-row-status')).toHaveText('needs a person');
  await expect(runs.row(id('p1'))).toHaveAttribute('data-needs-person', 'true');
  await expect(runs.row(id('a1')).getByTestId('run-row-status')).toHaveText('completed');

  // Needs a person: exactly the waiting runs, whatever their input.
  await runs.inputPath.fill('');
  await runs.inputValue.fill('');
  await runs.search.click();
  await expect.poll(() => runs.ids()).toEqual([id('p2'), id('p1'), id('b1'), id('a2'), id('a1')]);
  await runs.viewNeedsPerson.click();
  await expect(page).toHaveURL(/needs=person/);
  await expect(runs.viewNeedsPerson).toHaveAttribute('aria-pressed', 'true');
  await expect.poll(() => runs.ids()).toEqual([id('p2'), id('p1')]);
  await expect(runs.count).toHaveText('1–2 of 2 runs');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: path.join(shots(), 'runs-needs-person.png'), fullPage: true });
  // Back goes to the view before, forward returns.
  await page.goBack();
  await expect.poll(() => runs.ids()).toEqual([id('p2'), id('p1'), id('b1'), id('a2'), id('a1')]);
  await page.goForward();
  await expect.poll(() => runs.ids()).toEqual([id('p2'), id('p1')]);

  // The decision elsewhere: the run no longer waits and leaves this view.
  const res = await request.post(`/api/runs/${id('p1')}/approvals/approve`, { data: { decision: 'approve' } });
  expect(res.ok(), await res.text()).toBeTruthy();
  await expect.poll(() => runs.ids()).toEqual([id('p2')]);

  // Clear all keeps the view and empties the form.
  await runs.viewAll.click();
  await runs.clearAll.click();
  await expect(runs.idFilter).toHaveValue('');
  await expect(page).toHaveURL(/\/runs$/);
});

test('page size, paging with the total, the whole row opens its run, and the id copies', async ({
  page,
  context,
  request,
  pageErrors: _errors,
}) => {
  const quick = uniqueName('many');
  await saveWorkflow(request, quickWorkflow(quick));
  const t = tag();
  const ids: string[] = [];
  for (let i = 0; i < 30; i += 1) {
    const runId = `${t}-m${String(i).padStart(2, '0')}`;
    await start(request, quick, runId, { i });
    ids.push(runId);
  }
  const newest = [...ids].reverse();
  const runs = new RunsSearch(page);
  await runs.goto(`?id_prefix=${t}`);
  await expect(runs.pageSize).toHaveValue('50');
  await expect.poll(() => runs.ids()).toEqual(newest);
  await expect(runs.count).toHaveText('1–30 of 30 runs');

  await runs.pageSize.selectOption('25');
  await expect(page).toHaveURL(/limit=25/);
  await expect.poll(() => runs.ids()).toEqual(newest.slice(0, 25));
  await expect(runs.count).toHaveText('1–25 of 30 runs');
  await runs.older.click();
  await expect.poll(() => runs.ids()).toEqual(newest.slice(25));
  await expect(runs.count).toHaveText('26–30 of 30 runs');
  await expect(runs.older).toBeDisabled();
  // The page is in the address too.
  await page.reload();
  await expect.poll(() => runs.ids()).toEqual(newest.slice(25));
  await expect(runs.count).toHaveText('26–30 of 30 runs');
  await runs.newer.click();
  await expect.poll(() => runs.ids()).toEqual(newest.slice(0, 25));
  await expect(runs.newer).toBeDisabled();

  // Full ids, each with a copy button that puts the whole id on the clipboard.
  const row = runs.row(newest[3]);
  await expect(row.getByTestId('run-id')).toHaveText(newest[3]);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(page.url()).origin });
  await row.getByTestId('copy-id').click();
  await expect(row.getByTestId('copy-id')).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(newest[3]);
  // Copying did not open the run.
  await expect(page).toHaveURL(/\/runs\?/);

  await screenshotAt(page, 1280, 'runs-search.png');
  await screenshotAt(page, 1024, 'runs-search-1024.png');
  // At 1024 px the table fits: no sideways scroll.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.setViewportSize({ width: 1280, height: 800 });

  // A click anywhere on the row opens its run; back returns to the same list.
  await row.locator('td.num').click();
  await expect(page).toHaveURL(new RegExp(`/runs/${newest[3]}$`));
  await expect(page.getByTestId('page-run')).toBeVisible();
  // Leaving at once, before its stream opened, must not trouble the page's late handlers
  // (the page fails on any uncaught error).
  await page.goBack();
  await expect.poll(() => runs.ids()).toEqual(newest.slice(0, 25));
  await expect(runs.pageSize).toHaveValue('25');

  // Enter on a focused row opens it too.
  await runs.row(newest[5]).focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`/runs/${newest[5]}$`));
});

test('a bad filter value shows the server’s message next to the filters, and axe finds nothing serious', async ({
  page,
  request,
  pageErrors: _errors,
}) => {
  const person = uniqueName('axe');
  await saveWorkflow(request, personWorkflow(person));
  const t = tag();
  await start(request, person, `${t}-x1`, { n: 1 });
  await start(request, person, `${t}-x2`, { n: 2 });
  await serverNodeStatus(request, `${t}-x2`, 'approve', 'waiting');
  const runs = new RunsSearch(page);
  await runs.goto(`?id_prefix=${t}`);
  await expect.poll(() => runs.ids()).toEqual([`${t}-x2`, `${t}-x1`]);

  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  expect(serious).toEqual([]);

  // The server's own 400 message, where the filters are; the rows stay as they were.
  const api = await request.get('/api/runs?input.bad%20path=1');
  expect(api.status()).toBe(400);
  const message: string = (await api.json()).error.message;
  expect(message.length).toBeGreaterThan(0);
  await runs.searchInput('bad path', '1');
  await expect(runs.error).toBeVisible();
  await expect(page.getByTestId('runs-error-message')).toHaveText(message);
  await expect(page.getByTestId('page-runs')).toBeVisible();
  await page.screenshot({ path: path.join(shots(), 'runs-bad-filter.png') });
  // Fixing the value clears the message.
  await runs.searchInput('n', '2');
  await expect(runs.error).toHaveCount(0);
  await expect.poll(() => runs.ids()).toEqual([`${t}-x2`]);

  // A creation range, in local minutes: "until" includes its minute, "from" starts at its.
  const createdAt = async (run: string): Promise<number> => (await (await request.get(`/api/runs/${run}`)).json()).created_at;
  const [first, second] = [await createdAt(`${t}-x1`), await createdAt(`${t}-x2`)];
  const local = (ms: number) =>
    page.evaluate((at) => {
      const d = new Date(at);
      const p = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    }, ms);
  await runs.inputPath.fill('');
  await runs.inputValue.fill('');
  await runs.fromFilter.fill(await local(first));
  await runs.untilFilter.fill(await local(second));
  await runs.search.click();
  await expect(page).toHaveURL(/created_after=\d+&created_before=\d+/);
  await expect.poll(() => runs.ids()).toEqual([`${t}-x2`, `${t}-x1`]);
  await runs.fromFilter.fill(await local(second + 60_000));
  await runs.untilFilter.fill('');
  await runs.search.click();
  await expect.poll(() => runs.ids()).toEqual([]);
  await runs.fromFilter.fill('');
  await runs.untilFilter.fill(await local(first - 60_000));
  await runs.search.click();
  await expect.poll(() => runs.ids()).toEqual([]);
  // The range comes back from the address.
  await page.reload();
  await expect(runs.untilFilter).toHaveValue(await local(first - 60_000));
});

test('a server that went away is said in words, and Retry brings the page back', async ({
  page,
  pageErrors: _errors,
}) => {
  const port = Number(process.env.WEFT_E2E_PORT || 18080) + 5;
  const server = await OwnServer.start({ port });
  try {
    const quick = uniqueName('retry');
    const put = await page.request.put(`${server.base}/api/workflows/${quick}`, { data: quickWorkflow(quick) });
    expect(put.ok(), await put.text()).toBeTruthy();
    const started = await page.request.post(`${server.base}/api/workflows/${quick}/runs`, {
      data: { input: {}, run_id: 'retry-1' },
    });
    expect(started.status()).toBe(201);

    const runs = new RunsSearch(page);
    await page.goto(`${server.base}/runs`);
    await expect.poll(() => runs.ids()).toEqual(['retry-1']);

    await server.stop();
    // A new search cannot reach the server: a sentence and Retry, not "Failed to fetch".
    await runs.statusFilter.selectOption('completed');
    await expect(runs.error).toContainText('Cannot reach the Weft server — is it running?');
    await expect(runs.error).not.toContainText('Failed to fetch');
    await expect(runs.retry).toBeVisible();
    await page.screenshot({ path: path.join(shots(), 'runs-unreachable.png') });

    // The workflows page has no live feed to reconnect: only Retry can bring it back.
    await page.getByRole('link', { name: 'Workflows', exact: true }).first().click();
    const error = page.getByTestId('workflows-error');
    await expect(error).toContainText('Cannot reach the Weft server — is it running?');
    await page.screenshot({ path: path.join(shots(), 'workflows-unreachable.png') });
    await error.getByTestId('load-retry').click();
    await expect(error).toContainText('Cannot reach the Weft server');
    await server.restart();
    await expect(error).toBeVisible();
    await error.getByTestId('load-retry').click();
    await expect(page.getByTestId('workflows-error')).toHaveCount(0);
    await expect(page.getByText(quick).first()).toBeVisible();

    // The runs page, loaded again, shows the list with its filter.
    await page.goBack();
    await expect(page).toHaveURL(/status=completed/);
    await expect.poll(() => runs.ids()).toEqual(['retry-1']);
    await expect(runs.error).toHaveCount(0);

    // A run page opened while the server is away: its load error, then Retry opens the run.
    await server.stop();
    await runs.row('retry-1').locator('td.num').click();
    const runError = page.getByTestId('run-load-error');
    await expect(runError).toContainText('Cannot reach the Weft server — is it running?');
    await page.screenshot({ path: path.join(shots(), 'run-unreachable.png') });
    await server.restart();
    await runError.getByTestId('load-retry').click();
    await expect(page.getByTestId('run-status')).toBeVisible();

    // The designer, opened from the list while the server is away: Retry opens the workflow.
    await expect(page.getByTestId('link-state')).not.toHaveText('Connecting…');
    await page.getByRole('link', { name: 'Workflows', exact: true }).first().click();
    await expect(page.getByTestId('workflow-link').filter({ hasText: quick })).toBeVisible();
    await server.stop();
    await page.getByTestId('workflow-link').filter({ hasText: quick }).click();
    const designerError = page.getByTestId('designer-error');
    await expect(designerError).toContainText('Cannot reach the Weft server — is it running?');
    await server.restart();
    await designerError.getByTestId('load-retry').click();
    await expect(page.getByTestId('designer-validity')).toBeVisible();
    await expect(page.getByTestId('designer-error')).toHaveCount(0);
  } finally {
    await server.dispose();
  }
});

async function screenshotAt(page: Page, width: number, name: string): Promise<void> {
  await page.setViewportSize({ width, height: 800 });
  await page.screenshot({ path: path.join(shots(), name), fullPage: true });
}
