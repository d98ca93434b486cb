/**
 * Real pretrained packs from ../shared/models/<name>/ (Hugging Face ONNX layout), when present:
 * each is imported like a user's folder and run on CLIP.png, the CLIP architecture diagram. A
 * real CLIP must match it with "a diagram" better than with photo captions. Skipped, with the
 * reason printed, when there are no real packs.
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
  it.each(packs)('%s imports, loads and makes sense of CLIP.png', async (name) => {
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
      } finally {
        await enc.close();
      }
    }
  });
});
