/**
 * The app end to end in a real browser (found by test/helpers/browser.ts) driven by playwright-core, on the built
 * renderer served by the engine's HTTP bridge, over a real library of generated photos with the
 * tiny CLIP and CNN packs. Each step saves a screenshot (docs/screenshots/ keeps a few).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { Bridge } from '../../main/bridge/http.js';
import { openApp, screenshot, type AppInBrowser } from '../helpers/browser.js';
import { tempDir, writeImage } from '../helpers/fixtures.js';
import { serveCatalogHub, type Hub } from '../helpers/hub.js';
import { testLibrary, type TestLibrary } from '../helpers/library.js';
import { writeTinyPacks } from '../helpers/packs.js';

const SHOTS = process.env['LOUPE_SCREENSHOTS'] ?? join(tempDir('loupe-shots-').dir);
const PHOTOS = 9;

let lib: TestLibrary;
let hub: Hub;
let bridge: Bridge;
let app: AppInBrowser;
let page: Page;
const src = tempDir();

const shot = (name: string): Promise<void> => screenshot(page, SHOTS, name);

const tiles = (): ReturnType<Page['locator']> => page.locator('.tile[data-photo-id]');

beforeAll(async () => {
  const packs = writeTinyPacks(src.dir, 3);
  hub = await serveCatalogHub(src.dir, packs.clip);
  // As the app runs it: one photo decoded at a time here, so a run lasts long enough to pause.
  lib = testLibrary({ autoIndex: true, concurrency: 1 });
  await lib.engine.importModel(packs.clip, { name: 'tiny-clip' });
  await lib.engine.importModel(packs.cnn, { name: 'tiny-cnn' });
  for (let i = 0; i < PHOTOS; i++) {
    await writeImage(join(lib.photos, i < 5 ? 'beach' : 'city', `IMG_${1000 + i}.jpg`), {
      width: 480 + i * 16, height: 360, seed: i + 1,
      exif: { IFD0: { Make: i % 2 ? 'Canon' : 'Pixel' }, IFD2: { DateTimeOriginal: `2021:0${1 + (i % 9)}:1${i} 10:00:00` } },
    });
  }
  app = await openApp(lib.engine);
  ({ bridge, page } = app);
}, 120_000);

afterAll(async () => {
  await app?.close();
  await lib?.close();
  await hub?.close();
  src.cleanup();
});

describe('the app in Chromium', () => {
  it('without the session key the page is refused; with it, an empty library teaches what to do', async () => {
    const refused = await page.goto(bridge.origin);
    expect(refused?.status()).toBe(401);
    await page.goto(bridge.openUrl);
    expect(page.url()).toBe(`${bridge.appOrigin}/`);
    await expect.poll(() => page.getByTestId('empty-library').isVisible()).toBe(true);
    expect(await page.getByTestId('empty-library').textContent()).toContain('Add a folder');
    await shot('01-empty');
  });

  it('a hostile server beside it on this machine gets neither the key nor the API', async () => {
    // Another local server, as any program on the machine could run; it records what browsers send it.
    const seen: { path: string; cookie: string | undefined }[] = [];
    const evil = createServer((req, res) => {
      seen.push({ path: req.url ?? '', cookie: req.headers.cookie });
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>neighbour</title>');
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    const port = (evil.address() as AddressInfo).port;
    // The same browser (its cookie jar) visits the neighbour, then comes back to the app.
    const other = page;
    try {
      for (const host of ['127.0.0.1', 'localhost']) await other.goto(`http://${host}:${port}/visit`);
      expect(seen.filter((r) => r.path === '/visit')).toHaveLength(2);
      for (const r of seen) expect(r.cookie ?? '').not.toContain(bridge.key);
      // From its page, the app's API with the browser's credentials: refused, and nothing changes.
      const answer = await other.evaluate(async (url) => {
        try {
          const res = await fetch(url, { method: 'POST', credentials: 'include', headers: { 'Content-Type': 'application/json' }, body: '["/etc"]' });
          return res.status;
        } catch (err) {
          return String(err);
        }
      }, `${bridge.appOrigin}/api/addFolder`);
      expect(answer).not.toBe(200);
      expect((await lib.engine.listFolders()).map((f) => f.path)).not.toContain('/etc');
    } finally {
      await new Promise<void>((resolve) => evil.close(() => resolve()));
    }
    // The app itself still opens with the cookie it was given.
    expect((await page.goto(`${bridge.appOrigin}/`))?.status()).toBe(200);
    await expect.poll(() => page.getByTestId('empty-library').isVisible()).toBe(true);
  });

  it('asks before adding a folder that holds the operating system, and adds nothing when told no', async () => {
    let asked = '';
    page.once('dialog', (d) => { asked = d.message(); void d.dismiss(); });
    await page.getByRole('button', { name: '+ Add folder' }).click();
    await page.getByLabel('Folder path').fill('/');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => asked).toMatch(/holds the operating system[\s\S]*Add it anyway\?/);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('holds the operating system');
    expect(await lib.engine.listFolders()).toHaveLength(0);
    await page.getByRole('button', { name: 'Dismiss' }).click();
  });

  it('adds a folder and shows the photos as indexing finishes', async () => {
    await page.getByRole('button', { name: '+ Add folder' }).click();
    await page.getByLabel('Folder path').fill(lib.photos);
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => page.getByTestId('library-counts').textContent(), { timeout: 60_000 }).toContain(`${PHOTOS} photos indexed`);
    await expect.poll(() => tiles().count(), { timeout: 30_000 }).toBe(PHOTOS);
    expect(await page.getByTestId('folder').textContent()).toContain(String(PHOTOS));
    // Every thumbnail actually loaded (served by photo id).
    await expect.poll(() => page.locator('.tile img').evaluateAll((imgs) => imgs.every((i) => (i as unknown as { naturalWidth: number }).naturalWidth > 0))).toBe(true);
    await shot('02-library');
  });

  it('searches by sentence and shows the engine\'s ranking', async () => {
    await page.getByLabel('Search').fill('a sunny beach with palm trees');
    await page.getByLabel('Search').press('Enter');
    await expect.poll(() => page.locator('h1').textContent()).toContain('a sunny beach with palm trees');
    const expected = await lib.engine.search({ text: 'a sunny beach with palm trees', limit: 200 });
    await expect.poll(() => page.getByTestId('result-count').textContent()).toContain(`${expected.total} photos`);
    const shown = await tiles().evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-photo-id'))));
    expect(shown).toEqual(expected.hits.map((h) => h.photo.id));
    await shot('03-sentence');
  });

  it('opens a photo with its metadata, then draws a region and shows boxed hits', async () => {
    await tiles().first().dblclick();
    const viewer = page.getByRole('dialog');
    await expect.poll(() => viewer.isVisible()).toBe(true);
    expect(await viewer.locator('h2').textContent()).toMatch(/^IMG_10\d\d\.jpg$/);
    expect(await viewer.textContent()).toContain('Camera');
    await shot('04-viewer');
    await page.getByRole('button', { name: 'Search a region' }).click();
    const frame = viewer.locator('.frame');
    await expect.poll(async () => (await frame.boundingBox())?.width ?? 0).toBeGreaterThan(100);
    const b = (await frame.boundingBox())!;
    await page.mouse.move(b.x + b.width * 0.1, b.y + b.height * 0.1);
    await page.mouse.down();
    await page.mouse.move(b.x + b.width * 0.3, b.y + b.height * 0.3, { steps: 5 });
    await page.mouse.move(b.x + b.width * 0.55, b.y + b.height * 0.6, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Region search');
    await expect.poll(() => tiles().count(), { timeout: 20_000 }).toBeGreaterThan(0);
    // Region hits carry the box where the match is.
    await expect.poll(() => page.locator('.tile .box').count()).toBeGreaterThan(0);
    await shot('05-region-hits');
    await page.locator('.tile:has(.box)').first().dblclick();
    await expect.poll(() => page.getByTestId('found-box').isVisible()).toBe(true);
    await shot('06-region-box');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
  });

  it('creates an album from a selection, and adds a photo by dragging it onto the album', async () => {
    await page.getByRole('button', { name: /All photos/ }).click();
    await expect.poll(() => tiles().count()).toBe(PHOTOS);
    await tiles().nth(0).click();
    await tiles().nth(1).click({ modifiers: ['Control'] });
    await expect.poll(() => page.locator('.selection').textContent()).toBe('2 selected');
    await page.getByRole('button', { name: /New album from 2 selected/ }).click();
    await page.getByLabel('Album name').fill('Summer');
    await page.getByRole('button', { name: 'Create' }).click();
    const album = page.getByTestId('album').filter({ hasText: 'Summer' });
    await expect.poll(() => album.textContent()).toContain('2');
    await tiles().nth(2).click();
    await tiles().nth(2).dragTo(album);
    await expect.poll(() => album.textContent()).toContain('3');
    const albums = await lib.engine.listAlbums();
    expect(albums.map((a) => [a.name, a.count])).toEqual([['Summer', 3]]);
    await album.click();
    await expect.poll(() => tiles().count()).toBe(3);
    await shot('07-album');
  });

  it('teaches a category from selected examples and suggests more', async () => {
    await page.getByRole('button', { name: /All photos/ }).click();
    await expect.poll(() => tiles().count()).toBe(PHOTOS);
    await tiles().nth(3).click();
    await tiles().nth(4).click({ modifiers: ['Control'] });
    await page.getByRole('button', { name: /Teach a category from 2 selected/ }).click();
    await page.getByLabel('Category name').fill('Miso');
    await page.getByRole('button', { name: 'Teach' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Suggested for “Miso”');
    await expect.poll(() => page.getByTestId('user-category').textContent()).toContain('Miso');
    const cats = await lib.engine.listCategories();
    expect(cats.map((c) => [c.name, c.positives])).toEqual([['Miso', 2]]);
    await shot('08-taught');
  });

  it('marks selected photos as the same object, which the engine keeps for "same object" search to learn from', async () => {
    await page.getByRole('button', { name: /All photos/ }).click();
    await expect.poll(() => tiles().count()).toBe(PHOTOS);
    await tiles().nth(0).click();
    await expect.poll(() => page.getByTestId('mark-same').count()).toBe(0);
    await tiles().nth(2).click({ modifiers: ['Control'] });
    await page.getByTestId('mark-same').click();
    await expect.poll(() => page.getByTestId('same-marked').textContent()).toMatch(/2 photos marked as the same object or place/);
    const groups = await lib.engine.listSameGroups();
    expect(groups.map((g) => g.photoIds.length)).toEqual([2]);
    await tiles().nth(1).click();
    await expect.poll(() => page.getByTestId('same-marked').count()).toBe(0);
    await lib.engine.unmarkSame(groups[0]!.photoIds);
  });

  it('pauses indexing and resumes it from the status bar', async () => {
    const more = join(lib.photos, 'more');
    for (let i = 0; i < 24; i++) await writeImage(join(more, `M_${i}.jpg`), { width: 2400, height: 1800, seed: 200 + i });
    await page.getByRole('button', { name: 'Check folders now' }).click();
    const pause = page.getByRole('button', { name: 'Pause' });
    await pause.click({ timeout: 30_000 });
    await expect.poll(() => page.getByTestId('paused').isVisible()).toBe(true);
    const status = await lib.engine.status();
    expect(status.indexing.paused).toBe(true);
    const embedded = (lib.engine.internals.db.prepare(`SELECT count(DISTINCT content_id) n FROM vectors WHERE space = 'clip.tiny-clip'`).get() as { n: number }).n;
    // Work was left: photos not reached, or pictures not yet embedded.
    expect(status.counts.pending > 0 || embedded < PHOTOS + 24).toBe(true);
    await shot('09-paused');
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => page.getByTestId('library-counts').textContent(), { timeout: 90_000 }).toContain(`${PHOTOS + 24} photos indexed`);
    await expect.poll(() => (lib.engine.internals.db.prepare(`SELECT count(DISTINCT content_id) n FROM vectors WHERE space = 'clip.tiny-clip'`).get() as { n: number }).n, { timeout: 60_000 }).toBe(PHOTOS + 24);
  });

  it('settings: installs a catalog pack with progress, and shows the device the models actually run on', async () => {
    await page.getByRole('button', { name: /Settings/ }).click();
    const settings = page.getByRole('dialog', { name: 'Settings' });
    await expect.poll(() => settings.isVisible()).toBe(true);
    // Searches have run, so the CLIP models are loaded: on the CPU here, and why not CUDA.
    await expect.poll(() => page.getByTestId('device-used').textContent()).toMatch(/tiny-clip (vision|text) on CPU/);
    expect(await page.getByTestId('device').inputValue()).toBe('auto');

    hub.behaviour = { delayMs: 400 };
    const row = page.getByTestId('pack-clip-vit-b32-q8');
    await row.getByRole('button', { name: 'Install' }).click();
    await expect.poll(() => row.getByTestId('offer-progress').textContent(), { timeout: 20_000 }).toMatch(/file \d of 5/);
    await shot('10-installing');
    await expect.poll(() => row.textContent(), { timeout: 30_000 }).toContain('Use');
    expect((await lib.engine.listModels()).find((m) => m.name === 'clip-vit-b32-q8')).toMatchObject({ installed: true, active: false });

    await page.getByTestId('device').selectOption('cpu');
    await expect.poll(async () => (await lib.engine.device()).requested).toBe('cpu');
    await expect.poll(() => page.getByTestId('device-used').textContent()).toContain('Models load on the first search');
    await shot('11-settings');

    // The sentence-search packs side by side, with the published figures and their sources.
    const table = page.getByTestId('pack-table');
    await table.scrollIntoViewIfNeeded();
    const rows = await table.getByTestId('pack-table-row').allTextContents();
    expect(rows.find((r) => r.includes('SigLIP 2'))).toMatch(/79\.1.*53\.2/);
    expect(rows.find((r) => r.includes('XLM-RoBERTa'))).toMatch(/62\.4.*64\.5.*37\.8.*≈1470 MB.*many/);
    expect(rows.find((r) => r.includes('ViT-B/32 (OpenAI), int8'))).toMatch(/63\.3.*58\.8.*30\.4.*English/);
    expect(await page.getByTestId('pack-table-sources').textContent()).toMatch(/SigLIP 2 paper.*MobileCLIP paper/s);
    // The language searches are written in: what a multilingual NLLB pack is told.
    await page.getByTestId('language').selectOption('de');
    await expect.poll(async () => (await lib.engine.preferences()).language).toBe('de');
    await shot('46-settings-packs-compared');
    await page.keyboard.press('Escape');
  });
});
