/**
 * npm run bench:ui — does the results grid stay smooth with 100,000 results? The built renderer,
 * served by the HTTP bridge over a real library of 100,000 photo rows (their 256-px thumbnails
 * real JPEG files, 1,000 distinct pictures shared by content as duplicates are), in Debian's
 * Chromium driven by playwright-core. It measures, in the page:
 *  - frame intervals while the grid scrolls continuously (wheel events, as a user scrolls);
 *  - a jump into the middle and to the end (the scroll bar dragged): time until every visible tile
 *    shows its picture;
 *  - how many tiles the page holds (virtualization keeps it to about a screenful);
 *  - the page's JS heap.
 * Headless Chromium renders in software here, so frame figures are an upper bound on a desktop's.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { startBridge } from '../main/bridge/http.js';
import { Engine } from '../main/engine/engine.js';
import { rendererDir } from '../main/util/paths.js';
import { findBrowser, HEADLESS_ARGS } from '../test/helpers/browser.js';

const N = Number(process.env['BENCH_PHOTOS'] ?? 100_000);
const DISTINCT = 1000;
const ROOT = join(process.cwd(), '.bench', 'ui');

const fmt = (n: number, d = 1): string => n.toFixed(d);
const percentile = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

async function build(engine: Engine): Promise<void> {
  const photos = join(ROOT, 'photos');
  mkdirSync(photos, { recursive: true });
  const folder = (await engine.addFolder(photos)).id;
  const hash = (k: number): string => k.toString(16).padStart(64, 'a');
  for (let k = 0; k < DISTINCT; k++) {
    const hue = (k * 37) % 360;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="256" height="192"><rect width="256" height="192" fill="hsl(${hue},60%,55%)"/>` +
      `<circle cx="${60 + (k % 140)}" cy="${50 + (k % 90)}" r="${20 + (k % 40)}" fill="hsl(${(hue + 180) % 360},70%,45%)"/></svg>`;
    const path = engine.internals.thumbs.pathFor(hash(k), 256);
    mkdirSync(join(path, '..'), { recursive: true });
    await sharp(Buffer.from(svg)).jpeg({ quality: 80 }).toFile(path);
  }
  const now = Date.now();
  const ins = engine.internals.db.prepare(`INSERT INTO photos (folder_id, path, size, mtime_ms, hash, format, width, height, taken_at_ms, state, added_at, indexed_at)
    VALUES (?, ?, 1000, 0, ?, 'jpeg', 4000, 3000, ?, 'ok', ?, ?)`);
  engine.internals.db.transaction(() => {
    for (let k = 0; k < N; k++) ins.run(folder, join(photos, `IMG_${k}.jpg`), hash(k % DISTINCT), Date.UTC(2012, 0, 1) + k * 3_600_000, now, now);
  })();
}

async function main(): Promise<void> {
  const found = await findBrowser();
  console.log(`Loupe bench:ui — ${availableParallelism()} × ${cpus()[0]?.model ?? 'CPU'}, browser ${found.executablePath} (${found.source}), ${N.toLocaleString('en-US')} results`);
  if (!existsSync(join(rendererDir(), 'index.html'))) throw new Error('build the renderer first: npm run build:renderer');
  const libDir = join(ROOT, `library-${N}`);
  const fresh = !existsSync(join(libDir, '.complete'));
  const engine = Engine.open({ libraryDir: libDir, device: 'cpu' });
  if (fresh) {
    const t = performance.now();
    await build(engine);
    writeFileSync(join(libDir, '.complete'), '');
    console.log(`  library built in ${fmt((performance.now() - t) / 1000)} s`);
  }
  const bridge = await startBridge(engine, { rendererDir: rendererDir() });
  const browser = await chromium.launch({ executablePath: found.executablePath, args: HEADLESS_ARGS, env: { ...process.env, ...found.env } });
  try {
    // The app's CSP forbids eval, which page-side string code needs; the CSP is not what is measured here.
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, bypassCSP: true });
    let t = performance.now();
    await page.goto(bridge.openUrl);
    await page.getByTestId('result-count').filter({ hasText: `${N.toLocaleString('en-US')} photos` }).waitFor({ timeout: 60_000 });
    await page.waitForFunction(`document.querySelectorAll('.tile img').length > 0`);
    console.log(`  first screen of ${N.toLocaleString('en-US')} results: ${fmt(performance.now() - t, 0)} ms`);

    // Every visible tile showing its picture.
    // Page-side code is written as strings: the engine's TypeScript has no DOM types.
    const filled = async (): Promise<void> => {
      await page.waitForFunction(`(() => {
        const view = document.querySelector('.scroller')?.getBoundingClientRect();
        if (!view) return false;
        const tiles = [...document.querySelectorAll('.tile')].filter((el) => {
          const r = el.getBoundingClientRect();
          return r.bottom > view.top && r.top < view.bottom;
        });
        return tiles.length > 0 && tiles.every((el) => { const img = el.querySelector('img'); return img !== null && img.complete && img.naturalWidth > 0; });
      })()`, undefined, { timeout: 60_000, polling: 'raf' });
    };

    // Continuous scrolling: wheel events at 60 per second for 6 s, frame intervals recorded in the page.
    await page.mouse.move(900, 450);
    // A string, not a function: tsx would wrap named inner functions in a helper the page lacks.
    await page.evaluate(`(() => {
      window.frames_ = []; window.stop_ = false;
      let last = performance.now();
      const tick = (now) => { window.frames_.push(now - last); last = now; if (!window.stop_) requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
    })()`);
    const wheelStart = performance.now();
    let steps = 0;
    while (performance.now() - wheelStart < 6000) {
      await page.mouse.wheel(0, 240);
      steps++;
      await new Promise((r) => setTimeout(r, 16));
    }
    const frames = await page.evaluate(`(() => { window.stop_ = true; return window.frames_.slice(1); })()`) as number[];
    const scrolled = await page.evaluate(`document.querySelector('.scroller')?.scrollTop ?? 0`) as number;
    const long = frames.filter((f) => f > 50).length;
    console.log(`\ncontinuous scrolling (${steps} wheel steps, ${fmt(scrolled / 1000, 0)}k px in 6 s):`);
    console.log(`  frame interval p50 ${fmt(percentile(frames, 50))} ms, p95 ${fmt(percentile(frames, 95))} ms, max ${fmt(Math.max(...frames))} ms; ` +
      `${fmt((1000 * frames.length) / frames.reduce((a, b) => a + b, 0), 0)} fps; frames over 50 ms: ${long} of ${frames.length}`);

    for (const [label, where] of [['jump to the middle', 0.5], ['jump to the end', 1]] as const) {
      t = performance.now();
      await page.evaluate(`(() => { const s = document.querySelector('.scroller'); s.scrollTop = ${where} * (s.scrollHeight - s.clientHeight); })()`);
      await filled();
      console.log(`  ${label}: every visible tile shows its picture after ${fmt(performance.now() - t, 0)} ms`);
    }
    const dom = await page.evaluate(`({ tiles: document.querySelectorAll('.tile').length, nodes: document.getElementsByTagName('*').length })`) as { tiles: number; nodes: number };
    const heap = await page.evaluate(`performance.memory?.usedJSHeapSize ?? 0`) as number;
    console.log(`\nin the page after scrolling: ${dom.tiles} tiles, ${dom.nodes} elements; JS heap ${fmt(heap / 2 ** 20)} MB`);
  } finally {
    await browser.close();
    await bridge.close();
    await engine.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
