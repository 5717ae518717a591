// Definitions from elsewhere: import from a file or pasted text, auto-layout of definitions
// without positions (no two nodes overlap), and drafts that survive a reload.
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from './fixtures/test';
import { DesignerPage } from './fixtures/designer_page';

const examples = path.resolve(__dirname, '../../examples');

test('import a file without positions: it is laid out left to right with no overlaps', async ({ page, pageErrors: _ }) => {
  const file = path.join(examples, 'enrichment-fanout.json');
  const def = JSON.parse(fs.readFileSync(file, 'utf8'));
  expect(def.nodes.some((n: any) => n.position)).toBe(false);

  await page.goto('/workflows');
  await page.getByTestId('import-button').click();
  await page.getByTestId('import-file').setInputFiles(file);
  await expect(page.getByTestId('import-text')).toHaveValue(/enrichment-fanout/);
  await page.getByTestId('import-open').click();

  const d = new DesignerPage(page);
  await expect(page).toHaveURL(/\/workflows\/enrichment-fanout$/);
  await expect(d.nodes).toHaveCount(def.nodes.length);
  await expect(d.edges).toHaveCount(def.edges.length);
  await d.expectNoOverlaps();
  // Left to right: start is the leftmost node.
  const xs = await d.nodes.evaluateAll((els) =>
    Object.fromEntries(els.map((e) => [e.getAttribute('data-node'), e.getBoundingClientRect().x])),
  );
  expect(Math.min(...Object.values(xs) as number[])).toBe(xs['start']);
  await expect(page.getByTestId('designer-validity')).toHaveText('Valid');
  await expect(d.version).toHaveText('never saved');
  await d.screenshot('designer-import-1-file');

  // Scramble a node, then lay it all out again (one undoable step).
  await d.moveNode('split', 0, 120);
  await page.getByTestId('auto-layout').click();
  await d.expectNoOverlaps();
  await d.saveButton.click();
  await expect(d.saveStatus).toHaveText('Saved as version 1');
});

test('paste a definition: auto-layout, then a draft survives a reload and can be discarded', async ({
  page,
  pageErrors: _,
}) => {
  const text = fs.readFileSync(path.join(examples, 'expense-approval.json'), 'utf8');
  const def = JSON.parse(text);
  await page.goto('/workflows');
  await page.getByTestId('import-button').click();
  await page.getByTestId('import-text').fill('{"name": ');
  await page.getByTestId('import-open').click();
  await expect(page.getByTestId('import-error')).toContainText('Not JSON');
  await page.getByTestId('import-text').fill(text);
  await page.getByTestId('import-open').click();

  const d = new DesignerPage(page);
  await expect(page).toHaveURL(new RegExp(`/workflows/${def.name}$`));
  await expect(d.nodes).toHaveCount(def.nodes.length);
  await d.expectNoOverlaps();
  await d.screenshot('designer-import-2-pasted');

  // Edit, then reload: the browser asks before leaving, and the draft comes back.
  await d.dropType('timer', 60, 60);
  await expect(d.node('timer')).toBeVisible();
  await expect(d.dirty).toBeVisible();
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.type());
    void dialog.accept();
  });
  await page.reload();
  expect(dialogs).toContain('beforeunload');
  await expect(d.draftBanner).toBeVisible();
  await expect(d.node('timer')).toBeVisible();
  await expect(d.nodes).toHaveCount(def.nodes.length + 1);
  await expect(d.dirty).toBeVisible();
  await d.screenshot('designer-import-3-draft-restored');

  // Discard: back to what the server has (nothing, for a workflow never saved).
  await page.getByTestId('discard-draft').click();
  await expect(d.draftBanner).toBeHidden();
  await expect(d.nodes).toHaveCount(0);
  await page.reload();
  await expect(d.nodes).toHaveCount(0);
  await expect(d.draftBanner).toBeHidden();
});
