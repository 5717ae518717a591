// "Run page, 10,000 events" (docs/benchmarks.md): opens the page of a run of more than 10,000
// events (built through the engine, tests/fixtures/big_run.ts) in Chromium, `ROUNDS` times on
// a fresh page each, and reports the median and worst of: time to interactive (from
// navigation start, measured in the page: the timeline drawn and the main thread's last long
// task ended; a zoom click then checks it answers), the timeline drawn alone, the stream's share of it, the
// JS heap in use after (CDP Performance.getMetrics JSHeapUsedSize, after a GC), the wasm
// module's linear memory (where the run's state lives; Trunk hands the module to the page in
// its `TrunkApplicationStarted` event), the document's element count, and scrolling the
// timeline's lines (all children expanded) frame by frame.
import { expect, test } from '@playwright/test';
import { OwnServer } from '../tests/fixtures/own_server';
import { buildBigRun } from '../tests/fixtures/big_run';

const ROUNDS = 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

test('run page, 10,000 events: time to interactive, memory, scrolling', async ({ browser, playwright }) => {
  const server = await OwnServer.start({ port: 18394 });
  try {
    const request = await playwright.request.newContext();
    const big = await buildBigRun(request, server.base);
    await request.dispose();
    const rows: Record<string, number[]> = {
      tti: [],
      drawn: [],
      stream: [],
      heap: [],
      wasm: [],
      elements: [],
      frame: [],
      worstFrame: [],
    };
    for (let round = 0; round < ROUNDS; round++) {
      const page = await browser.newPage();
      await page.addInitScript(() => {
        const w = window as any;
        window.addEventListener('TrunkApplicationStarted', (e: any) => {
          w.__wasmMemory = e.detail.wasm.memory;
        });
        // Measured in the page, not by the test's polling: when the timeline is drawn, and
        // the end of every long task (the main thread busy for more than 50 ms).
        w.__longTaskEnds = [];
        new PerformanceObserver((list) => {
          for (const t of list.getEntries()) w.__longTaskEnds.push(t.startTime + t.duration);
        }).observe({ type: 'longtask', buffered: true });
        new MutationObserver((_, observer) => {
          if (document.querySelector('[data-testid="timeline-count-fetch"]')) {
            w.__drawnAt = performance.now();
            observer.disconnect();
          }
        }).observe(document, { childList: true, subtree: true });
      });
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Performance.enable');
      await page.goto(`${server.base}/runs/${big.id}`);
      await expect(page.getByTestId('timeline-count-fetch')).toBeVisible({ timeout: 60_000 });
      // Time to interactive as Lighthouse defines it, in short: the timeline drawn and the
      // main thread's last long task over (checked after a quiet second).
      await page.waitForTimeout(1_000);
      rows.tti.push(
        await page.evaluate(() => {
          const w = window as any;
          return Math.max(w.__drawnAt, ...w.__longTaskEnds);
        }),
      );
      rows.drawn.push(await page.evaluate(() => (window as any).__drawnAt));
      // And it is interactive: a zoom click takes effect.
      await page.getByTestId('timeline-zoom-in').click();
      await expect(page.getByTestId('timeline-zoom-level')).toHaveText('×2');
      rows.stream.push(
        await page.evaluate(() => {
          const s = performance.getEntriesByType('resource').find((e) => e.name.endsWith('/stream'));
          return s ? (s as PerformanceResourceTiming).responseEnd - s.startTime : -1;
        }),
      );
      await cdp.send('HeapProfiler.collectGarbage');
      const { metrics } = await cdp.send('Performance.getMetrics');
      rows.heap.push(metrics.find((m) => m.name === 'JSHeapUsedSize')!.value / 1024 / 1024);
      rows.wasm.push(await page.evaluate(() => (window as any).__wasmMemory.buffer.byteLength / 1024 / 1024));
      rows.elements.push(await page.evaluate(() => document.querySelectorAll('*').length));
      // Scroll: every child a line (4,800 + lines), 60 steps of 280 px, a frame each.
      await page.getByTestId('timeline-group-each').click();
      const frames = await page.getByTestId('timeline-lines').evaluate(async (el) => {
        const times: number[] = [];
        let last = performance.now();
        for (let i = 0; i < 60; i++) {
          el.scrollTop += 280;
          await new Promise((r) => requestAnimationFrame(() => r(null)));
          const now = performance.now();
          times.push(now - last);
          last = now;
        }
        return times;
      });
      rows.frame.push(median(frames));
      rows.worstFrame.push(Math.max(...frames));
      await page.close();
    }
    const report = Object.entries(rows)
      .map(([k, xs]) => `${k}: median ${median(xs).toFixed(1)}, worst ${Math.max(...xs).toFixed(1)} (${xs.map((x) => x.toFixed(0)).join(' ')})`)
      .join('\n');
    console.log(`run of ${big.events.length} events (built in ${big.builtIn} ms), ${ROUNDS} rounds\n${report}`);
  } finally {
    await server.dispose();
  }
});
