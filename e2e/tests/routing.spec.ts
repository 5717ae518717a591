// Scenarios for how the server hosts the SPA: client routes get the page, API paths never do.
import { expect, test } from './fixtures/test';

test('a client route is served the SPA and rendered by its router', async ({ request, page, pageErrors: _ }) => {
  const response = await request.get('/workflows');
  expect(response.status()).toBe(200);
  expect(response.headers()['content-type']).toContain('text/html');
  expect(await response.text()).toContain('<script type="module">');

  await page.goto('/workflows');
  await expect(page.getByTestId('page-workflows')).toBeVisible();
  await page.getByTestId('nav-runs').click();
  await expect(page).toHaveURL(/\/runs$/);
  await expect(page.getByTestId('page-runs')).toBeVisible();
});

test('an unknown API path is a JSON 404, not the page', async ({ request }) => {
  const response = await request.get('/api/nope');
  expect(response.status()).toBe(404);
  expect(response.headers()['content-type']).toContain('application/json');
  const body = await response.json();
  expect(body).toEqual({ error: expect.objectContaining({ code: expect.any(String), message: expect.any(String) }) });
});
