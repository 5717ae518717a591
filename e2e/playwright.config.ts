// Browser tests against the real server: `weft serve` on a fresh SQLite file, hosting the
// Trunk-built SPA from frontend/dist. Build both first (see README.md).
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from '@playwright/test';

/** `WEFT_E2E_PORT` moves both servers, so two checkouts can run their suites at once. */
const PORT = Number(process.env.WEFT_E2E_PORT || 18080);
/** A second server that requires `Authorization: Bearer ${API_TOKEN}` on `/api`. */
export const TOKEN_PORT = PORT + 1;
export const API_TOKEN = 'e2e-token';
const root = path.resolve(__dirname, '..');
/** The server under test: this checkout's debug build unless `WEFT_E2E_BIN` names another. */
const weft = process.env.WEFT_E2E_BIN || path.join(root, 'target/debug/weft');

// Workers re-read this file; the environment carries the main process's choice to them
// and to global-teardown.ts, which deletes the file.
process.env.WEFT_E2E_DB ??= path.join(os.tmpdir(), `weft-e2e-${process.pid}-${Date.now()}.db`);
const database = process.env.WEFT_E2E_DB;

export default defineConfig({
  testDir: './tests',
  forbidOnly: !!process.env.CI,
  retries: 0,
  // Two cores, one server: run the scenarios one after another.
  workers: 1,
  reporter: [['list']],
  globalTeardown: './global-teardown.ts',
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    viewport: { width: 1280, height: 800 },
    browserName: 'chromium',
    launchOptions: {
      // Debian's chromium; Playwright's own browsers are never downloaded.
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  webServer: [
    // No token, whatever the shell that started the suite has; one secret, whose name the
    // designer offers (designer_expressions.spec.ts).
    server(PORT, database, { WEFT_API_TOKEN: '', WEFT_SECRET_SHIPPING_KEY: 'e2e-shipping-key' }),
    // The same program with an API token, for token.spec.ts.
    server(TOKEN_PORT, `${database}.token.db`, { WEFT_API_TOKEN: API_TOKEN }),
  ],
});

/** `weft serve` on `port` with a fresh SQLite file, hosting the built SPA. */
function server(port: number, db: string, env: Record<string, string>) {
  return {
    command: [
      `'${weft}' serve`,
      `--listen 127.0.0.1:${port}`,
      `--database 'sqlite://${db}?mode=rwc'`,
      `--ui-dir '${path.join(root, 'frontend/dist')}'`,
    ].join(' '),
    cwd: root,
    env,
    url: `http://127.0.0.1:${port}/healthz`,
    // A server left over on the port would be testing old code: fail instead.
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe' as const,
    stderr: 'pipe' as const,
  };
}
