// Single sign-on in the browser (SPEC §7), against a real OpenID Connect provider: npm
// `oidc-provider` run by scripts/oidc_provider.mjs, the one the Rust tests use. Its sign-ins
// finish without a form (it signs in the account the test names and consents at once), so
// the browser walks every real hop: Weft's /api/auth/oidc/login, the provider's /auth and
// /interaction pages, its redirect back to Weft's callback (code, state, PKCE, the ID token
// and userinfo checked by the server). The server is closed (an API token) and maps the
// `groups` claim to roles (`--oidc-role-claim`, `--oidc-role-map`). Proves: the login page
// offers "Sign in with SSO"; a person whose group maps to `editor` comes back signed in, the
// header showing their name and that role; a person whose claim names no role is refused
// with the reason. Screenshots of the login page (1280 and 1024 px) and of the refusal go to
// /work/notes/shots.
import fs from 'node:fs';
import path from 'node:path';
import { type Page } from '@playwright/test';
import { expect, test } from './fixtures/test';
import { OwnServer } from './fixtures/own_server';

/** The provider must know Weft's redirect URI before Weft starts: a fixed port. */
const PORT = Number(process.env.WEFT_E2E_PORT || 18080) + 41;
const BASE = `http://127.0.0.1:${PORT}`;
/** Screenshots go here when it is set (`WEFT_E2E_SHOTS=/some/dir`). */
const SHOTS = process.env.WEFT_E2E_SHOTS;
const CLIENT_ID = 'weft-e2e';
const CLIENT_SECRET = 'weft-e2e-sso-secret';

interface Provider {
  issuer: string;
  login(account: string): void;
  close(): Promise<void>;
}

let idp: Provider;
let server: OwnServer;

test.beforeAll(async () => {
  const script = path.resolve(__dirname, '../../scripts/oidc_provider.mjs');
  const { startProvider } = await import(script);
  idp = await startProvider({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUris: [`${BASE}/api/auth/oidc/callback`],
    accounts: {
      ada: { preferred_username: 'ada', email: 'ada@example.com', groups: ['staff', 'wf-editors'] },
      guest: { preferred_username: 'guest', email: 'guest@example.com', groups: ['staff'] },
    },
  });
  server = await OwnServer.start({
    port: PORT,
    env: {
      WEFT_API_TOKEN: 'sso-boot-token',
      WEFT_OIDC_ISSUER: idp.issuer,
      WEFT_OIDC_CLIENT_ID: CLIENT_ID,
      WEFT_OIDC_CLIENT_SECRET: CLIENT_SECRET,
      WEFT_OIDC_ROLE_CLAIM: 'groups',
      WEFT_OIDC_ROLE_MAP: 'wf-editors=editor,wf-viewers=viewer',
    },
  });
});

test.afterAll(async () => {
  await server?.dispose();
  await idp?.close();
});

/** The pages the browser is sent to, in order (every main-frame navigation). */
function visits(page: Page): string[] {
  const urls: string[] = [];
  page.on('request', (r) => {
    if (r.isNavigationRequest() && r.frame() === page.mainFrame()) urls.push(r.url());
  });
  return urls;
}

test('a person signs in through the identity provider and gets the role its group maps to', async ({
  page,
  pageErrors: _errors,
}) => {
  idp.login('ada');
  const went = visits(page);
  await page.goto(`${BASE}/runs`);
  await expect(page).toHaveURL(`${BASE}/login?next=%2Fruns`);
  const sso = page.getByTestId('login-sso');
  await expect(sso).toHaveText('Sign in with SSO');
  await expect(page.getByTestId('login-form')).toBeVisible();
  await expect(page.getByTestId('who')).toHaveCount(0);
  if (SHOTS) {
    fs.mkdirSync(SHOTS, { recursive: true });
    for (const width of [1280, 1024]) {
      await page.setViewportSize({ width, height: 800 });
      await page.screenshot({ path: path.join(SHOTS, `login-sso-${width}.png`), fullPage: true });
    }
  }

  await sso.click();
  // Back on the page that sent them to sign in.
  await expect(page).toHaveURL(`${BASE}/runs`);
  await expect(page.getByTestId('who')).toHaveText('ada · editor');
  await expect(page.getByTestId('who')).toHaveAttribute('title', 'Signed in as ada (editor)');
  await expect(page.getByTestId('sign-out')).toBeVisible();
  await expect(page.getByTestId('nav-admin')).toHaveCount(0);

  // The browser went through the provider's own pages and back through Weft's callback.
  const hops = went.map((u) => new URL(u)).map((u) => `${u.origin}${u.pathname}`);
  const at = (prefix: string) => hops.findIndex((h) => h.startsWith(prefix));
  expect(at(`${BASE}/api/auth/oidc/login`), hops.join('\n')).toBeGreaterThanOrEqual(0);
  expect(at(`${idp.issuer}/auth`), hops.join('\n')).toBeGreaterThan(at(`${BASE}/api/auth/oidc/login`));
  expect(at(`${idp.issuer}/interaction/`), hops.join('\n')).toBeGreaterThan(at(`${idp.issuer}/auth`));
  expect(at(`${BASE}/api/auth/oidc/callback`), hops.join('\n')).toBeGreaterThan(at(`${idp.issuer}/interaction/`));

  // The session is a real one: the API knows who this is, and a page typed in loads.
  const me = await (await page.request.get(`${BASE}/api/auth/me`)).json();
  expect(me).toMatchObject({ mode: 'closed', sso: true, user: 'ada', role: 'editor' });
  await page.goto(`${BASE}/workflows`);
  await expect(page).toHaveURL(`${BASE}/workflows`);
  await expect(page.getByTestId('who')).toHaveText('ada · editor');
});

test('a person whose claim names no role is refused, and told why', async ({ page, pageErrors: _errors }) => {
  idp.login('guest');
  await page.goto(`${BASE}/login`);
  await page.getByTestId('login-sso').click();
  const refused = page.getByTestId('sso-refused');
  await expect(refused).toContainText('Sign-in refused');
  await expect(refused).toContainText('guest may not use Weft: the groups claim names no Weft role');
  await expect(refused.locator('code')).toHaveText('groups');
  expect(new URL(page.url()).pathname).toBe('/api/auth/oidc/callback');
  if (SHOTS) {
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.setViewportSize({ width: 1024, height: 800 });
    await page.screenshot({ path: path.join(SHOTS, 'sso-refused-1024.png'), fullPage: true });
  }

  // No session came of it: back in Weft, the login page asks again.
  await refused.getByRole('link', { name: 'Back to sign-in' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByTestId('who')).toHaveCount(0);
  const me = await (await page.request.get(`${BASE}/api/auth/me`)).json();
  expect(me.user).toBeUndefined();
});
