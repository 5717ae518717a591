// The approvals inbox with people (issue 16, SPEC §7), on a closed server of the scenario's
// own (an API token; users and the workflow are made through the API with it): `sam`, an
// operator, starts a run signed in through the login page; the approval names `fin` and
// `sam` as its approvers, but whoever started a run may not decide it, so sam's inbox is
// empty and "Show all waiting" says why on his card, with no buttons. `fin`, an approver,
// signs in, follows the header's badge to the inbox, is stopped by the form's own checks
// (a required field left empty, text in a whole number), fills it in, comments and approves:
// the card leaves, the badge goes to 0, the run's log records `approval_decided` by fin with
// the typed data and comment, and the run completes with the node's output
// `{decision, by, comment, data}`. Screenshots of the filled card (1280 and 1024 px) and of
// sam's refused card go to /work/notes/shots.
import fs from 'node:fs';
import path from 'node:path';
import { type APIRequestContext, type Page } from '@playwright/test';
import { expect, test } from './fixtures/test';
import { OwnServer } from './fixtures/own_server';

const TOKEN = 'inbox-form-boot-token';
/** Screenshots go here when it is set (`WEFT_E2E_SHOTS=/some/dir`). */
const SHOTS = process.env.WEFT_E2E_SHOTS;
const auth = { Authorization: `Bearer ${TOKEN}` };
const WORKFLOW = 'expense-claim';

let server: OwnServer;

/** start → approve (fin or sam, a form) → done, whose output is the approval's output. */
const workflow = {
  name: WORKFLOW,
  nodes: [
    { id: 'start', type: 'start' },
    {
      id: 'approve',
      type: 'approval',
      label: 'Approve expense',
      prompt: 'Refund {{ input.what }} to {{ input.who }}?',
      // sam is named, so only the self-approval rule keeps him from deciding his own run.
      approvers: { users: ['fin', 'sam'] },
      form: {
        type: 'object',
        required: ['amount', 'category'],
        properties: {
          amount: { type: 'integer', minimum: 1, title: 'Amount', description: 'In whole euros' },
          category: { enum: ['travel', 'meals', 'equipment'], title: 'Category' },
          reason: { type: 'string', title: 'Reason' },
        },
      },
    },
    { id: 'done', type: 'end', output: { approval: '{{ nodes.approve.output }}' } },
  ],
  edges: [
    { from: 'start', to: 'approve' },
    { from: 'approve', to: 'done', port: 'approved' },
  ],
};

async function addUser(request: APIRequestContext, name: string, role: string, password: string) {
  const res = await request.post(`${server.base}/api/users`, { headers: auth, data: { name, role, password } });
  expect(res.status(), await res.text()).toBe(201);
}

/** Signs in through the login page, which sends the page on to `next`. */
async function signIn(page: Page, name: string, password: string, next: string) {
  await page.goto(`${server.base}/login?next=${encodeURIComponent(next)}`);
  await page.getByTestId('login-name').fill(name);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await expect(page.getByTestId('who')).toContainText(name);
  await expect(page).toHaveURL(`${server.base}${next}`);
}

async function signOut(page: Page) {
  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL(/\/login$/);
}

async function events(request: APIRequestContext, id: string): Promise<any[]> {
  const res = await request.get(`${server.base}/api/runs/${id}/events`, { headers: auth });
  expect(res.ok(), await res.text()).toBeTruthy();
  return (await res.json()).events;
}

test.beforeAll(async ({ playwright }) => {
  server = await OwnServer.start({ env: { WEFT_API_TOKEN: TOKEN } });
  const request = await playwright.request.newContext();
  await addUser(request, 'sam', 'operator', 'sam-secret-1');
  await addUser(request, 'fin', 'approver', 'fin-secret-1');
  const saved = await request.put(`${server.base}/api/workflows/${WORKFLOW}`, { headers: auth, data: workflow });
  expect(saved.ok(), await saved.text()).toBeTruthy();
  await request.dispose();
});

test.afterAll(async () => {
  await server?.dispose();
});

test('sam cannot decide his own run; fin fills the form in the inbox and approves it', async ({
  page,
  request,
  pageErrors: _errors,
}) => {
  // sam starts the run with his session (a signed-in write comes from the server's pages).
  await signIn(page, 'sam', 'sam-secret-1', '/inbox');
  const started = await page.request.post(`${server.base}/api/workflows/${WORKFLOW}/runs`, {
    headers: { Origin: server.base },
    data: { input: { what: 'train tickets', who: 'sam' } },
  });
  expect(started.status(), await started.text()).toBe(201);
  const id: string = (await started.json()).run_id;
  await expect
    .poll(async () => (await events(request, id)).map((e) => e.type))
    .toContain('node_waiting');
  expect((await events(request, id)).find((e) => e.type === 'run_started').data.by).toBe('sam');

  // Nothing waits for sam; everyone's list shows his run with why, and nothing to press.
  await page.reload();
  await expect(page.getByTestId('inbox-empty')).toHaveText('Nothing waits for you.');
  await expect(page.getByTestId('inbox-count')).toHaveText('0');
  const samCard = page.locator(`[data-testid="inbox-card"][data-run="${id}"]`);
  await expect(samCard).toHaveCount(0);
  await page.getByTestId('inbox-show-all').check();
  await expect(samCard.getByTestId('inbox-why-not')).toHaveText(
    'you started this run, and it does not allow self-approval',
  );
  await expect(samCard.getByTestId('inbox-started-by')).toHaveText('sam');
  await expect(samCard.getByTestId('inbox-approve')).toHaveCount(0);
  await expect(samCard.getByTestId('inbox-reject')).toHaveCount(0);
  await expect(samCard.getByTestId('inbox-form')).toHaveCount(0);
  if (SHOTS) {
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'inbox-form-self-1280.png'), fullPage: true });
  }
  await signOut(page);

  // fin: the badge counts the one approval, and leads to it.
  await signIn(page, 'fin', 'fin-secret-1', '/runs');
  await expect(page.getByTestId('who')).toHaveText('fin · approver');
  // The badge follows who signed in, without a reload.
  const badge = page.getByTestId('inbox-count');
  await expect(badge).toHaveText('1');
  await expect(page.getByTestId('nav-inbox')).toHaveAttribute('aria-label', 'Inbox: 1 approval waits for you');
  await page.getByTestId('nav-inbox').click();
  await expect(page).toHaveURL(`${server.base}/inbox`);
  const card = page.locator(`[data-testid="inbox-card"][data-run="${id}"]`);
  await expect(card.getByTestId('inbox-prompt')).toHaveText('Refund train tickets to sam?');
  await expect(card.getByTestId('inbox-node')).toHaveText('Approve expense');
  await expect(card.getByTestId('inbox-started-by')).toHaveText('sam');
  await expect(card.getByTestId('inbox-deciders')).toHaveText('fin · sam');
  await expect(card.getByTestId('inbox-why-not')).toHaveCount(0);

  // The page checks the form before sending anything.
  let posts = 0;
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().includes('/approvals/')) posts += 1;
  });
  const amount = card.getByTestId('form-field-amount');
  const category = card.getByTestId('form-field-category');
  const reason = card.getByTestId('form-field-reason');
  await expect(amount.locator('label')).toContainText('Amount');
  await expect(amount).toContainText('In whole euros');
  await card.getByTestId('inbox-approve').click();
  await expect(amount.getByTestId('form-error')).toHaveText('required');
  await expect(category.getByTestId('form-error')).toHaveText('required');
  await expect(reason.getByTestId('form-error')).toHaveText('');
  await expect(card.getByTestId('inbox-card-error')).toHaveText('Fill in the fields marked above.');
  await amount.locator('input').fill('12 euros');
  await category.locator('select').selectOption({ label: 'travel' });
  await card.getByTestId('inbox-approve').click();
  await expect(amount.getByTestId('form-error')).toHaveText('a whole number');
  await expect(category.getByTestId('form-error')).toHaveText('');
  await expect(amount.locator('input')).toHaveAttribute('aria-invalid', 'true');
  expect(posts).toBe(0);

  // Filled in properly, with a comment.
  await amount.locator('input').fill('86');
  await expect(amount.getByTestId('form-error')).toHaveText('');
  // With no field marked any more, the card's note goes too.
  await expect(card.getByTestId('inbox-card-error')).toHaveText('');
  await reason.locator('input').fill('Client visit in Lyon');
  await card.getByTestId('inbox-comment').fill('Receipts attached, fine.');
  if (SHOTS) {
    fs.mkdirSync(SHOTS, { recursive: true });
    for (const width of [1280, 1024]) {
      await page.setViewportSize({ width, height: 800 });
      await card.scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(SHOTS, `inbox-form-filled-${width}.png`), fullPage: true });
    }
  }

  await card.getByTestId('inbox-approve').click();
  await expect(card).toHaveCount(0);
  await expect(page.getByTestId('inbox-notice')).toContainText('Approved “Approve expense”');
  await expect(page.getByTestId('inbox-empty')).toHaveText('Nothing waits for you.');
  await expect(badge).toHaveText('0');
  expect(posts).toBe(1);

  // The log says who decided and what they filled in; the run goes on to the end.
  const data = { amount: 86, category: 'travel', reason: 'Client visit in Lyon' };
  await expect
    .poll(async () => {
      const res = await request.get(`${server.base}/api/runs/${id}`, { headers: auth });
      return (await res.json()).status;
    })
    .toBe('completed');
  const decided = (await events(request, id)).filter((e) => e.type === 'approval_decided');
  expect(decided).toHaveLength(1);
  expect(decided[0].node).toBe('approve');
  expect(decided[0].data).toMatchObject({
    decision: 'approve',
    by: 'fin',
    comment: 'Receipts attached, fine.',
    data,
  });
  const run = await (await request.get(`${server.base}/api/runs/${id}`, { headers: auth })).json();
  const output = { decision: 'approve', by: 'fin', comment: 'Receipts attached, fine.', data };
  expect(run.nodes.approve.output).toEqual(output);
  expect(run.output).toEqual({ approval: output });
});

test("the run's own page draws the same form, checks it, and records what fin typed", async ({
  page,
  request,
  pageErrors: _errors,
}) => {
  // Started with the token, so fin (named) may decide it.
  const started = await request.post(`${server.base}/api/workflows/${WORKFLOW}/runs`, {
    headers: auth,
    data: { input: { what: 'a monitor', who: 'ana' } },
  });
  expect(started.status(), await started.text()).toBe(201);
  const id: string = (await started.json()).run_id;
  await signIn(page, 'fin', 'fin-secret-1', `/runs/${id}`);
  const card = page.getByTestId('approval-approve');
  await expect(card.getByTestId('approval-prompt')).toHaveText('Refund a monitor to ana?');
  const form = card.getByTestId('approval-form');
  const amount = form.getByTestId('form-field-amount');
  await expect(amount.locator('label')).toContainText('Amount');
  await card.getByTestId('approve-button').click();
  await expect(amount.getByTestId('form-error')).toHaveText('required');
  await amount.locator('input').fill('240');
  await form.getByTestId('form-field-category').locator('select').selectOption({ label: 'equipment' });
  await card.getByTestId('approval-comment').fill('Needed for the new desk.');
  await card.getByTestId('approve-button').click();
  await expect(page.getByTestId('run-status')).toHaveText(/completed/i);
  const decided = (await events(request, id)).find((e) => e.type === 'approval_decided');
  expect(decided.data).toMatchObject({
    decision: 'approve',
    by: 'fin',
    comment: 'Needed for the new desk.',
    data: { amount: 240, category: 'equipment' },
  });
});
