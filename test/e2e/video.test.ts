/**
 * A video's moment, in a real browser: a WebM slideshow of three real photos (made by ffmpeg in
 * the test) and a photo, embedded by the synthetic CLIP pack. A sentence whose best match is a
 * later frame shows the video with that moment's frame and time; the viewer plays the video,
 * served by byte range, from that moment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import type { SearchHit } from '../../main/contract/api.js';
import { openApp, screenshot, type AppInBrowser } from '../helpers/browser.js';
import { tempDir } from '../helpers/fixtures.js';
import { testLibrary, type TestLibrary } from '../helpers/library.js';
import { writeTinyPacks } from '../helpers/packs.js';
import { realOrGenerated } from '../helpers/shared.js';

const FFMPEG = spawnSync('ffmpeg', ['-version']).error === undefined;
const SHOTS = process.env['LOUPE_SCREENSHOTS'] ?? tempDir('loupe-shots-').dir;

const src = tempDir();
let lib: TestLibrary;
let app: AppInBrowser;
let page: Page;

describe.skipIf(!FFMPEG)('a video in the app', () => {
  beforeAll(async () => {
    const packs = writeTinyPacks(src.dir, 3);
    lib = testLibrary();
    mkdirSync(lib.photos, { recursive: true });
    const slides: string[] = [];
    for (const [i, s] of ['objects/darknet-dog.jpg', 'objects/darknet-giraffe.jpg', 'objects/skimage-coffee.png'].entries()) {
      slides.push(join(src.dir, `slide-${i}.png`));
      writeFileSync(slides[i]!, await realOrGenerated(s, i, 320, 240));
    }
    // WebM (VP8): every Chromium build plays it.
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...slides.flatMap((s) => ['-loop', '1', '-t', '4', '-framerate', '10', '-i', s]),
      '-filter_complex', '[0]setsar=1[a];[1]setsar=1[b];[2]setsar=1[c];[a][b][c]concat=n=3:v=1[v]', '-map', '[v]',
      '-c:v', 'libvpx', '-b:v', '400k', '-deadline', 'realtime', '-r', '10', '-y', join(lib.photos, 'slideshow.webm')], { stdio: 'pipe' });
    await sharp(await realOrGenerated('scenes/kde-path.jpg', 9, 480, 320)).jpeg().toFile(join(lib.photos, 'path.jpg'));
    await lib.engine.importModel(packs.clip, { name: 'tiny-clip' });
    await lib.engine.addFolder(lib.photos);
    await lib.engine.scan();
    expect((await lib.engine.index()).failed).toBe(0);
    app = await openApp(lib.engine);
    page = app.page;
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    await lib?.close();
    src.cleanup();
  });

  it('shows the moment a sentence found, and plays the video from it', async () => {
    // A sentence whose top hit is a moment past the first photo (the engine's ranking is checked in video-frames.test.ts).
    let text = '';
    let top: SearchHit | undefined;
    for (let i = 0; i < 200 && !text; i++) {
      const candidate = `a picture of thing number ${i} in the film`;
      const hit = (await lib.engine.search({ text: candidate, limit: 5 })).hits[0];
      if (hit?.atMs !== null && hit !== undefined && hit.atMs >= 4000) [text, top] = [candidate, hit];
    }
    expect(top, 'a sentence whose top hit is a later moment').toBeDefined();
    const seconds = Math.round(top!.atMs! / 1000);
    const clock = `0:${String(seconds).padStart(2, '0')}`;

    await page.goto(app.bridge.openUrl);
    await page.getByLabel('Search').fill(text);
    await page.getByLabel('Search').press('Enter');
    const tile = page.locator(`.tile[data-photo-id="${top!.photo.id}"]`);
    await expect.poll(() => tile.getByTestId('moment').textContent(), { timeout: 30_000 }).toBe(`▶ ${clock}`);
    // The tile shows that moment's frame, served by photo id and time.
    const img = tile.locator('img');
    expect(await img.getAttribute('src')).toMatch(new RegExp(`/frame/${top!.photo.id}/${top!.atMs}$`));
    await expect.poll(() => img.evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    await screenshot(page, SHOTS, '17-video-moment');

    await tile.dblclick();
    const viewer = page.getByRole('dialog');
    expect(await viewer.getByTestId('found-at').textContent()).toBe(clock);
    const player = viewer.getByTestId('player');
    // Loaded by byte range and set to the moment (the browser knows the video's length only after it read it).
    await expect.poll(() => player.evaluate((v) => (v as unknown as { readyState: number; duration: number }).duration), { timeout: 30_000 })
      .toBeCloseTo(12, 0);
    await expect.poll(() => player.evaluate((v) => (v as unknown as { currentTime: number }).currentTime), { timeout: 30_000 })
      .toBeCloseTo(top!.atMs! / 1000, 1);
    await screenshot(page, SHOTS, '18-video-viewer');
  });
});
