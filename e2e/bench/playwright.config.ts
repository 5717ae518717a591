// The browser benchmarks, run on demand (the default suite's testDir is ./tests):
//   WEFT_E2E_BIN=… npx playwright test -c bench/playwright.config.ts
// Each benchmark starts its own `weft serve` (OwnServer), so no web server is configured here.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  retries: 0,
  workers: 1,
  reporter: [['list']],
  timeout: 600_000,
  use: {
    viewport: { width: 1280, height: 800 },
    browserName: 'chromium',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--enable-precise-memory-info'],
    },
  },
});
