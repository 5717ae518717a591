// Issue 18's timeline at scale: a run of more than 10,000 events, built through the engine on
// a scenario's own server (a call retried 300 times, then a map over 4,800 items), opens
// with its retries as one line (a tick per attempt and a count) that expands into a line per
// attempt, its map's children as one group line with progress, only the lines in view in the
// document however many there are, and a zoom that goes from the whole run to milliseconds.
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures/test';
import { OwnServer } from './fixtures/own_server';
import { type BigRun, FAILURES, ITEMS, buildBigRun } from './fixtures/big_run';
import { TimelinePage } from './fixtures/timeline_page';

const shots = path.join(__dirname, '..', 'screenshots');

let server: OwnServer;
let big: BigRun;

test.beforeAll(async ({ playwright }) => {
  test.setTimeout(300_000);
  server = await OwnServer.start({ port: 18392 });
  const request = await playwright.request.newContext();
  big = await buildBigRun(request, server.base);
  await request.dispose();
});

test.afterAll(async () => {
  await server?.dispose();
});

async function shot(page: Page, timeline: TimelinePage, name: string) {
  for (const width of [1280, 1024]) {
    await page.setViewportSize({ width, height: 900 });
    await page.mouse.move(0, 0);
    await timeline.root.scrollIntoViewIfNeeded();
    await timeline.root.screenshot({ path: path.join(shots, `${name}-${width}.png`) });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

test('a 10,000-event run opens with one grouped retry line, a bounded DOM and a zoom down to milliseconds', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const attempts = FAILURES + 1;
  console.log(`built a run of ${big.events.length} events in ${big.builtIn} ms`);

  // Open it; interactive once the retry line is drawn and a zoom click takes effect.
  await page.goto(`${server.base}/runs/${big.id}`);
  const timeline = new TimelinePage(page);
  await expect(timeline.count('fetch')).toHaveText(`${attempts}×`, { timeout: 30_000 });
  await timeline.zoomIn.click();
  await expect(timeline.zoomLevel).toHaveText('×2');
  const interactive = await page.evaluate(() => performance.now());
  console.log(`time to interactive: ${Math.round(interactive)} ms (navigation start to a zoom that took effect)`);
  test.info().annotations.push({ type: 'time to interactive', description: `${Math.round(interactive)} ms` });
  await timeline.fit.click();
  await expect(timeline.zoomLevel).toHaveText('×1');
  await expect(timeline.zoomIn).toHaveAccessibleName('Zoom in');
  await expect(timeline.zoomOut).toHaveAccessibleName('Zoom out');

  // The retries: one line, a span coloured by how the node ended, a tick per attempt no
  // denser than the chart can show, and the count with its failures.
  const fetch = timeline.row('fetch');
  await expect(fetch.getByTestId('retry-span')).toHaveAttribute('data-outcome', 'completed');
  await expect(fetch.getByTestId('retry-span')).toHaveAttribute('title', `fetch: ${attempts} attempts · ${FAILURES} failed · completed`);
  await expect(timeline.count('fetch')).toHaveAttribute('title', `${attempts} attempts, ${FAILURES} failed`);
  const marks = await fetch.getByTestId('attempt-mark').count();
  expect(marks).toBeGreaterThan(0);
  expect(marks).toBeLessThanOrEqual(200);
  await expect(fetch.getByTestId('attempt-mark').last()).toHaveAttribute('data-outcome', 'completed');
  await expect(fetch.getByTestId('bar')).toHaveCount(0);

  // The map: one group line with its progress, its children drawn as how many ran when.
  await expect(page.getByTestId('timeline-progress-each')).toHaveText(`${ITEMS} / ${ITEMS} done · 0 failed`);
  await expect(timeline.root.getByTestId('timeline-density')).toBeVisible();
  await expect(timeline.root.getByTestId('child-bar')).toHaveCount(0);
  const collapsed = await timeline.elementCount();
  console.log(`timeline elements, collapsed: ${collapsed}`);
  expect(collapsed).toBeLessThan(1_000);
  await shot(page, timeline, 'timeline-10k');

  // Expanded: a line per attempt, of which only those in view are in the document.
  await timeline.attemptsToggle('fetch').click();
  await expect(timeline.attemptsToggle('fetch')).toHaveAttribute('aria-expanded', 'true');
  const attemptLines = timeline.root.getByTestId('timeline-attempt-line');
  await expect(attemptLines.first()).toBeVisible();
  const drawn = await attemptLines.count();
  expect(drawn).toBeGreaterThan(5);
  expect(drawn).toBeLessThan(40);
  await expect(timeline.root.getByText('attempt 1', { exact: true })).toBeVisible();
  await shot(page, timeline, 'timeline-10k-attempts');
  // And every child a line too: thousands of lines, a window of them drawn. The map's group
  // line is past the attempts' lines: scroll to it.
  await timeline.lines.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await page.getByTestId('timeline-group-each').click();
  await timeline.lines.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await expect(timeline.root.getByRole('link', { name: `#${ITEMS - 1}`, exact: true })).toBeVisible();
  await expect(timeline.root.getByText(`attempt ${attempts}`, { exact: true })).toHaveCount(0);
  const height = await timeline.lines.evaluate((el) => el.scrollHeight);
  expect(height).toBeGreaterThan((attempts + ITEMS) * 28 - 1);
  const expanded = await timeline.elementCount();
  console.log(`timeline elements, ${attempts} attempts and ${ITEMS} children expanded: ${expanded}`);
  expect(expanded).toBeLessThan(1_000);
  // Back up to the last attempts.
  await timeline.lines.evaluate((el) => (el.scrollTop = 28 * 300));
  await expect(timeline.root.getByText(`attempt ${attempts}`, { exact: true })).toBeVisible();
  await page.getByTestId('timeline-group-each').click();
  await timeline.lines.evaluate((el) => (el.scrollTop = 0));
  await timeline.attemptsToggle('fetch').click();
  await expect(timeline.root.getByTestId('timeline-attempt-line')).toHaveCount(0);
  await expect(timeline.root.getByTestId('timeline-child-line')).toHaveCount(0);

  // Zoom: the buttons halve the window down to 10 ms, where the axis counts milliseconds.
  for (let i = 0; i < 40 && (await timeline.zoomIn.isEnabled()); i++) await timeline.zoomIn.click();
  await expect(timeline.zoomIn).toBeDisabled();
  await expect(timeline.shown).toHaveText('10ms shown');
  const labels = await timeline.ticks.allTextContents();
  expect(labels.length).toBeGreaterThan(2);
  for (const label of labels) expect(label).toMatch(/^\d+ms$|^\d+\.\d{3}s$/); // 10 ms: ticks 1 or 2 ms apart
  // The wheel over the axis zooms out about the pointer; the brush's keys move the window.
  const axis = await timeline.root.locator('.tl-axis').boundingBox();
  await page.mouse.move(axis!.x + axis!.width / 2, axis!.y + axis!.height / 2);
  await page.mouse.wheel(0, 120);
  await expect(timeline.shown).not.toHaveText('10ms shown');
  const before = await timeline.brush.getAttribute('aria-valuetext');
  await timeline.brush.focus();
  await page.keyboard.press('Home');
  await expect(timeline.brush).not.toHaveAttribute('aria-valuetext', before!);
  await expect(timeline.brush).toHaveAttribute('aria-valuetext', /^0ms to /);
  // A drag across the minimap picks a window.
  await timeline.fit.click();
  const map = (await timeline.minimap.boundingBox())!;
  await page.mouse.move(map.x + map.width * 0.1, map.y + map.height / 2);
  await page.mouse.down();
  await page.mouse.move(map.x + map.width * 0.3, map.y + map.height / 2, { steps: 5 });
  await page.mouse.up();
  const level = Number((await timeline.zoomLevel.textContent())!.slice(1));
  expect(level).toBeGreaterThan(4);
  expect(level).toBeLessThan(6);
  await shot(page, timeline, 'timeline-10k-zoomed');

  // The run's input (4,800 items) shows its first lines and a button for the rest.
  const data = page.getByTestId('run-data');
  const input = data.getByTestId('json-cut').first();
  await expect(input).toBeVisible();
  const lines = ITEMS + 4;
  expect((await input.textContent())!.split('\n').length).toBeLessThan(50);
  await expect(data.getByTestId('json-more').first()).toHaveText(`Show all ${lines} lines`);
  await data.getByTestId('json-more').first().click();
  expect((await input.textContent())!.split('\n')).toHaveLength(lines);
  await expect(data.getByTestId('json-more')).toHaveCount(0);

  // No serious accessibility problem on the timeline.
  const axe = await new AxeBuilder({ page }).include('[data-testid="timeline"]').analyze();
  const serious = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(', ')}`)).toEqual([]);
});
