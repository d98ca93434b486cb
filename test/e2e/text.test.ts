/**
 * Text in photos in the app, in a real browser, read by the real PP-OCR weights while indexing:
 * the sentence "Hotel Aurora" puts the photo of the sign first, marked as a match; the viewer
 * shows the text it read, marks the matching line on the picture and in the list, and copies it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openApp, screenshot, type AppInBrowser } from '../helpers/browser.js';
import { tempDir } from '../helpers/fixtures.js';
import { indexPhotos, testLibrary, type TestLibrary } from '../helpers/library.js';
import { writeTinyPacks } from '../helpers/packs.js';
import { HAVE_FONTS, signPhoto } from '../helpers/text-photos.js';

const SHOTS = process.env['LOUPE_SCREENSHOTS'] ?? tempDir('loupe-shots-').dir;
const src = tempDir();
let lib: TestLibrary;
let app: AppInBrowser;
let page: Page;
const tiles = (): ReturnType<Page['locator']> => page.locator('.tile[data-photo-id]');

describe.skipIf(!HAVE_FONTS)('text in photos in the app (signs rendered in the DejaVu fonts)', () => {
  beforeAll(async () => {
    lib = testLibrary();
    mkdirSync(lib.photos, { recursive: true });
    writeFileSync(join(lib.photos, 'hotel.jpg'), await signPhoto('scenes/kde-bythewater.jpg', 5, { text: 'HOTEL AURORA', size: 44, angle: -6, font: 'DejaVu Serif' }));
    writeFileSync(join(lib.photos, 'bakery.jpg'), await signPhoto('scenes/kde-path.jpg', 6, { text: 'Bakery & Cafe', size: 36, angle: 4, font: 'DejaVu Sans' }));
    for (let i = 0; i < 3; i++) writeFileSync(join(lib.photos, `plain-${i}.jpg`), await signPhoto('scenes/kde-kite.jpg', 10 + i, { text: ' ', size: 1, angle: 0, font: 'DejaVu Sans' }));
    await lib.engine.importModel(writeTinyPacks(join(src.dir, 'packs')).clip, { name: 'clip' });
    await indexPhotos(lib);
    app = await openApp(lib.engine);
    page = app.page;
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    await lib?.close();
    src.cleanup();
  });

  it('finds the sign by what it says, and the viewer shows the text with the matching line marked', async () => {
    await page.goto(app.bridge.openUrl);
    await page.getByLabel('Search').fill('Hotel Aurora');
    await page.getByLabel('Search').press('Enter');
    await expect.poll(() => tiles().count()).toBe(5);
    const first = tiles().first();
    expect(await first.locator('img').getAttribute('alt')).toBe('hotel.jpg');
    expect(await first.textContent()).toContain('match');
    await first.dblclick();
    const text = page.getByTestId('photo-text');
    await expect.poll(() => text.textContent()).toMatch(/HOTEL ?AURORA/);
    // Marked on the picture (shown by itself, since it says what was searched) and in the list.
    await expect.poll(() => page.getByTestId('text-match').count()).toBe(1);
    expect(await text.locator('.match').count()).toBe(1);
    await screenshot(page, SHOTS, '40-text-in-photo');
    await page.getByRole('button', { name: 'Hide the text on the photo' }).click();
    expect(await page.getByTestId('text-match').count()).toBe(0);
    await page.keyboard.press('Escape');
  });

  it('text: finds a phrase the photo says, accents, case and spaces aside', async () => {
    await page.getByLabel('Search').fill('text:"bakery & café"');
    await page.getByLabel('Search').press('Enter');
    await expect.poll(() => tiles().locator('img').evaluateAll((ts) => ts.map((t) => t.getAttribute('alt')))).toEqual(['bakery.jpg']);
  });
});
