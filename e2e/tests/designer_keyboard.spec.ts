// The designer without a mouse (issue 17): add nodes with the palette search, reach them
// with Tab, connect them with `c` and Enter, configure one in the inspector, save with
// Ctrl+S; findings are reached with Tab; the graph names its nodes and edges for screen
// readers, and a live region says validation and save results.
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures/test';
import { uniqueName } from './fixtures/console_target';
import { DesignerPage } from './fixtures/designer_page';

/** What has the keyboard focus: a node's id, a test id, or the tag name. */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el) return '';
    const node = el.getAttribute('data-node');
    if (node) return `node:${node}`;
    return el.getAttribute('data-testid') ?? el.tagName.toLowerCase();
  });
}

/** Presses `key` (Tab or Shift+Tab) until `want` has the focus; fails after `max` presses. */
async function tabTo(page: Page, want: string, key = 'Tab', max = 90): Promise<void> {
  for (let i = 0; i < max; i++) {
    if ((await focused(page)) === want) return;
    await page.keyboard.press(key);
  }
  throw new Error(`${key} never reached ${want}; the focus is on ${await focused(page)}`);
}

test('keyboard only: add, configure, connect and save a two-node workflow', async ({ page, request }) => {
  const name = uniqueName('keys');
  const designer = new DesignerPage(page);
  await designer.goto();
  const announcer = page.getByTestId('announcer');
  const validation = page.getByTestId('announcer-validation');
  const badge = page.getByTestId('designer-validity');

  // `/` puts the cursor in the node search; Enter adds the first type that matches.
  await page.keyboard.press('/');
  await expect(page.getByTestId('palette-search')).toBeFocused();
  await page.keyboard.type('start');
  await page.keyboard.press('Enter');
  await page.keyboard.type('end');
  await page.keyboard.press('Enter');
  await expect(designer.nodes).toHaveCount(2);
  const ids = await designer.nodes.evaluateAll((els) => els.map((el) => el.getAttribute('data-node')!));
  const first = ids.find((id) => id.startsWith('start'))!;
  const last = ids.find((id) => id.startsWith('end'))!;
  // Each node says what it is to a screen reader, and the live region says the verdict.
  await expect(designer.node(last)).toHaveAttribute('aria-label', `end node ${last}, 0 outgoing edges; 0 incoming edges; has errors`);
  await expect(validation).toHaveText(`Validation: ${await badge.textContent()}`);

  // Findings are in the Tab order: Enter on the one about the end node selects it.
  await tabTo(page, 'finding');
  const finding = page.locator('[data-testid="finding"]:focus');
  const about = await finding.getByTestId('finding-node').textContent();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('inspector-title')).toHaveText(about!);

  // Tab reaches the nodes; `c` starts a connection from the focused one's port.
  await tabTo(page, `node:${first}`, 'Shift+Tab');
  await page.keyboard.press('c');
  await expect(page.getByTestId('connecting')).toContainText(`Connecting from ${first} (port next)`);
  await expect(announcer).toContainText(`Connecting from ${first}, port next`);
  // Escape cancels; `c` again starts over; Enter on the target ends it there.
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('connecting')).toHaveCount(0);
  await expect(announcer).toHaveText('Connection cancelled');
  await page.keyboard.press('c');
  await tabTo(page, `node:${last}`);
  if (process.env.WEFT_E2E_SHOTS) {
    fs.mkdirSync(process.env.WEFT_E2E_SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(process.env.WEFT_E2E_SHOTS, 'designer-keyboard-connecting.png') });
  }
  await page.keyboard.press('Enter');
  await expect(designer.edge(first, 'next', last)).toHaveCount(1);
  await expect(announcer).toHaveText(`Connected ${first}, port next, to ${last}`);
  await expect(page.getByTestId('edge-list')).toContainText(`Edge from ${first}, port next, to ${last}`);
  await expect(designer.node(first)).toHaveAttribute('aria-label', new RegExp(`1 outgoing edge: next to ${last}`));
  // The arrow keys follow the edge both ways.
  await page.keyboard.press('ArrowLeft');
  expect(await focused(page)).toBe(`node:${first}`);
  await page.keyboard.press('ArrowRight');
  expect(await focused(page)).toBe(`node:${last}`);

  // Enter opens the inspector on the focused node, its first field focused: configure it.
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('inspector-title')).toHaveText(last);
  expect(await focused(page)).toBe('field-id');
  await page.keyboard.press('Tab');
  expect(await focused(page)).toBe('field-label');
  await page.keyboard.type('Finish');
  await page.keyboard.press('Tab');
  // The node named after its type took its id from the label.
  await expect(designer.node('finish')).toHaveCount(1);

  // Escape leaves the node: the inspector shows the workflow, whose name Tab reaches.
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('inspector-title')).toHaveText('Workflow settings');
  await tabTo(page, 'field-name');
  await page.keyboard.type(name);
  await expect(badge).toHaveText('Valid');
  await expect(validation).toHaveText('Validation: Valid');
  await page.keyboard.press('Control+s');
  await expect(announcer).toHaveText('Saved as version 1');

  const saved = await (await request.get(`/api/workflows/${name}`)).json();
  expect(saved.definition.nodes.map((n: any) => [n.id, n.type, n.label ?? null])).toEqual([
    [first, 'start', null],
    ['finish', 'end', 'Finish'],
  ]);
  expect(saved.definition.edges.map((e: any) => `${e.from}-${e.port ?? 'next'}-${e.to}`)).toEqual([`${first}-next-finish`]);
});

test('a node reached with Tab outside the view is panned into it', async ({ page, request }) => {
  const name = uniqueName('keys-pan');
  const example = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../examples/order-process.json'), 'utf8'));
  const saved = await request.put(`/api/workflows/${name}`, { data: { ...example, name } });
  expect(saved.ok()).toBe(true);
  // A small window, zoomed in: most of the graph is out of view.
  await page.setViewportSize({ width: 1024, height: 640 });
  const designer = new DesignerPage(page);
  await designer.goto(name);
  await expect(designer.nodes).toHaveCount(example.nodes.length);
  for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Zoom in' }).press('Enter');
  const canvas = (await designer.canvas.boundingBox())!;
  const inView = async (id: string) => {
    const box = (await designer.node(id).locator('.wf-node-box').boundingBox())!;
    return (
      box.x >= canvas.x && box.y >= canvas.y && box.x + box.width <= canvas.x + canvas.width && box.y + box.height <= canvas.y + canvas.height
    );
  };
  const outside: string[] = [];
  for (const n of example.nodes) if (!(await inView(n.id))) outside.push(n.id);
  expect(outside.length, 'the scenario needs nodes out of view').toBeGreaterThan(0);
  // Tab visits every node; each is in view when it has the focus.
  await page.keyboard.press('/');
  const seen = new Set<string>();
  for (let i = 0; i < 40 && seen.size < example.nodes.length; i++) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate(() => document.activeElement?.getAttribute('data-node'));
    if (!id) continue;
    seen.add(id);
    await expect.poll(() => inView(id), `${id} in view`).toBe(true);
  }
  expect([...seen].sort()).toEqual(example.nodes.map((n: any) => n.id).sort());
});
