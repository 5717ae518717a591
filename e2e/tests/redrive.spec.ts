// Operating one run from its page (issue 15, SPEC §6): redrive a failed run from a point
// picked on its graph, with the server's dry run drawn before confirming, and follow the links
// between the original and its redrive; pause a run, reload, and resume it.
import path from 'node:path';
import { expect, test } from './fixtures/test';
import {
  Target,
  approvalWorkflow,
  events,
  redriveWorkflow,
  saveWorkflow,
  startRun,
  uniqueName,
} from './fixtures/console_target';
import { RunPage } from './fixtures/run_page';

const shots = path.join(__dirname, '..', 'screenshots');
let target: Target;

test.beforeAll(async () => {
  target = await Target.start();
});

test.afterAll(async () => {
  await target.stop();
});

test('a failed run is redriven from the point picked on its graph, and the two runs link each other', async ({
  page,
  request,
  pageErrors: _errors,
}) => {
  const name = uniqueName('redrive');
  const definition = redriveWorkflow(name, target);
  await saveWorkflow(request, definition);
  const original = await startRun(request, name, { order: 'R1' });
  const run = new RunPage(page);
  await run.goto(original);
  await expect(run.status).toHaveText('failed');
  await run.expectNode('reserve', 'completed');
  await run.expectNode('charge', 'failed');
  await expect(run.pauseButton).toHaveCount(0);

  // A later version renames the failed node, so on the latest the pick names a node it lacks.
  const renamed = JSON.parse(JSON.stringify(definition).replaceAll('"charge"', '"pay"').replaceAll('nodes.charge.', 'nodes.pay.'));
  await saveWorkflow(request, renamed);

  // The dialog preselects the failed node and draws the server's dry run.
  const dialog = await run.openRedrive();
  await expect(dialog.from).toHaveCount(1);
  await expect(dialog.chip('charge')).toBeVisible();
  await dialog.expectRole('charge', 'from');
  await dialog.expectRole('start', 'reuse');
  await dialog.expectRole('reserve', 'reuse');
  await dialog.expectRole('notify', 'rerun');
  await expect(dialog.nodesIn('reuse')).toHaveCount(2);
  await expect(dialog.counts).toContainText('2 steps reused, 3 run again');
  await expect(dialog.sideEffects).toHaveText('No step with side effects acts again.');

  // Picking the completed reservation too: it would act again, and the dialog says so.
  await dialog.node('reserve').click();
  await dialog.expectRole('reserve', 'from');
  await dialog.expectRole('reserve', 'effect');
  await expect(dialog.from).toHaveCount(2);
  await expect(dialog.nodesIn('reuse')).toHaveCount(1);
  await expect(dialog.sideEffects).toHaveText('1 step with side effects will act again: reserve');
  await expect(dialog.node('reserve').getByTestId('node-badge')).toHaveText('from · acts again');
  await page.screenshot({ path: path.join(shots, 'redrive-dialog.png') });

  // Taken out again from its chip (the keyboard's way), the preview is as before.
  await dialog.chip('reserve').getByRole('button').click();
  await expect(dialog.from).toHaveCount(1);
  await dialog.expectRole('reserve', 'reuse');
  await expect(dialog.sideEffects).toHaveText('No step with side effects acts again.');

  // On the latest version the failed node is gone: the server's refusal is shown in place.
  await expect(dialog.versionNote).toContainText('The latest version is v2; this run ran v1.');
  await dialog.latestVersion.check();
  await expect(dialog.error).toContainText('has no node `charge`');
  await expect(dialog.confirm).toBeDisabled();
  await expect(dialog.node('pay')).toBeVisible();
  await dialog.sameVersion.check();
  await expect(dialog.counts).toContainText('on v1');
  await expect(dialog.confirm).toBeEnabled();

  // Escape leaves without starting anything; the dialog opens again with the default pick.
  await dialog.root.press('Escape');
  await expect(dialog.root).toHaveCount(0);
  expect((await (await request.get(`/api/runs/${original}`)).json()).redriven_by ?? []).toEqual([]);
  const again = await run.openRedrive();
  await expect(again.counts).toContainText('2 steps reused, 3 run again');
  await again.confirm.click();

  // The new run: charge succeeds now; the reservation was reused, not called again.
  await expect(page).not.toHaveURL(new RegExp(original));
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  const redriven = run.id();
  await expect(run.status).toHaveText('completed');
  await expect(run.redriveOf).toContainText('Redrive of');
  await expect(run.redriveOf).toContainText(original.slice(0, 12));
  await expect(run.redriveOf.locator('code.node-ref')).toHaveText(['charge']);
  await expect(run.node('reserve')).toHaveClass(/(^|\s)reused(\s|$)/);
  await expect(run.node('reserve').getByTestId('node-badge')).toHaveText('reused');
  await expect(run.node('start')).toHaveClass(/(^|\s)reused(\s|$)/);
  await expect(run.node('charge')).not.toHaveClass(/(^|\s)reused(\s|$)/);
  await run.node('reserve').click();
  await expect(run.nodeDetails.getByTestId('node-details-reused')).toContainText('nothing ran for it in this run');
  expect(target.hits.get(`/ok/reserve/${name}`)).toBe(1);
  expect(target.hits.get(`/ok/notify/${name}`)).toBe(1);
  await page.screenshot({ path: path.join(shots, 'redrive-new-run.png'), fullPage: true });

  // Back to the original by the link: it lists its redrive.
  await run.redriveOfLink.click();
  await expect(page).toHaveURL(new RegExp(`/runs/${original}$`));
  await expect(run.status).toHaveText('failed');
  await expect(run.redrivenBy).toContainText('Redriven by');
  await expect(run.redrivenByLinks).toHaveCount(1);
  await expect(run.redrivenByLinks).toHaveAttribute('href', `/runs/${redriven}`);
  await expect(run.redriveOf).toHaveCount(0);
});

test('a paused run starts nothing new, stays paused across a reload, and goes on when resumed', async ({
  page,
  request,
  pageErrors: _errors,
}) => {
  const name = uniqueName('pause');
  await saveWorkflow(request, approvalWorkflow(name, target));
  const id = await startRun(request, name, { order_id: 'P1' });
  const run = new RunPage(page);
  await run.goto(id);
  await run.expectNode('approve', 'waiting');
  await expect(run.redriveButton).toHaveCount(0);

  await run.pauseButton.click();
  await expect(run.status).toHaveText('paused');
  await expect(run.status).toHaveClass(/status-paused/);
  await expect(run.resumeButton).toBeVisible();
  await expect(run.pauseButton).toHaveCount(0);

  await page.reload();
  await expect(run.status).toHaveText('paused');
  await expect(run.pausedNote).toBeVisible();
  await expect(run.resumeButton).toBeVisible();
  // A cancel stays possible while paused.
  await expect(run.cancelButton).toBeVisible();

  // A decision is recorded while paused, but the next step does not start.
  await run.approveButton.click();
  await run.expectNode('approve', 'completed');
  await run.expectNode('ship', 'pending');
  await expect(run.status).toHaveText('paused');
  const held = await events(request, id);
  expect(held.filter((e) => e.type === 'node_started' && e.node === 'ship')).toEqual([]);
  await page.screenshot({ path: path.join(shots, 'run-paused.png'), fullPage: true });

  await run.resumeButton.click();
  await expect(run.status).toHaveText(/running|completed/);
  await run.expectNode('ship', 'completed');
  await expect(run.status).toHaveText('completed');
  await expect(run.pauseButton).toHaveCount(0);
  await expect(run.resumeButton).toHaveCount(0);
  const types = (await events(request, id)).map((e) => e.type);
  expect(types.filter((t) => t === 'run_paused' || t === 'run_resumed')).toEqual(['run_paused', 'run_resumed']);
});
