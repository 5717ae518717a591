// The approvals inbox (issue 16): a person sees what waits for them across runs, fills the
// approval's form (built from its JSON Schema, checked before sending) and decides it there.
// Runs go through the real `weft serve`; on the open server everyone is the admin `local`.
import path from 'node:path';
import type { APIRequestContext } from '@playwright/test';
import { expect, test } from './fixtures/test';
import { saveWorkflow, startRun, uniqueName } from './fixtures/console_target';

const shots = path.join('/work', 'notes', 'shots');

/** start → pay (an approval with a form) → done, whose output is the decision's data. */
function payWorkflow(name: string) {
  return {
    name,
    nodes: [
      { id: 'start', type: 'start' },
      {
        id: 'pay',
        type: 'approval',
        label: 'Pay invoice',
        prompt: 'Pay invoice {{ input.invoice }} of {{ input.total }} EUR?',
        // The run is started by `local`, who also decides it here.
        allow_self_approval: true,
        timeout: '2h',
        default_decision: 'reject',
        form: {
          type: 'object',
          required: ['cost_centre'],
          properties: {
            cost_centre: { type: 'string', minLength: 2, title: 'Cost centre', description: 'Who pays for it' },
            amount: { type: 'integer', minimum: 0 },
          },
        },
      },
      { id: 'done', type: 'end', output: { data: '{{ nodes.pay.output.data }}' } },
    ],
    edges: [
      { from: 'start', to: 'pay' },
      { from: 'pay', to: 'done', port: 'approved' },
    ],
  };
}

async function mine(request: APIRequestContext): Promise<number> {
  const res = await request.get('/api/approvals?mine=true');
  expect(res.ok()).toBeTruthy();
  return (await res.json()).approvals.length;
}

test('an approval is decided from the inbox with its form, and the run goes on', async ({
  page,
  request,
  pageErrors: _errors,
}) => {
  const name = uniqueName('inbox');
  await saveWorkflow(request, payWorkflow(name));
  const before = await mine(request);
  const id = await startRun(request, name, { invoice: 'INV-7', total: 120 });
  await expect.poll(() => mine(request)).toBe(before + 1);

  await page.goto('/inbox');
  const badge = page.getByTestId('inbox-count');
  await expect(badge).toHaveText(String(before + 1));
  const card = page.locator(`[data-testid="inbox-card"][data-run="${id}"]`);
  await expect(card.getByTestId('inbox-prompt')).toHaveText('Pay invoice INV-7 of 120 EUR?');
  await expect(card.getByTestId('inbox-node')).toHaveText('Pay invoice');
  await expect(card.getByTestId('inbox-started-by')).toHaveText('local');
  await expect(card.getByTestId('inbox-deadline')).toContainText(/in 1 h 59 min|in 2 h 0 min/);
  await expect(card.getByTestId('inbox-deadline')).toContainText('rejected automatically');
  await expect(card.getByTestId('inbox-run-link')).toHaveAttribute('href', `/runs/${id}`);
  const cost = card.getByTestId('form-field-cost_centre');
  const amount = card.getByTestId('form-field-amount');
  await expect(cost.locator('label')).toContainText('Cost centre');
  await expect(cost).toContainText('Who pays for it');
  await expect(amount).toContainText('a whole number, at least 0');

  for (const width of [1280, 1024]) {
    await page.setViewportSize({ width, height: 800 });
    await page.screenshot({ path: path.join(shots, `inbox-${width}.png`), fullPage: true });
  }

  // Empty required field: an inline error, and nothing is sent.
  let posts = 0;
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().includes('/approvals/')) posts += 1;
  });
  await card.getByTestId('inbox-approve').click();
  await expect(cost.getByTestId('form-error')).toHaveText('required');
  await expect(card.getByTestId('inbox-card-error')).toContainText('Fill in the fields');
  await page.screenshot({ path: path.join(shots, 'inbox-required-1024.png'), fullPage: true });
  expect(posts).toBe(0);

  // Filled in (from the keyboard), approved: the card leaves with a confirmation.
  await cost.locator('input').fill('CC-42');
  await expect(cost.getByTestId('form-error')).toHaveText('');
  await amount.locator('input').fill('120');
  await card.getByTestId('inbox-comment').fill('ok by me');
  await card.getByTestId('inbox-approve').focus();
  await page.keyboard.press('Enter');
  await expect(card).toHaveCount(0);
  await expect(page.getByTestId('inbox-notice')).toContainText('Approved “Pay invoice”');
  await expect(badge).toHaveText(String(before));
  if (before === 0) await expect(page.getByTestId('inbox-empty')).toHaveText('Nothing waits for you.');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: path.join(shots, 'inbox-done-1280.png'), fullPage: true });
  expect(posts).toBe(1);

  // The run completed with the form's data as its output.
  await expect
    .poll(async () => {
      const body = await (await request.get(`/api/runs/${id}`)).json();
      return (body.run ?? body).status;
    })
    .toBe('completed');
  const body = await (await request.get(`/api/runs/${id}`)).json();
  expect((body.run ?? body).output).toEqual({ data: { cost_centre: 'CC-42', amount: 120 } });
});

test('the server refusing the form puts its message under the field; show all lists it too', async ({
  page,
  request,
  pageErrors: _errors,
}) => {
  const name = uniqueName('inbox-422');
  const flow = payWorkflow(name);
  // A pattern the page leaves to the server.
  (flow.nodes[1] as any).form.properties.cost_centre.pattern = '^CC-';
  await saveWorkflow(request, flow);
  const id = await startRun(request, name, { invoice: 'INV-8', total: 5 });
  await page.setViewportSize({ width: 1024, height: 800 });
  await page.goto('/inbox');
  const card = page.locator(`[data-testid="inbox-card"][data-run="${id}"]`);
  await expect(card).toBeVisible();
  const cost = card.getByTestId('form-field-cost_centre');
  await cost.locator('input').fill('XX-1');
  await card.getByTestId('inbox-approve').click();
  await expect(cost.getByTestId('form-error')).not.toHaveText('');
  await expect(card.getByTestId('inbox-card-error')).not.toHaveText('');
  await expect(card.getByTestId('inbox-approve')).toBeEnabled();
  await page.screenshot({ path: path.join(shots, 'inbox-422-1024.png'), fullPage: true });

  // "Show all waiting" lists it too (on the open server the admin may decide everything:
  // the greyed cards of approvals one may not decide need users, beyond this suite).
  await page.getByTestId('inbox-show-all').check();
  await expect(card).toBeVisible();
  await page.screenshot({ path: path.join(shots, 'inbox-all-1024.png'), fullPage: true });

  // Rejecting with a valid form still goes through.
  await page.getByTestId('inbox-show-all').uncheck();
  await card.getByTestId('form-field-cost_centre').locator('input').fill('CC-1');
  await card.getByTestId('inbox-reject').click();
  await expect(card).toHaveCount(0);
  await expect(page.getByTestId('inbox-notice')).toContainText('Rejected');
});
