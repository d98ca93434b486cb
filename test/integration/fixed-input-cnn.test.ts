/**
 * A CNN pack whose ONNX graph fixes its input at 224×224 and batch 1, as many published exports
 * do (the ONNX Model Zoo's): imported as a user imports it, it used to fail at the first picture
 * ("Got invalid dimensions for input: pixel_values"). Now the trial run finds the fixed size, the
 * pack says that region search is coarser with it, pictures of every shape are letterboxed to it,
 * and same-object and region search work, their boxes on the picture, not on the padding.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { CNN_TINY, writeCnnPack } from '../../models/synthetic.js';
import { cropMap } from '../../main/encoders/cnn.js';
import { preprocessLetterboxed } from '../../main/encoders/preprocess.js';
import { parsePreprocessorConfig } from '../../main/models/preprocessing.js';
import { libraryCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { indexPhotos, testLibrary, type TestLibrary } from '../helpers/library.js';
import { realOrGenerated } from '../helpers/shared.js';

const t = tempDir();
let lib: TestLibrary;
const pack = join(t.dir, 'zoo-cnn');
const file = (path: string): string => path.slice(lib.photos.length + 1);

beforeAll(async () => {
  writeCnnPack(pack, { ...CNN_TINY, imageSize: 224, fixedInput: 224 }, 5);
  lib = testLibrary();
  mkdirSync(lib.photos, { recursive: true });
  const shapes: [string, string, number, number][] = [
    ['wide.jpg', 'scenes/kde-path.jpg', 900, 400], ['tall.jpg', 'objects/darknet-person.jpg', 300, 800],
    ['square.jpg', 'objects/skimage-coffee.png', 500, 500], ['other.jpg', 'scenes/kde-kite.jpg', 640, 427],
  ];
  for (const [i, [name, photo, w, h]] of shapes.entries()) writeFileSync(join(lib.photos, name), await sharp(await realOrGenerated(photo, i, w, h)).jpeg({ quality: 92 }).toBuffer());
  // The wide photo again, recompressed: the one near-duplicate.
  await sharp(join(lib.photos, 'wide.jpg')).jpeg({ quality: 55 }).toFile(join(lib.photos, 'wide-again.jpg'));
  await lib.engine.importModel(pack, { name: 'zoo-cnn' });
  await indexPhotos(lib);
}, 120_000);

afterAll(async () => {
  await lib?.close();
  t.cleanup();
});

describe('a CNN pack with a fixed input size', () => {
  it('is found fixed at import, and the model list says that region search is coarser with it', async () => {
    const info = (await lib.engine.listModels()).find((m) => m.name === 'zoo-cnn')!;
    expect(info).toMatchObject({ installed: true, kind: 'cnn', problem: null });
    expect(info.note).toMatch(/input is fixed at 224×224: pictures are letterboxed.*region search is coarser/);
    const { cli } = libraryCli(join(lib.root, 'library'));
    expect(await cli('models', 'list')).toMatch(/zoo-cnn[\s\S]*Note: its input is fixed at 224×224/);
  });

  it('embeds pictures of every shape, and finds the same picture first', async () => {
    const status = await lib.engine.status();
    expect(status.errors).toEqual([]);
    const r = await lib.engine.search({ photo: { id: lib.row(join(lib.photos, 'wide.jpg'))!.id }, mode: 'same', limit: 10 });
    expect(r.hits.map((h) => file(h.photo.path))[0]).toBe('wide-again.jpg');
    expect(r.hits).toHaveLength(4);
  });

  it('boxes region hits on the picture, not on its padding', async () => {
    const r = await lib.engine.search({ region: { photoId: lib.row(join(lib.photos, 'tall.jpg'))!.id, box: { x: 0.2, y: 0.2, w: 0.6, h: 0.5 } }, limit: 10 });
    expect(r.hits.length).toBeGreaterThan(0);
    for (const h of r.hits) {
      expect(h.box).not.toBeNull();
      const b = h.box!;
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.y).toBeGreaterThanOrEqual(0);
      expect(b.x + b.w).toBeLessThanOrEqual(1 + 1e-9);
      expect(b.y + b.h).toBeLessThanOrEqual(1 + 1e-9);
    }
  });
});

describe('letterboxing', () => {
  it('fits a picture inside the fixed size, pads with the mean, and says where the picture is', async () => {
    const p = parsePreprocessorConfig({ do_resize: true, size: { shortest_edge: 224 }, do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] });
    const wide = await sharp({ create: { width: 400, height: 100, channels: 3, background: { r: 255, g: 255, b: 255 } } }).png().toBuffer();
    const x = await preprocessLetterboxed(wide, 224, 224, p);
    expect([x.width, x.height]).toEqual([224, 224]);
    expect(x.content).toEqual({ x: 0, y: 84 / 224, w: 1, h: 56 / 224 });
    // Padding reads as 0 once normalised; the white picture as 1.
    expect(x.tensor[0]).toBeCloseTo(0, 2);
    expect(x.tensor[112 * 224 + 112]).toBeCloseTo(1, 2);
  });

  it('keeps only the feature-map cells over the picture', () => {
    const map = { c: 2, h: 4, w: 4, data: Float32Array.from({ length: 32 }, (_, i) => i) };
    const cropped = cropMap(map, { x: 0, y: 0.25, w: 1, h: 0.5 });
    expect([cropped.c, cropped.h, cropped.w]).toEqual([2, 2, 4]);
    expect([...cropped.data]).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 20, 21, 22, 23, 24, 25, 26, 27]);
    expect(cropMap(map, { x: 0, y: 0, w: 1, h: 1 })).toBe(map);
  });
});
