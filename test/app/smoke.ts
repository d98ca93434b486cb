/**
 * `npm run test:app`: a smoke test of the real desktop shell. Electron (under Xvfb on a Linux
 * machine without a display) opens the window on the built app; the engine's utility process
 * reports ready; a folder of generated photos is added and indexed; a search answers; a thumbnail
 * is served on loupe://media; the window's console shows no error; closing leaves a whole database
 * with its WAL checkpointed. Where Electron's binary is absent it says so and why, and exits 0.
 * LOUPE_APP_BINARY=<the packaged app's executable> runs the same checks on an installed build
 * (`npm run dist`, e.g. release/linux-unpacked/loupe) instead of the clone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import sharp from 'sharp';
import type { EngineEvent, LibraryStatus, SearchResponse, WindowBridge } from '../../main/contract/api.js';
import { findElectron, howToGetElectron } from '../../scripts/electron-binary.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PHOTOS = 6;
const DEADLINE_MS = 120_000;

/** The window's global, as the preload exposes it (page.evaluate runs these functions there). */
declare const window: { readonly loupe: WindowBridge };

function fail(message: string): never {
  console.error(`test:app FAILED: ${message}`);
  process.exit(1);
}

/** Linux without a display: the script runs itself again under xvfb-run. */
function needsDisplay(): boolean {
  return process.platform === 'linux' && !process.env['DISPLAY'] && !process.env['WAYLAND_DISPLAY'];
}

async function writePhotos(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < PHOTOS; i++) {
    await sharp({ create: { width: 320 + 8 * i, height: 240, channels: 3, background: { r: 40 * i, g: 120, b: 200 - 20 * i } } })
      .jpeg().toFile(join(dir, `IMG_${2000 + i}.jpg`));
  }
}

/**
 * Resolves once `photos` photos are indexed: checked now and again at every `indexed` event (a run
 * for an earlier catch-up may end first), or fails at the deadline.
 */
async function indexedCount(page: Page, photos: number): Promise<void> {
  await page.evaluate(([want, ms]) => new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fewer than ${want} photos indexed after ${ms} ms`)), ms);
    const check = (): void => {
      void window.loupe.call('status', []).then((s) => {
        if ((s as LibraryStatus).counts.ok < want) return;
        clearTimeout(timer);
        off();
        resolve();
      });
    };
    const off = window.loupe.onEvent((e: EngineEvent) => { if (e.type === 'indexed') check(); });
    check();
  }), [photos, DEADLINE_MS] as const);
}

async function call<T>(page: Page, method: string, args: unknown[]): Promise<T> {
  return page.evaluate(([m, a]) => window.loupe.call(m, a), [method, args] as const) as Promise<T>;
}

async function run(binary: string, args: string[], work: string): Promise<void> {
  const library = join(work, 'library');
  const photos = join(work, 'photos');
  await writePhotos(photos);
  const consoleErrors: string[] = [];
  const app: ElectronApplication = await _electron.launch({
    executablePath: binary, args, env: { ...process.env, LOUPE_HOME: library }, timeout: DEADLINE_MS,
  });
  try {
    const page = await app.firstWindow({ timeout: DEADLINE_MS });
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.waitForFunction(() => typeof window.loupe?.call === 'function', undefined, { timeout: DEADLINE_MS });
    // The engine's process is ready when it answers.
    const status = await call<LibraryStatus>(page, 'status', []);
    if (status.library !== library) fail(`the engine opened ${status.library}, not ${library}`);
    console.log(`  window open, engine ready (library ${status.library}, schema v${status.schemaVersion})`);

    await call(page, 'addFolder', [photos]);
    await indexedCount(page, PHOTOS);
    const after = await call<LibraryStatus>(page, 'status', []);
    if (after.counts.ok !== PHOTOS) fail(`${after.counts.ok} of ${PHOTOS} photos indexed`);
    console.log(`  folder added and indexed: ${after.counts.ok} photos`);

    const found = await call<SearchResponse>(page, 'search', [{ text: 'IMG_2003' }]);
    const hit = found.hits[0];
    if (!hit || !hit.photo.path.endsWith('IMG_2003.jpg')) fail(`searching "IMG_2003" answered ${JSON.stringify(found.hits.map((h) => h.photo.path))}`);
    console.log(`  search answered in ${found.tookMs} ms`);

    const picture = await page.evaluate(async (id) => {
      const r = await fetch(`loupe://media/thumb/${id}/256`);
      return { status: r.status, type: r.headers.get('content-type'), bytes: (await r.arrayBuffer()).byteLength };
    }, hit.photo.id);
    if (picture.status !== 200 || picture.type !== 'image/jpeg' || picture.bytes < 100) fail(`loupe://media answered ${JSON.stringify(picture)}`);
    console.log(`  thumbnail served on loupe://media (${picture.bytes} bytes)`);
  } finally {
    await app.close();
  }
  if (consoleErrors.length > 0) fail(`the window's console showed errors:\n${consoleErrors.join('\n')}`);
  const file = join(library, 'loupe.db');
  const db = new Database(file, { readonly: true });
  const check = db.pragma('integrity_check', { simple: true });
  db.close();
  if (check !== 'ok') fail(`the database is not whole after closing: ${String(check)}`);
  const wal = `${file}-wal`;
  if (existsSync(wal) && statSync(wal).size > 0) fail('closing left an unchecked WAL file');
  console.log('  closed: database whole, WAL checkpointed');
}

async function main(): Promise<void> {
  const packaged = process.env['LOUPE_APP_BINARY'];
  const electron = packaged ? { ok: true as const, path: packaged, version: 'packaged' } : findElectron(false);
  if (!electron.ok) {
    console.log(`test:app skipped: ${electron.reason}\n${howToGetElectron(electron.version)}`);
    return;
  }
  if (needsDisplay()) {
    const xvfb = spawnSync('xvfb-run', ['-a', process.execPath, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
    if (xvfb.error) fail('this Linux machine has no display and no xvfb-run: install it with sudo apt-get install -y xvfb');
    process.exit(xvfb.status ?? 1);
  }
  // From a clone the shell runs the compiled app (package.json "main"), so build it first.
  const build = packaged ? { status: 0 } : spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32' });
  if (build.status !== 0) fail('npm run build failed');
  const work = mkdtempSync(join(tmpdir(), 'loupe-app-'));
  try {
    console.log(`test:app: Electron ${electron.version} at ${electron.path}`);
    await run(electron.path, packaged ? [] : [ROOT], work);
    console.log('test:app passed');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
