// The suite's shared server is open (no user, key or token): the header says so, calmly, and
// everything stays usable as before — no login page, every action and the admin pages there.
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from './fixtures/test';

const SHOTS = process.env.WEFT_E2E_SHOTS;

test('an open server says so in the header and asks no one to sign in', async ({ start, page }) => {
  await start.goto();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('open-notice')).toHaveText('Open: no users — anyone here is admin');
  await expect(page.getByTestId('sign-out')).toHaveCount(0);
  // Every list of the start page loads: nothing is refused.
  for (const section of start.sections()) await expect(section.getByTestId('start-error')).toHaveCount(0);
  await expect(start.workflows.locator('.start-body > .list-loading')).toHaveCount(0);
  if (SHOTS) {
    fs.mkdirSync(SHOTS, { recursive: true });
    for (const width of [1280, 1024]) {
      await page.setViewportSize({ width, height: 800 });
      await page.screenshot({ path: path.join(SHOTS, `header-open-${width}.png`) });
    }
  }

  // Everyone is admin here: the admin pages are linked and load.
  await page.getByTestId('nav-admin').click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await expect(page.getByTestId('users-empty')).toBeVisible();
  await expect(page.getByTestId('admin-refused')).toHaveCount(0);
});
