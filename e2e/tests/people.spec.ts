// People and access in the UI (SPEC §7), on a closed server of the scenario's own (it has an
// API token, so it starts closed; users and a workflow are made through the API with it):
// the login page, the header, the admin pages (users, API keys, audit) and a viewer's run
// page. Screenshots of each page at 1280 and 1024 px go to WEFT_E2E_SHOTS when it is set.
import fs from 'node:fs';
import path from 'node:path';
import { type APIRequestContext, type Page } from '@playwright/test';
import { expect, test } from './fixtures/test';
import { OwnServer } from './fixtures/own_server';

const TOKEN = 'people-boot-token';
const PORT = Number(process.env.WEFT_E2E_PORT || 18080) + 40;
const SHOTS = process.env.WEFT_E2E_SHOTS;

let server: OwnServer;
let runId: string;

const auth = { Authorization: `Bearer ${TOKEN}` };

async function addUser(request: APIRequestContext, name: string, role: string, password: string) {
  const res = await request.post(`${server.base}/api/users`, { headers: auth, data: { name, role, password } });
  expect(res.status(), await res.text()).toBe(201);
}

/** A run waiting at an approval, started with the token. */
async function waitingRun(request: APIRequestContext): Promise<string> {
  const workflow = {
    name: 'needs-a-yes',
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'approve', type: 'approval', prompt: 'Go ahead?' },
      { id: 'done', type: 'end' },
    ],
    edges: [
      { from: 'start', to: 'approve' },
      { from: 'approve', to: 'done', port: 'approved' },
    ],
  };
  const saved = await request.put(`${server.base}/api/workflows/${workflow.name}`, { headers: auth, data: workflow });
  expect(saved.ok(), await saved.text()).toBeTruthy();
  const started = await request.post(`${server.base}/api/workflows/${workflow.name}/runs`, {
    headers: auth,
    data: { input: {} },
  });
  expect(started.status(), await started.text()).toBe(201);
  return (await started.json()).run_id;
}

async function shoot(page: Page, name: string) {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const width of [1280, 1024]) {
    await page.setViewportSize({ width, height: 800 });
    await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function signIn(page: Page, name: string, password: string) {
  await page.getByTestId('login-name').fill(name);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-password').press('Enter');
}

test.beforeAll(async ({ playwright }) => {
  server = await OwnServer.start({ port: PORT, env: { WEFT_API_TOKEN: TOKEN } });
  const request = await playwright.request.newContext();
  await addUser(request, 'alice', 'admin', 'alice-secret-1');
  await addUser(request, 'victor', 'viewer', 'victor-secret-1');
  runId = await waitingRun(request);
  await request.dispose();
});

test.afterAll(async () => {
  await server?.dispose();
});

test.use({ baseURL: `http://127.0.0.1:${PORT}` });

test('a closed server sends a visitor to the login page, and back after signing in', async ({ page, pageErrors: _ }) => {
  await page.goto(`${server.base}/runs`);
  await expect(page).toHaveURL(/\/login\?next=%2Fruns$/);
  await expect(page.getByTestId('login-form')).toBeVisible();
  await expect(page.getByTestId('login-sso')).toHaveCount(0);
  await shoot(page, 'login');

  await signIn(page, 'alice', 'not-her-password');
  await expect(page.getByTestId('login-error')).toHaveText('Wrong name or password.');
  await shoot(page, 'login-error');

  await signIn(page, 'alice', 'alice-secret-1');
  await expect(page).toHaveURL(/\/runs$/);
  await expect(page.getByTestId('who')).toHaveText('alice · admin');
  await expect(page.getByTestId('sign-out')).toBeVisible();
  await expect(page.getByTestId('nav-admin')).toBeVisible();
  await expect(page.getByTestId('open-notice')).toHaveCount(0);
  await shoot(page, 'header-admin');

  // Signing out ends the session: the next page asks again.
  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto(`${server.base}/schedules`);
  await expect(page).toHaveURL(/\/login\?next=%2Fschedules$/);
});

test('an admin makes and revokes an API key, adds a user, and reads the audit log', async ({ page, request, pageErrors: _ }) => {
  await page.goto(`${server.base}/admin/keys`);
  await signIn(page, 'alice', 'alice-secret-1');
  await expect(page).toHaveURL(/\/admin\/keys$/);

  // A key, shown once with Copy and the warning.
  await page.getByTestId('new-key-name').fill('deploy-bot');
  await page.getByTestId('new-key-role').selectOption('operator');
  await page.getByTestId('new-key-submit').click();
  const box = page.getByTestId('new-key');
  await expect(box).toBeVisible();
  await expect(page.getByTestId('new-key-warning')).toContainText('it will not be shown again');
  await expect(page.getByTestId('new-key-copy')).toBeVisible();
  const key = await page.getByTestId('new-key-value').inputValue();
  expect(key.length).toBeGreaterThan(16);
  const row = page.getByTestId('key-deploy-bot');
  await expect(row).toBeVisible();
  expect(key.startsWith((await row.getByTestId('key-prefix').textContent())!.replace('…', ''))).toBeTruthy();
  await shoot(page, 'admin-keys');

  // The key works until revoked; then it is refused (`request` has no session cookie).
  const me = await request.get(`${server.base}/api/auth/me`, { headers: { Authorization: `Bearer ${key}` } });
  expect((await me.json()).role).toBe('operator');
  await page.getByTestId('new-key-done').click();
  await expect(box).toHaveCount(0);
  await row.getByTestId('key-revoke').click();
  await row.getByTestId('key-revoke-confirm').click();
  await expect(row.getByTestId('key-revoked')).toBeVisible();
  const after = await request.get(`${server.base}/api/runs`, { headers: { Authorization: `Bearer ${key}` } });
  expect(after.status()).toBe(401);

  // A user, seen in the list; a duplicate is refused in place with the server's message.
  await page.getByTestId('tab-admin-users').click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await expect(page.getByTestId('user-alice')).toBeVisible();
  await page.getByTestId('new-user-name').fill('amira');
  await page.getByTestId('new-user-role').selectOption('approver');
  await page.getByTestId('new-user-password').fill('amira-secret-1');
  await page.getByTestId('new-user-submit').click();
  const amira = page.getByTestId('user-amira');
  await expect(amira).toBeVisible();
  await expect(amira.getByTestId('user-role')).toHaveValue('approver');
  await page.getByTestId('new-user-name').fill('amira');
  await page.getByTestId('new-user-password').fill('another-secret');
  await page.getByTestId('new-user-submit').click();
  await expect(page.getByTestId('new-user-error')).toBeVisible();
  await shoot(page, 'admin-users');

  // Change a role, then remove after a confirmation.
  await amira.getByTestId('user-role').selectOption('operator');
  await expect
    .poll(async () => {
      const list = await (await page.request.get(`${server.base}/api/users`, { headers: auth })).json();
      return list.users.find((u: any) => u.name === 'amira')?.role;
    })
    .toBe('operator');
  await amira.getByTestId('user-remove').click();
  await amira.getByTestId('user-remove-confirm').click();
  await expect(amira).toHaveCount(0);

  // The audit log has the sign-in and the key.
  await page.getByTestId('tab-admin-audit').click();
  await expect(page).toHaveURL(/\/admin\/audit$/);
  const rows = page.getByTestId('audit-row');
  await expect(rows.first()).toBeVisible();
  await expect(page.getByTestId('audit-action-cell').filter({ hasText: /^login$/ }).first()).toBeVisible();
  await expect(page.getByTestId('audit-action-cell').filter({ hasText: /^key\./ }).first()).toBeVisible();
  await shoot(page, 'admin-audit');

  // Filtering by action.
  await page.getByTestId('audit-action').fill('login');
  await page.getByTestId('audit-apply').click();
  await expect(page.getByTestId('audit-action-cell').filter({ hasNotText: /^login$/ })).toHaveCount(0);
  await expect(page.getByTestId('audit-action-cell').first()).toHaveText('login');
});

test('a viewer sees the run but cannot decide it, and has no admin pages', async ({ page, pageErrors: _ }) => {
  await page.goto(`${server.base}/runs/${runId}`);
  await expect(page).toHaveURL(/\/login\?next=/);
  await signIn(page, 'victor', 'victor-secret-1');
  await expect(page).toHaveURL(new RegExp(`/runs/${runId}$`));
  await expect(page.getByTestId('who')).toHaveText('victor · viewer');
  await expect(page.getByTestId('nav-admin')).toHaveCount(0);

  const approve = page.getByTestId('approve-button');
  await expect(approve).toBeVisible();
  await expect(approve).toBeDisabled();
  await expect(approve).toHaveAttribute('title', /approver role/);
  await expect(page.getByTestId('reject-button')).toBeDisabled();
  await expect(page.getByTestId('cancel-button')).toBeDisabled();
  await expect(page.getByTestId('cancel-button')).toHaveAttribute('title', /operator role/);
  await expect(page.getByTestId('run-again')).toBeDisabled();
  await expect(page.getByTestId('run-again')).toHaveAttribute('title', /operator role/);
  await shoot(page, 'header-viewer-run');

  // Nor may a viewer start runs, or save and import definitions.
  await page.goto(`${server.base}/runs`);
  await expect(page.getByTestId('start-run')).toBeDisabled();
  await page.goto(`${server.base}/workflows`);
  await expect(page.getByTestId('import-button')).toBeDisabled();
  await expect(page.getByTestId('import-button')).toHaveAttribute('title', /editor role/);
  await page.goto(`${server.base}/workflows/needs-a-yes`);
  await expect(page.getByTestId('save-button')).toBeDisabled();
  await expect(page.getByTestId('save-button')).toHaveAttribute('title', /editor role/);
  await expect(page.getByTestId('run-button')).toBeDisabled();
  await expect(page.getByTestId('run-button')).toHaveAttribute('title', /operator role/);

  // An admin page typed in by hand says why instead of loading.
  await page.goto(`${server.base}/admin/users`);
  await expect(page.getByTestId('admin-refused')).toContainText('admin role');

  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL(/\/login$/);
});

test('a session the server no longer knows sends the page to the login page', async ({ page, pageErrors: _ }) => {
  await page.goto(`${server.base}/login`);
  await signIn(page, 'victor', 'victor-secret-1');
  await expect(page.getByTestId('who')).toHaveText('victor · viewer');
  await page.context().clearCookies();
  await page.goto(`${server.base}/runs`);
  await expect(page).toHaveURL(/\/login\?next=%2Fruns$/);
});

test('after signing in, a next that is another site in disguise leads home', async ({ page, pageErrors: _ }) => {
  // Browsers drop the tab and read the backslash as a slash: each is //evil.example.
  for (const next of ['//evil.example/x', '/\t/evil.example', '/\\evil.example']) {
    await page.goto(`${server.base}/login?next=${encodeURIComponent(next)}`);
    await signIn(page, 'victor', 'victor-secret-1');
    await expect(page.getByTestId('who')).toHaveText('victor · viewer');
    await expect(page).toHaveURL(`${server.base}/`);
    await page.getByTestId('sign-out').click();
    await expect(page).toHaveURL(/\/login$/);
  }
});
