/**
 * People in the app, in a real browser, on the real photos with the real face models (a face
 * pack made from ../shared/models): the People view shows each person by their best face with a
 * count; a person's page lists their photos, takes a name in place and merges; a face of no one
 * that is clearly someone is confirmed with the keyboard (Y); the viewer draws faces with names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { openApp, screenshot, type AppInBrowser } from '../helpers/browser.js';
import { tempDir } from '../helpers/fixtures.js';
import { indexPhotos, testLibrary, type TestLibrary } from '../helpers/library.js';
import { facePackFromShared, HAVE_FACE_MODELS, HAVE_SHARED_PHOTOS, SHARED_PHOTOS } from '../helpers/shared.js';

const HAVE = HAVE_SHARED_PHOTOS && HAVE_FACE_MODELS;
const SHOTS = process.env['LOUPE_SCREENSHOTS'] ?? tempDir('loupe-shots-').dir;
const src = tempDir();
let lib: TestLibrary;
let app: AppInBrowser;
let page: Page;
const tiles = (): ReturnType<Page['locator']> => page.locator('.tile[data-photo-id]');

describe.skipIf(!HAVE)('people in the app (real face models from ../shared)', () => {
  beforeAll(async () => {
    const pack = join(src.dir, 'faces');
    // BlazeFace without the verifier, which would drop the walker's weak face: two people to name, merge and tell apart.
    facePackFromShared(pack, false);
    lib = testLibrary();
    mkdirSync(lib.photos, { recursive: true });
    const astronaut = join(SHARED_PHOTOS, 'objects/skimage-astronaut.png');
    copyFileSync(astronaut, join(lib.photos, 'astronaut.png'));
    await sharp(astronaut).resize(320).jpeg().toFile(join(lib.photos, 'astronaut-small.jpg'));
    await sharp(astronaut).flop().jpeg().toFile(join(lib.photos, 'astronaut-mirror.jpg'));
    copyFileSync(join(SHARED_PHOTOS, 'objects/darknet-person.jpg'), join(lib.photos, 'walker.jpg'));
    await lib.engine.importModel(pack, { name: 'faces' });
    await indexPhotos(lib);
    app = await openApp(lib.engine);
    page = app.page;
  }, 240_000);

  afterAll(async () => {
    await app?.close();
    await lib?.close();
    src.cleanup();
  });

  it('shows everyone by their best face, and a person\'s photos, named in place', async () => {
    await page.goto(app.bridge.openUrl);
    await page.getByRole('button', { name: 'People', exact: true }).click();
    const people = page.getByTestId('person');
    await expect.poll(() => people.count(), { timeout: 30_000 }).toBe(2);
    expect(await people.first().textContent()).toMatch(/Add a name\s*3 photos/);
    // The face tile is cut from the photo's thumbnail.
    expect(await people.first().getByRole('img').getAttribute('style')).toMatch(/thumb\/\d+\/1024/);
    await screenshot(page, SHOTS, '20-people');
    await people.first().click();
    await expect.poll(() => tiles().count()).toBe(3);
    const name = page.getByLabel('Name');
    await name.fill('Eileen');
    await name.press('Enter');
    await expect.poll(async () => (await lib.engine.listPeople())[0]?.name).toBe('Eileen');
    await screenshot(page, SHOTS, '21-person');
  });

  it('confirms a face of no one with the keyboard, and draws faces with names in the viewer', async () => {
    const [eileen] = await lib.engine.listPeople();
    const faces = await lib.engine.personFaces(eileen!.id);
    await lib.engine.moveFace(faces.at(-1)!.id, null);
    await page.getByRole('button', { name: 'People', exact: true }).click();
    const review = page.getByTestId('face-review');
    await expect.poll(() => review.textContent(), { timeout: 30_000 }).toMatch(/Is this Eileen\?/);
    await screenshot(page, SHOTS, '22-face-review');
    await page.keyboard.press('y');
    await expect.poll(async () => (await lib.engine.listPeople())[0]?.photos).toBe(3);
    await expect.poll(() => review.count()).toBe(0);

    await page.getByTestId('person').first().click();
    await expect.poll(() => tiles().count()).toBe(3);
    await tiles().first().dblclick();
    const viewer = page.getByRole('dialog');
    await viewer.getByRole('button', { name: 'Show the person' }).click();
    await expect.poll(() => viewer.getByTestId('face').textContent()).toBe('Eileen');
    expect(await viewer.getByTestId('people').textContent()).toBe('Eileen');
    await screenshot(page, SHOTS, '23-viewer-faces');
    await page.keyboard.press('Escape');
  });

  it('shows the face stage at work in the status bar while new photos are looked at', async () => {
    const astronaut = join(SHARED_PHOTOS, 'objects/skimage-astronaut.png');
    for (let i = 0; i < 12; i++) await sharp(astronaut).resize(300 + i * 10).jpeg({ quality: 70 + i }).toFile(join(lib.photos, `more-${i}.jpg`));
    await page.getByRole('button', { name: 'Check folders now' }).click();
    await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 60_000, interval: 50 }).toMatch(/Finding people/);
    await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 60_000 }).toMatch(/photos indexed/);
    await expect.poll(async () => (await lib.engine.listPeople())[0]?.photos, { timeout: 30_000 }).toBe(15);
    await page.getByRole('button', { name: 'People', exact: true }).click();
    await page.getByTestId('person').first().click();
  });

  it('merges two people from a person\'s page', async () => {
    await page.getByLabel('Merge with').selectOption({ label: 'Someone (1 photo)' });
    await expect.poll(() => tiles().count()).toBe(16);
    expect((await lib.engine.listPeople()).map((p) => [p.name, p.photos])).toEqual([['Eileen', 16]]);
  });
});
