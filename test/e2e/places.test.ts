/**
 * Places and the map in the app, in a real browser: photos with GPS in their EXIF (five cities:
 * Lisbon, Cascais, Tokyo, Paris, Sydney) and one without; the Places view goes from countries to a country's places to
 * a place's photos; the viewer says where a photo was taken; the map draws the world offline with
 * a marker per crowd of photos; a marker opens the photos there, and a rectangle drawn with Shift
 * narrows the search the map was opened from.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { openApp, screenshot, type AppInBrowser } from '../helpers/browser.js';
import { tempDir } from '../helpers/fixtures.js';
import { indexPhotos, testLibrary, type TestLibrary } from '../helpers/library.js';
import { realOrGenerated } from '../helpers/shared.js';

const SHOTS = process.env['LOUPE_SCREENSHOTS'] ?? tempDir('loupe-shots-').dir;
let lib: TestLibrary;
let app: AppInBrowser;
let page: Page;
/** A tile server on 127.0.0.1 (LOUPE_TILE_URL points the map at it): a plain blue tile for every z/x/y, and what was asked. */
let tileServer: Server;
const tilesAsked: string[] = [];
const tiles = (): ReturnType<Page['locator']> => page.locator('.tile[data-photo-id]');

const dms = (v: number): string => {
  const a = Math.abs(v);
  const d = Math.floor(a);
  const m = Math.floor((a - d) * 60);
  return `${d}/1 ${m}/1 ${Math.round(((a - d) * 60 - m) * 6000)}/100`;
};

const PHOTOS: [string, string, [number, number] | null, string][] = [
  ['lisbon-river.jpg', 'scenes/kde-bythewater.jpg', [38.7071, -9.1355], '2024:05:01 10:00:00'],
  ['lisbon-evening.jpg', 'scenes/kde-eveningglow.jpg', [38.7139, -9.1394], '2024:05:01 19:00:00'],
  ['cascais-cups.jpg', 'scenes/kde-colorfulcups.jpg', [38.6979, -9.4215], '2024:05:02 12:00:00'],
  ['tokyo-path.jpg', 'scenes/kde-path.jpg', [35.6762, 139.6503], '2024:06:01 09:00:00'],
  ['paris-leaf.jpg', 'scenes/kde-coldripple.jpg', [48.8566, 2.3522], '2024:07:01 09:00:00'],
  ['sydney-kite.jpg', 'scenes/kde-kite.jpg', [-33.8688, 151.2093], '2024:08:01 09:00:00'],
  ['home.jpg', 'scenes/kde-fallenleaf.jpg', null, '2023:01:01 09:00:00'],
];

describe('places and the map in the app', () => {
  beforeAll(async () => {
    const tile = await sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 20, g: 90, b: 200 } } }).png().toBuffer();
    tileServer = createServer((req, res) => {
      tilesAsked.push(req.url ?? '');
      res.writeHead(/^\/\d+\/\d+\/\d+\.png$/.test(req.url ?? '') ? 200 : 404, { 'Content-Type': 'image/png', 'Access-Control-Allow-Origin': '*' }).end(tile);
    });
    await new Promise<void>((r) => tileServer.listen(0, '127.0.0.1', r));
    process.env['LOUPE_TILE_URL'] = `http://127.0.0.1:${(tileServer.address() as AddressInfo).port}/{z}/{x}/{y}.png`;
    lib = testLibrary();
    mkdirSync(lib.photos, { recursive: true });
    for (const [i, [name, photo, at, taken]] of PHOTOS.entries()) {
      const gps = at ? { IFD3: { GPSLatitudeRef: at[0] < 0 ? 'S' : 'N', GPSLatitude: dms(at[0]), GPSLongitudeRef: at[1] < 0 ? 'W' : 'E', GPSLongitude: dms(at[1]) } } : {};
      await sharp(await realOrGenerated(photo, i, 640, 427)).withExif({ IFD2: { DateTimeOriginal: taken }, ...gps }).jpeg().toFile(join(lib.photos, name));
    }
    await indexPhotos(lib);
    app = await openApp(lib.engine);
    page = app.page;
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await lib?.close();
    delete process.env['LOUPE_TILE_URL'];
    await new Promise<void>((r) => tileServer?.close(() => r()));
  });

  it('goes from countries to a country\'s places to a place\'s photos, and the viewer names the place', async () => {
    await page.goto(app.bridge.openUrl);
    await page.getByRole('button', { name: 'Places', exact: true }).click();
    const places = page.getByTestId('place');
    await expect.poll(() => places.allTextContents()).toEqual([
      expect.stringMatching(/Portugal\s*3 photos/), expect.stringMatching(/Australia\s*1 photo$/),
      expect.stringMatching(/France\s*1 photo$/), expect.stringMatching(/Japan\s*1 photo$/),
    ]);
    await screenshot(page, SHOTS, '30-places');
    await places.first().click();
    await expect.poll(() => places.allTextContents()).toEqual([expect.stringMatching(/Lisbon\s*2 photos/), expect.stringMatching(/Cascais\s*Lisbon\s*1 photo/)]);
    await places.first().click();
    await expect.poll(() => tiles().count()).toBe(2);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Lisbon, Portugal');
    await tiles().first().dblclick();
    await expect.poll(() => page.getByTestId('place').textContent()).toBe('Lisbon, Portugal');
    await page.keyboard.press('Escape');
  });

  it('finds each city\'s photo under place: from the search box', async () => {
    for (const [city, photo] of [['Lisbon', 'lisbon-'], ['Cascais', 'cascais-'], ['Tokyo', 'tokyo-'], ['Paris', 'paris-'], ['Sydney', 'sydney-']]) {
      await page.getByLabel('Search').fill(`place:${city}`);
      await page.getByLabel('Search').press('Enter');
      await expect.poll(() => tiles().locator('img').evaluateAll((ts) => ts.map((t) => t.getAttribute('alt')))).toEqual(
        expect.arrayContaining([expect.stringMatching(new RegExp(`^${photo}`))]),
      );
      const shown = await tiles().locator('img').evaluateAll((ts) => ts.map((t) => t.getAttribute('alt') ?? ''));
      // Lisbon's region holds Cascais; every other city holds its own photo alone.
      expect(shown.every((n) => n.startsWith(photo) || (city === 'Lisbon' && n.startsWith('cascais-')))).toBe(true);
    }
  });

  it('draws the world offline with a marker per crowd; a marker opens its photos', async () => {
    await page.getByRole('button', { name: 'Map', exact: true }).click();
    const markers = page.getByTestId('map-marker');
    // Zoomed out, Lisbon and Cascais are one crowd of three; Tokyo, Paris and Sydney one photo each.
    await expect.poll(() => markers.evaluateAll((ms) => ms.map((m) => m.textContent).sort())).toEqual(['1', '1', '1', '3']);
    expect(await page.getByTestId('map').textContent()).toMatch(/6 photos have a location/);
    // The land is drawn: the canvas is not one flat colour.
    type Canvas = { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
    const colours = await page.locator('[data-testid=map] canvas').evaluate((el) => {
      const c = el as unknown as Canvas;
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < d.length; i += 4 * 97) seen.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
      return seen.size;
    });
    expect(colours).toBeGreaterThan(2);
    await screenshot(page, SHOTS, '31-map');
    const opened: string[] = [];
    for (let i = 0; i < 3; i++) {
      if (i > 0) await page.getByRole('button', { name: 'Map', exact: true }).click();
      await page.getByRole('button', { name: '1 photo here' }).nth(i).click();
      await expect.poll(() => tiles().count()).toBe(1);
      opened.push((await tiles().first().locator('img').getAttribute('alt'))!);
    }
    expect(opened.sort()).toEqual(['paris-leaf.jpg', 'sydney-kite.jpg', 'tokyo-path.jpg']);
  });

  it('a rectangle drawn with Shift narrows the search the map was opened from', async () => {
    await page.getByRole('button', { name: 'All photos' }).click();
    await expect.poll(() => tiles().count()).toBe(PHOTOS.length);
    await page.getByRole('button', { name: 'Show on map' }).click();
    const crowd = page.getByRole('button', { name: '3 photos here' });
    await expect.poll(() => crowd.isVisible()).toBe(true);
    // Zoom in on the crowd until Lisbon and Cascais (25 km apart) come apart, then draw around Lisbon alone.
    const lisbon = page.getByRole('button', { name: '2 photos here' });
    for (let i = 0; i < 40 && !(await lisbon.isVisible()); i++) {
      const b = (await crowd.boundingBox())!;
      await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
      await page.mouse.wheel(0, -300);
      await expect.poll(async () => (await lisbon.isVisible()) || (await crowd.isVisible())).toBe(true);
    }
    await expect.poll(() => lisbon.isVisible()).toBe(true);
    // Closer, until the rectangle drawn about Lisbon's marker stays clear of Cascais's.
    const cascais = page.getByRole('button', { name: '1 photo here' });
    const apart = async (): Promise<number> => {
      const [a, b] = [(await lisbon.boundingBox())!, (await cascais.boundingBox())!];
      return Math.hypot(a.x - b.x, a.y - b.y);
    };
    for (let i = 0; i < 20 && (await apart()) < 80; i++) {
      const before = await apart();
      const at = (await lisbon.boundingBox())!;
      await page.mouse.move(at.x + at.width / 2, at.y + at.height / 2);
      await page.mouse.wheel(0, -300);
      await expect.poll(apart).toBeGreaterThan(before);
    }
    await screenshot(page, SHOTS, '32-map-zoomed');
    const b = (await lisbon.boundingBox())!;
    await page.keyboard.down('Shift');
    await page.mouse.move(b.x - 8, b.y - 8);
    await page.mouse.down();
    await page.mouse.move(b.x + b.width + 8, b.y + b.height + 8, { steps: 5 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    await expect.poll(() => tiles().count()).toBe(2);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('All photos, in the area');
    expect((await tiles().locator('img').evaluateAll((ts) => ts.map((t) => t.getAttribute('alt')))).sort()).toEqual(['lisbon-evening.jpg', 'lisbon-river.jpg']);
  });

  it('draws street tiles only once they are turned on, the page\'s policy opening to their server then and not before', async () => {
    const origin = new URL(process.env['LOUPE_TILE_URL']!.replace(/\{[zxy]\}/g, '0')).origin;
    const before = await page.goto(app.bridge.openUrl);
    expect(before!.headers()['content-security-policy']).not.toContain(origin);
    await page.getByRole('button', { name: 'Map', exact: true }).click();
    await expect.poll(() => page.getByTestId('map-marker').count()).toBeGreaterThan(0);
    expect(tilesAsked).toEqual([]);
    await page.getByRole('button', { name: /Settings/ }).click();
    const settings = page.getByRole('dialog', { name: 'Settings' });
    expect(await settings.getByTestId('map-privacy').textContent()).toMatch(/nothing is fetched/);
    const reloaded = page.waitForEvent('load');
    // A click, not check(): the page reloads at once, before check() could see the box ticked.
    await settings.getByLabel(/Draw street maps/).click();
    await reloaded;
    expect((await lib.engine.preferences()).onlineMap).toBe(true);
    const after = await page.reload();
    expect(after!.headers()['content-security-policy']).toContain(`img-src 'self' blob: data: ${origin}`);
    await page.getByRole('button', { name: 'Map', exact: true }).click();
    await expect.poll(() => tilesAsked.length, { timeout: 20_000 }).toBeGreaterThan(0);
    expect(tilesAsked.every((u) => /^\/\d+\/\d+\/\d+\.png$/.test(u))).toBe(true);
    expect(await page.getByTestId('map').textContent()).toMatch(/© OpenStreetMap contributors/);
    // The tiles are drawn: the map's blue, not only the sea and the land.
    type Canvas = { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
    await expect.poll(() => page.locator('[data-testid=map] canvas').evaluate((el) => {
      const c = el as unknown as Canvas;
      const d = c.getContext('2d').getImageData(Math.floor(c.width / 2), Math.floor(c.height / 2), 1, 1).data;
      return [d[0], d[1], d[2]];
    })).toEqual([20, 90, 200]);
    await screenshot(page, SHOTS, '33-map-street-tiles');
    await page.getByRole('button', { name: /Settings/ }).click();
    await page.getByRole('dialog', { name: 'Settings' }).getByTestId('map-privacy').waitFor();
    // The dialog opens before the preferences are read back: wait for them, not for the first paint.
    await expect.poll(() => page.getByRole('dialog', { name: 'Settings' }).getByTestId('map-privacy').textContent()).toMatch(/is sent the numbers of the map tiles/);
    await page.getByRole('dialog', { name: 'Settings' }).getByTestId('map-privacy').scrollIntoViewIfNeeded();
    await screenshot(page, SHOTS, '34-settings-map-and-text');
  });
});
