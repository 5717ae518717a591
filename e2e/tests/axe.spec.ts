// axe-core (issue 17) finds no serious or critical violation on the start page, the
// workflows list and the designer, with real data on each.
import fs from 'node:fs';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures/test';
import { saveWorkflow, uniqueName } from './fixtures/console_target';
import { DesignerPage } from './fixtures/designer_page';

const example = (file: string, name: string) => ({
  ...JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../examples', `${file}.json`), 'utf8')),
  name,
});

async function serious(page: Page): Promise<string[]> {
  const axe = await new AxeBuilder({ page }).analyze();
  return axe.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(', ')}`);
}

test('no serious accessibility violation on the start, workflows and designer pages', async ({ page, request }) => {
  const name = uniqueName('axe');
  await saveWorkflow(request, example('order-process', name));

  await page.goto('/');
  await expect(page.getByTestId('start-workflows').getByTestId('start-item').first()).toBeVisible();
  expect(await serious(page), 'start page').toEqual([]);

  await page.goto('/workflows');
  await expect(page.getByTestId('workflows-table')).toBeVisible();
  expect(await serious(page), 'workflows page').toEqual([]);

  const designer = new DesignerPage(page);
  await designer.goto(name);
  await expect(designer.nodes.first()).toBeVisible();
  expect(await serious(page), 'designer, workflow settings').toEqual([]);
  await designer.node('charge').focus();
  await expect(page.getByTestId('inspector-title')).not.toHaveText('Workflow settings');
  expect(await serious(page), 'designer, a node in the inspector').toEqual([]);
});
