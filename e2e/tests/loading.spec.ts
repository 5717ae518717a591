// While the app downloads (a first visit fetches about 1.4 MB of wasm), the page says so
// instead of staying blank; once the app has started the message is gone. The wasm is the
// real server's, held back until the test lets it through.
import { expect, test } from './fixtures/test';

test('the page says it is loading until the app has started', async ({ page, pageErrors: _ }) => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/*_bg.wasm', async (route) => {
    await held;
    await route.continue();
  });
  await page.goto('/');
  const loading = page.locator('#app-loading');
  await expect(loading).toBeVisible();
  await expect(loading).toHaveText('Loading Weft…');
  await expect(loading).toHaveAttribute('role', 'status');
  await expect(page.getByTestId('page-start')).toHaveCount(0);
  release();
  await expect(page.getByTestId('page-start')).toBeVisible();
  await expect(loading).toHaveCount(0);
});
