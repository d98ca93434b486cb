/**
 * What people wrote about their photos, in a real browser: a JPEG with embedded XMP (title,
 * description, rating, label, keywords) beside one with a Lightroom sidecar and one with nothing.
 * The Filters panel narrows to four stars or more and to a keyword; the viewer shows the title,
 * the description, the stars and the keywords.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import sharp, { type Sharp } from 'sharp';
import type { Bridge } from '../../main/bridge/http.js';
import { openApp, screenshot, type AppInBrowser } from '../helpers/browser.js';
import { tempDir } from '../helpers/fixtures.js';
import { indexPhotos, testLibrary, type TestLibrary } from '../helpers/library.js';

const xmp = (attrs: string, inner: string): string => `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" ${attrs}>${inner}</rdf:Description></rdf:RDF></x:xmpmeta>`;

let lib: TestLibrary;
let app: AppInBrowser;
let bridge: Bridge;
let page: Page;
const tiles = (): ReturnType<Page['locator']> => page.locator('.tile[data-photo-id]');
const SHOTS = process.env['LOUPE_SCREENSHOTS'] ?? tempDir('loupe-shots-').dir;
const shot = (name: string): Promise<void> => screenshot(page, SHOTS, name);

beforeAll(async () => {
  lib = testLibrary({ autoIndex: true });
  mkdirSync(lib.photos, { recursive: true });
  const picture = (g: number): Sharp => sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 60, g, b: 90 } } });
  const regionNs = 'xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#"';
  await picture(50).withXmp(xmp(`xmp:Rating="5" xmp:Label="Red" ${regionNs}`,
    '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Grandma\'s garden</rdf:li></rdf:Alt></dc:title>'
    + '<dc:description><rdf:Alt><rdf:li xml:lang="x-default">The roses in June</rdf:li></rdf:Alt></dc:description>'
    + '<dc:subject><rdf:Bag><rdf:li>Grandma</rdf:li><rdf:li>roses</rdf:li></rdf:Bag></dc:subject>'
    // Her face, as Lightroom names it (an MWG region: centre and size).
    + '<mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:RegionList><rdf:Bag><rdf:li rdf:parseType="Resource"><mwg-rs:Name>Grandma</mwg-rs:Name>'
    + '<mwg-rs:Type>Face</mwg-rs:Type><mwg-rs:Area stArea:x="0.3" stArea:y="0.4" stArea:w="0.2" stArea:h="0.3"/></rdf:li></rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>')).jpeg().toFile(join(lib.photos, 'a.jpg'));
  await picture(120).jpeg().toFile(join(lib.photos, 'b.jpg'));
  writeFileSync(join(lib.photos, 'b.xmp'), xmp('xmp:Rating="2"', '<dc:subject><rdf:Bag><rdf:li>roses</rdf:li></rdf:Bag></dc:subject>'));
  await picture(200).jpeg().toFile(join(lib.photos, 'c.jpg'));
  await indexPhotos(lib);
  app = await openApp(lib.engine);
  ({ bridge, page } = app);
}, 120_000);

afterAll(async () => {
  await app?.close();
  await lib?.close();
});

describe('metadata people wrote, in the app', () => {
  it('filters by stars and by keyword', async () => {
    await page.goto(bridge.openUrl);
    await expect.poll(() => tiles().count(), { timeout: 30_000 }).toBe(3);
    await page.getByRole('button', { name: 'Filters' }).click();
    await page.getByLabel('Rating').selectOption({ label: '★★★★ or more' });
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => tiles().count()).toBe(1);
    await page.getByLabel('Rating').selectOption({ label: 'Any' });
    await page.getByLabel('Keyword').fill('roses');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => tiles().count()).toBe(2);
    await shot('14-filters-keyword');
  });

  it('shows the title, description, stars and keywords in the viewer', async () => {
    await page.getByLabel('Keyword').fill('grandma');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => tiles().count()).toBe(1);
    await tiles().first().dblclick();
    const viewer = page.getByRole('dialog');
    await expect.poll(() => viewer.getByRole('heading', { level: 2 }).textContent()).toBe('Grandma\'s garden');
    expect(await viewer.getByTestId('description').textContent()).toBe('The roses in June');
    expect(await viewer.getByTestId('rating').textContent()).toBe('★★★★★');
    await expect.poll(() => viewer.getByTestId('keywords').textContent()).toBe('Grandma, roses');
    // The face region drawn in another app, on the picture where it was drawn, with its name.
    expect(await viewer.getByTestId('region').count()).toBe(0);
    await viewer.getByRole('button', { name: 'Show the region drawn in other apps' }).click();
    const region = viewer.getByTestId('region');
    expect(await region.textContent()).toBe('Grandma');
    const [r, frame] = await Promise.all([region.boundingBox(), viewer.locator('.frame').boundingBox()]);
    expect((r!.x - frame!.x) / frame!.width).toBeCloseTo(0.2, 1);
    expect((r!.y - frame!.y) / frame!.height).toBeCloseTo(0.25, 1);
    expect(r!.width / frame!.width).toBeCloseTo(0.2, 1);
    await shot('15-viewer-metadata');
    await page.keyboard.press('Escape');
    // Settings lists the formats this installation reads.
    await page.getByRole('button', { name: 'Settings' }).click();
    const settings = page.getByRole('dialog', { name: 'Settings' });
    await expect.poll(() => settings.getByTestId('format').count()).toBe(4);
    await settings.getByTestId('format').last().scrollIntoViewIfNeeded();
    expect(await settings.getByTestId('format').first().textContent()).toContain('JPEG, PNG, WebP');
    await shot('16-settings-formats');
    await page.keyboard.press('Escape');
  });

  it('writes albums into sidecars only once the user turns it on in Settings', async () => {
    const album = await lib.engine.createAlbum('Summer');
    await lib.engine.addToAlbum(album.id, [lib.row(join(lib.photos, 'c.jpg'))!.id]);
    const sidecar = join(lib.photos, 'c.jpg.xmp');
    expect(existsSync(sidecar)).toBe(false);
    await page.getByRole('button', { name: 'Settings' }).click();
    const settings = page.getByRole('dialog', { name: 'Settings' });
    const box = settings.getByLabel('Write albums and categories into XMP sidecars, for other photo apps to read');
    await expect.poll(() => settings.getByTestId('sidecar-state').textContent()).toMatch(/Off: Loupe never writes beside your photos/);
    expect(await box.isChecked()).toBe(false);
    await box.check();
    await expect.poll(() => settings.getByTestId('sidecar-state').textContent()).toMatch(/1 sidecar written, 0 up to date/);
    expect(readFileSync(sidecar, 'utf8')).toContain('<rdf:li>Summer</rdf:li>');
    await settings.getByTestId('sidecar-state').scrollIntoViewIfNeeded();
    await shot('19-settings-sidecars');
    await page.keyboard.press('Escape');
  });
});
