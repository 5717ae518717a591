// Scenario for a server started with WEFT_API_TOKEN: the UI asks for the token once when the
// API answers 401, retries the call with it, and keeps it for the browser session.
import { API_TOKEN, TOKEN_PORT } from '../playwright.config';
import { expect, test } from './fixtures/test';

test.use({ baseURL: `http://127.0.0.1:${TOKEN_PORT}` });

test('the UI asks for the API token once and keeps it for the session', async ({ start, page }) => {
  const prompt = page.getByTestId('token-prompt');
  await start.goto();

  // The start page's first calls are refused: the prompt asks, and a wrong token is refused too.
  await expect(prompt).toBeVisible();
  await expect(start.workflows.getByTestId('start-empty')).toHaveCount(0); // the calls wait for the token
  await page.getByTestId('token-input').fill('not-the-token');
  await page.getByTestId('token-submit').click();
  await expect(page.getByTestId('token-rejected')).toBeVisible();

  // The right one: the calls are sent again and answer (this server has no workflow yet).
  await page.getByTestId('token-input').fill(API_TOKEN);
  await page.getByTestId('token-submit').click();
  await expect(prompt).toBeHidden();
  await expect(start.workflows.getByTestId('start-empty')).toBeVisible();

  // The token lasts for the session: a reload asks nothing.
  await page.reload();
  await expect(start.workflows.getByTestId('start-empty')).toBeVisible();
  await expect(prompt).toBeHidden();
});

test('cancelling the prompt shows the 401 as the page\'s error', async ({ start, page }) => {
  await start.goto();
  await expect(page.getByTestId('token-prompt')).toBeVisible();

  await page.getByTestId('token-cancel').click();

  await expect(page.getByTestId('token-prompt')).toBeHidden();
  await expect(start.workflows.getByTestId('start-error')).toBeVisible();
  await expect(start.workflows.getByTestId('start-empty')).toHaveCount(0);
});
