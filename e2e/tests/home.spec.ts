// Scenarios for the validator page: the optimised bundle mounts, and the browser and the
// server agree about a definition.
import path from 'node:path';
import { expect, test } from './fixtures/test';

test('the sample is valid, and an unconnected node is reported', async ({ home, page }) => {
  await home.goto();
  await expect(home.status).toHaveText('Valid');
  await expect(home.localStatus).toHaveText('Valid');
  await expect(home.findings).toHaveCount(0);

  const definition = await home.definitionJson();
  definition.nodes.push({ id: 'orphan', type: 'transform', output: {} });
  await home.validate(JSON.stringify(definition, null, 2));

  await expect(home.finding('unreachable', 'orphan')).toHaveCount(1);
  await expect(home.status).toHaveText(/^\d+ errors?$/);
  // The same validator runs in the page: its verdict matches the server's.
  await expect(home.localStatus).toHaveText((await home.status.textContent())!);

  await page.screenshot({ path: path.join(__dirname, '..', 'screenshots', 'home.png') });
});

test('malformed JSON is reported inline and not sent', async ({ home, page }) => {
  await home.goto();
  await expect(home.status).toHaveText('Valid');
  let sent = 0;
  page.on('request', (request) => {
    if (request.url().endsWith('/api/validate')) sent += 1;
  });

  await home.validate('{"name": "broken",');

  await expect(home.jsonError).toContainText('line 1');
  await expect(home.status).toHaveText('Not sent');
  await expect(home.localStatus).toHaveText('Not JSON');
  expect(sent).toBe(0);
});
