/**
 * Real pretrained packs from ../shared/models/<name>/ (Hugging Face ONNX layout), when present:
 * each is imported like a user's folder and run on CLIP.png, the CLIP architecture diagram. A
 * real CLIP must match it with "a diagram" better than with photo captions; a real CNN must find,
 * for most of the shared real photos, the photo itself first from a recompressed crop of it.
 * Skipped, with the reason printed, when there are no real packs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClipEncoder } from '../../main/encoders/clip.js';
import { CnnEncoder } from '../../main/encoders/cnn.js';
import { dot } from '../../main/index/kernels.js';
import { PackStore } from '../../main/models/packs.js';
import { tempDir } from '../helpers/fixtures.js';
import { trialRun } from '../../main/encoders/trial.js';
import sharp from 'sharp';
import { listImages } from '../../eval/datasets/files.js';
import { HAVE_SHARED_PHOTOS, SHARED_PHOTOS } from '../helpers/shared.js';

const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));
const MODELS = join(SHARED, 'models');
const IMAGE = join(SHARED, 'data', 'clip', 'CLIP.png');
const packs = existsSync(MODELS) ? readdirSync(MODELS).filter((n) => statSync(join(MODELS, n)).isDirectory() && existsSync(join(MODELS, n, 'preprocessor_config.json'))) : [];
const reason = !existsSync(MODELS) ? `${MODELS} does not exist` : packs.length === 0 ? `${MODELS} holds no pack folder (with a preprocessor_config.json)` : !existsSync(IMAGE) ? `${IMAGE} is missing` : null;
if (reason) console.log(`[real packs] skipped: ${reason}. Put Hugging Face ONNX-layout packs there to run this test.`);

const t = tempDir();
afterAll(() => t.cleanup());

describe.skipIf(reason !== null)('real model packs', () => {
  const store = new PackStore(join(t.dir, 'models'), trialRun);
  it.each(packs)('%s imports, loads, makes sense of CLIP.png and, a CNN, finds real photos from crops of them', async (name) => {
    const m = await store.import(join(MODELS, name), { name: name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-') });
    const { dir } = store.get(m.name);
    if (m.kind === 'clip') {
      const enc = await ClipEncoder.load(dir, m, { device: 'auto' });
      try {
        const [img] = await enc.embedImages([IMAGE]);
        const texts = await enc.embedTexts(['a diagram', 'a photo of a dog', 'a photo of a beach at sunset']);
        const scores = texts.map((v) => dot(img!, 0, v, 0, v.length));
        expect(scores[0]).toBeGreaterThan(Math.max(scores[1]!, scores[2]!));
      } finally {
        await enc.close();
      }
    } else if (m.kind === 'cnn') {
      const enc = await CnnEncoder.load(dir, m, { device: 'auto' });
      try {
        const d = await enc.describe(IMAGE);
        expect(d.global.length).toBe(m.embeddingDim);
        expect(d.regions.length).toBeGreaterThan(3);
        if (HAVE_SHARED_PHOTOS) {
          // Each photo's global and regional descriptors, as the library stores them; the query is
          // the centre 60 % of the photo at JPEG quality 60, ranked by its best-matching vector.
          const photos = listImages(SHARED_PHOTOS);
          const library: Float32Array[][] = [];
          for (const key of photos) {
            const p = await enc.describe(join(SHARED_PHOTOS, key));
            library.push([p.global, ...p.regions.map((r) => r.vector)]);
          }
          let first = 0;
          for (const [i, key] of photos.entries()) {
            const file = join(SHARED_PHOTOS, key);
            const { width, height } = await sharp(file).metadata();
            const crop = await sharp(file).extract({ left: Math.round(width * 0.2), top: Math.round(height * 0.2), width: Math.round(width * 0.6), height: Math.round(height * 0.6) })
              .jpeg({ quality: 60 }).toBuffer();
            const q = (await enc.describe(crop)).global;
            const scores = library.map((vs) => Math.max(...vs.map((v) => dot(q, 0, v, 0, v.length))));
            if (scores.indexOf(Math.max(...scores)) === i) first++;
          }
          // Measured: 18 of 22 (MobileNetV2) and 15 of 22 (InceptionV3); chance is 1 in 22.
          expect(first / photos.length).toBeGreaterThan(0.6);
        }
      } finally {
        await enc.close();
      }
    }
  });
});
