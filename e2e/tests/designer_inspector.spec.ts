// The inspector's form for each node type: every field is there, checks itself, and what it
// writes shows on the node and in the validator's findings at once.
import { expect, test } from './fixtures/test';
import { DesignerPage } from './fixtures/designer_page';

test('each node type has its form, and inputs check themselves', async ({ page, pageErrors: _ }) => {
  const d = new DesignerPage(page);
  await d.goto('new');
  // Click a palette entry: the node lands in the middle of the view, selected.
  const add = async (type: string, id: string) => {
    await page.getByTestId(`palette-${type}`).click();
    await expect(d.node(id)).toHaveClass(/selected/);
  };

  await add('condition', 'condition');
  await d.field('expr').fill('input.amount >');
  await expect(d.inspector.getByTestId('inspector-finding').filter({ hasText: 'syntax error' })).toBeVisible();
  await expect(d.finding('expression_syntax', 'condition')).toBeVisible();
  await d.field('expr').fill('input.amount > 100');
  await expect(d.finding('expression_syntax', 'condition')).toHaveCount(0);
  await expect(d.node('condition')).toContainText('input.amount > 100');
  for (const port of ['true', 'false']) await expect(d.port('condition', port)).toContainText(port);

  await add('approval', 'approval');
  await d.field('prompt').fill('Ship order {{ input.order_id }}?');
  await d.field('timeout').fill('24h');
  await expect(d.node('approval')).toContainText('asks for approval · 24h');
  for (const port of ['approved', 'rejected', 'timeout']) await expect(d.port('approval', port)).toContainText(port);
  await d.screenshot('designer-inspector-1-approval');

  await add('task', 'task');
  await d.field('queue').fill('orders');
  await d.field('activity').fill('fulfillOrder');
  await d.field('heartbeat').fill('30s');
  await d.field('input').fill('{"order": "{{ input.order_id }}"');
  await expect(d.inspector.getByTestId('field-error')).toContainText('Not JSON yet');
  await d.field('input').fill('{"order": "{{ input.order_id }}"}');
  await expect(d.inspector.getByTestId('field-error')).toHaveCount(0);
  await d.field('max-attempts').fill('0');
  await expect(d.inspector.getByTestId('field-error')).toHaveText('At least 1');
  await d.field('max-attempts').fill('4');
  await d.field('initial-interval').fill('2s');
  await d.field('backoff').fill('3');
  await expect(d.inspector.getByTestId('retry-schedule')).toHaveText('4 attempts; waits 2s → 6s → 18s between them');
  await expect(d.node('task')).toContainText('orders · fulfillOrder · 5m · 4 tries');
  await d.screenshot('designer-inspector-2-task');

  await add('http', 'http');
  await d.field('method').selectOption('PUT');
  await d.field('url').fill('https://api.example.com/orders/{{ input.order_id }}');
  await d.field('headers').fill('Content-Type application/json');
  await expect(d.inspector.getByTestId('field-error')).toContainText('Name: value');
  await d.field('headers').fill('Content-Type: application/json\nX-Trace: {{ run.id }}');
  await expect(d.inspector.getByTestId('field-error')).toHaveCount(0);
  await expect(d.node('http')).toContainText('PUT /orders/{{ input.order_id }}'.slice(0, 20));

  await add('signal', 'signal');
  await d.field('signal').fill('');
  await expect(d.finding('missing_field', 'signal')).toBeVisible();
  await d.field('signal').fill('payment-received');
  await expect(d.node('signal')).toContainText('payment-received');

  await add('timer', 'timer');
  await d.field('duration').fill('');
  await expect(d.inspector.getByTestId('field-error')).toHaveText('Required');
  await d.field('duration').fill('1h30m');
  await expect(d.node('timer')).toContainText('waits 1h30m');

  await add('transform', 'transform');
  await d.field('output').fill('{"total": "{{ input.amount * 2 }}"}');
  await add('end', 'end');
  await d.field('output').fill('{"shipped": true}');
  await expect(d.node('end')).toContainText('returns an output');
  for (const type of ['start', 'parallel', 'join']) {
    await add(type, type);
    await expect(d.inspector).toContainText('This node type has no settings.');
  }
  // Nodes added by a click find a free spot: none hides another.
  await d.expectNoOverlaps();
  await d.screenshot('designer-inspector-3-all-types');

  // The model kept every setting: check a few through the export link.
  const href = await page.getByTestId('export').getAttribute('href');
  const def = JSON.parse(decodeURIComponent(href!.replace(/^data:application\/json;charset=utf-8,/, '')));
  const node = (id: string) => def.nodes.find((n: any) => n.id === id);
  expect(node('task')).toMatchObject({
    queue: 'orders',
    activity: 'fulfillOrder',
    heartbeat_timeout: '30s',
    input: { order: '{{ input.order_id }}' },
    retry: { max_attempts: 4, initial_interval: '2s', backoff_coefficient: 3 },
  });
  expect(node('http').request).toEqual({
    method: 'PUT',
    url: 'https://api.example.com/orders/{{ input.order_id }}',
    headers: { 'Content-Type': 'application/json', 'X-Trace': '{{ run.id }}' },
  });
  expect(node('approval')).toMatchObject({ prompt: 'Ship order {{ input.order_id }}?', timeout: '24h' });
  expect(node('transform').output).toEqual({ total: '{{ input.amount * 2 }}' });
  expect(node('end').output).toEqual({ shipped: true });
  expect(def.nodes).toHaveLength(11);
});

test('the approval form: who decides, escalation, the default decision and the decision form with its preview', async ({
  page,
  pageErrors: _,
}) => {
  const d = new DesignerPage(page);
  await d.goto('new');
  await page.getByTestId('palette-approval').click();
  await expect(d.node('approval')).toHaveClass(/selected/);
  await d.field('prompt').fill('Refund {{ input.amount }}?');
  await d.field('timeout').fill('2d');
  await d.field('default-decision').selectOption('reject');

  const who = d.inspector.getByTestId('approvers');
  await who.getByTestId('approvers-role-operator').check();
  await who.getByTestId('approvers-users').fill('fin, alice');
  await d.field('self-approval').check();

  const steps = d.inspector.getByTestId('escalation-step');
  await d.inspector.getByTestId('add-escalation').click();
  await d.inspector.getByTestId('add-escalation').click();
  await expect(steps).toHaveCount(2);
  await steps.nth(0).getByTestId('step-after').fill('4h');
  await steps.nth(0).getByTestId('step-role-admin').uncheck();
  await steps.nth(0).getByTestId('step-role-editor').check();
  await steps.nth(0).getByTestId('step-notify').fill('https://chat.example/hooks/finance');
  await steps.nth(1).getByTestId('step-after').fill('nonsense');
  await expect(steps.nth(1).getByTestId('field-error')).toContainText('Not a duration');
  // The second step goes; the first keeps what was typed in it.
  await steps.nth(1).getByTestId('remove-escalation').click();
  await expect(steps).toHaveCount(1);
  await expect(steps.nth(0).getByTestId('step-after')).toHaveValue('4h');

  // No schema: no form. A schema: the preview draws the fields the inbox will.
  await expect(d.inspector.getByTestId('form-preview-empty')).toBeVisible();
  await d.field('form').fill(
    JSON.stringify({
      type: 'object',
      required: ['amount'],
      properties: {
        amount: { type: 'integer', title: 'Amount', minimum: 1 },
        category: { enum: ['travel', 'meals'], title: 'Category' },
      },
    }),
  );
  const preview = d.inspector.getByTestId('form-preview');
  await expect(preview.getByTestId('form-field-amount')).toContainText('Amount');
  await expect(preview.getByTestId('form-field-category').locator('select')).toBeVisible();
  await who.scrollIntoViewIfNeeded();
  await d.screenshot('designer-inspector-4-approval-who');
  await preview.scrollIntoViewIfNeeded();
  await d.screenshot('designer-inspector-5-approval-form');

  const href = await page.getByTestId('export').getAttribute('href');
  const def = JSON.parse(decodeURIComponent(href!.replace(/^data:application\/json;charset=utf-8,/, '')));
  const node = def.nodes.find((n: any) => n.id === 'approval');
  expect(node).toMatchObject({
    prompt: 'Refund {{ input.amount }}?',
    timeout: '2d',
    default_decision: 'reject',
    approvers: { roles: ['operator'], users: ['fin', 'alice'] },
    allow_self_approval: true,
    escalate: [
      { after: '4h', approvers: { roles: ['editor'] }, notify: 'https://chat.example/hooks/finance' },
    ],
    form: { required: ['amount'] },
  });
  expect(node.escalate).toHaveLength(1);
});
