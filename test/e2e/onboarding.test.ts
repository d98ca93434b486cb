/**
 * First run in a real browser: a library with no folder and no model pack. The onboarding panel
 * adds a folder and offers the recommended pack (size, licence); a sentence searched before any
 * pack exists says so with an Install button; an install is cancelled (nothing installed) and
 * then resumed to the end, after which content search answers. The pack comes from a real HTTP
 * server on 127.0.0.1 playing the model hub, through a catalog pinned against it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { Bridge } from '../../main/bridge/http.js';
import { openApp, screenshot, type AppInBrowser } from '../helpers/browser.js';
import { tempDir, writeImage } from '../helpers/fixtures.js';
import { serveCatalogHub, type Hub } from '../helpers/hub.js';
import { testLibrary, type TestLibrary } from '../helpers/library.js';
import { writeTinyPacks } from '../helpers/packs.js';

const SHOTS = process.env['LOUPE_SCREENSHOTS'] ?? join(tempDir('loupe-shots-').dir);
const PHOTOS = 4;
/** The catalog's recommended sentence-search pack. */
const PACK = 'siglip2-b16-256-q8';

let lib: TestLibrary;
let hub: Hub;
let bridge: Bridge;
let app: AppInBrowser;
let page: Page;
const src = tempDir();

const shot = (name: string): Promise<void> => screenshot(page, SHOTS, name);

beforeAll(async () => {
  const packs = writeTinyPacks(src.dir, 5);
  hub = await serveCatalogHub(src.dir, packs.clip);
  lib = testLibrary({ autoIndex: true });
  for (let i = 0; i < PHOTOS; i++) await writeImage(join(lib.photos, `beach-${i}.jpg`), { width: 400, height: 300, seed: i + 40 });
  app = await openApp(lib.engine);
  ({ bridge, page } = app);
}, 120_000);

afterAll(async () => {
  await app?.close();
  await lib?.close();
  await hub?.close();
  src.cleanup();
});

describe('first run', () => {
  it('offers to add a folder and the recommended pack, with its size and licence', async () => {
    await page.goto(bridge.openUrl);
    const onboarding = page.getByTestId('onboarding');
    await expect.poll(() => onboarding.isVisible()).toBe(true);
    expect(await onboarding.textContent()).toContain('Add a folder of photos');
    const offer = onboarding.getByTestId(`offer-${PACK}`);
    await expect.poll(() => offer.isVisible()).toBe(true);
    const bytes = (await lib.engine.listModels()).find((m) => m.name === PACK)!.bytes!;
    expect(bytes).toBeGreaterThan(0);
    // As the app writes sizes: a decimal under 10 MB (Gemma's tokenizer alone is 17 MB here).
    const size = bytes < 10 * 2 ** 20 ? (bytes / 2 ** 20).toFixed(1) : Math.round(bytes / 2 ** 20).toString();
    expect(await offer.getByTestId('offer-facts').textContent()).toBe(`${size} MB · licence Apache-2.0`);
    expect(await offer.textContent()).toContain('search by sentence');
    await shot('11-onboarding');
  });

  it('adds a folder from the panel; the model step stays until it is put off', async () => {
    await page.getByLabel('Photos folder').fill(lib.photos);
    await page.getByRole('button', { name: 'Add this folder' }).click();
    await expect.poll(() => page.getByTestId('library-counts').textContent(), { timeout: 60_000 }).toContain(`${PHOTOS} photos indexed`);
    await expect.poll(() => page.getByTestId('step-folder').textContent()).toContain('1 folder');
    expect(await page.getByTestId('step-model').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Not now' }).click();
    await expect.poll(() => page.getByTestId('onboarding').count()).toBe(0);
    // Put off on this computer: a reload does not ask again.
    await page.reload();
    await expect.poll(() => page.getByTestId('library-counts').textContent()).toContain(`${PHOTOS} photos indexed`);
    expect(await page.getByTestId('onboarding').count()).toBe(0);
  });

  it('a sentence searched before any pack says so, with an Install button', async () => {
    await page.getByLabel('Search').fill('waves on a sandy beach');
    await page.getByLabel('Search').press('Enter');
    const needs = page.getByTestId('needs-model');
    await expect.poll(() => needs.isVisible()).toBe(true);
    expect(await needs.textContent()).toContain('Searching by what is in the photos needs a model pack');
    // Said once, with the way out, not also as an error.
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await needs.getByRole('button', { name: 'Install' }).isEnabled()).toBe(true);
    await shot('12-needs-model');
  });

  it('cancels an install (nothing installed), then installs it to the end and answers by content', async () => {
    const needs = page.getByTestId('needs-model');
    // A slow hub, so the download is still under way when Cancel is pressed.
    hub.behaviour = { delayMs: 60_000 };
    await needs.getByRole('button', { name: 'Install' }).click();
    await expect.poll(() => needs.getByTestId('offer-progress').isVisible()).toBe(true);
    await needs.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => needs.getByTestId('offer-error').textContent(), { timeout: 20_000 }).toContain('was cancelled');
    expect((await lib.engine.listModels()).find((m) => m.name === PACK)).toMatchObject({ installed: false });

    hub.behaviour = {};
    await needs.getByRole('button', { name: 'Try again' }).click();
    await expect.poll(async () => (await lib.engine.listModels()).find((m) => m.name === PACK)?.installed, { timeout: 60_000 }).toBe(true);
    // The photos are embedded in the background; then the notice goes and the sentence is answered by content.
    await expect.poll(() => page.getByTestId('needs-model').count(), { timeout: 90_000 }).toBe(0);
    const answer = await lib.engine.search({ text: 'waves on a sandy beach' });
    expect(answer.space).toContain(PACK);
    expect(answer.hits.length).toBeGreaterThan(0);
    await shot('13-installed');
  });

  it('the People view, with no face pack, offers the catalog\'s, with its size and both licences', async () => {
    await page.getByRole('button', { name: 'People', exact: true }).click();
    const offer = page.getByTestId('offer-yunet-sface');
    await expect.poll(() => offer.isVisible()).toBe(true);
    const bytes = (await lib.engine.listModels()).find((m) => m.name === 'yunet-sface')!.bytes!;
    expect(bytes).toBe(232_589 + 24_227_283);
    expect(await offer.getByTestId('offer-facts').textContent()).toBe(`${Math.round(bytes / 2 ** 20)} MB · licence MIT (YuNet) and Apache-2.0 (SFace)`);
    expect(await offer.textContent()).toContain('find the people in your photos');
    expect(await offer.getByRole('button', { name: 'Install' }).isEnabled()).toBe(true);
    await shot('14-people-offer');
  });
});
