/**
 * Encoders on real ONNX models run by onnxruntime-node in a worker thread: the project's
 * deterministic CLIP ViT dual encoder and CNN (random weights, real graph structure), real
 * pictures made by sharp.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { ClipEncoder } from '../../main/encoders/clip.js';
import { CnnEncoder, describeMap } from '../../main/encoders/cnn.js';
import { providerOrder } from '../../main/encoders/device.js';
import { dot as dotAt } from '../../main/index/kernels.js';
import { preprocessInside } from '../../main/encoders/preprocess.js';
import type { ClipManifest, CnnManifest } from '../../main/models/manifest.js';
import { PackStore } from '../../main/models/packs.js';
import { graphOutputs, lastFeatureMap, withOutput } from '../../main/onnx/inspect.js';
import { cnnModel, CNN_TINY, vitTextModel, vitVisionModel, VIT_TINY } from '../../models/synthetic.js';
import { imageBuffer, tempDir } from '../helpers/fixtures.js';
import { writeTinyPacks } from '../helpers/packs.js';
import { trialRun } from '../../main/encoders/trial.js';

const t = tempDir();
let clip: ClipEncoder;
let cnn: CnnEncoder;
let clipDir = '';
let clipManifest: ClipManifest;

beforeAll(async () => {
  const src = writeTinyPacks(join(t.dir, 'src'));
  const store = new PackStore(join(t.dir, 'models'), trialRun);
  clipManifest = (await store.import(src.clip, { name: 'clip' })) as ClipManifest;
  const cnnManifest = (await store.import(src.cnn, { name: 'cnn' })) as CnnManifest;
  clipDir = store.get('clip').dir;
  clip = await ClipEncoder.load(clipDir, clipManifest, { device: 'cpu', threads: 1 });
  cnn = await CnnEncoder.load(store.get('cnn').dir, cnnManifest, { device: 'cpu', threads: 1 });
});

afterAll(async () => {
  await clip?.close();
  await cnn?.close();
  t.cleanup();
});

const dot = (a: Float32Array, b: Float32Array): number => dotAt(a, 0, b, 0, a.length);
const norm = (v: Float32Array): number => Math.sqrt(dot(v, v));

describe('synthetic models', () => {
  it('are byte-identical for a seed and differ across seeds', () => {
    expect(Buffer.from(vitVisionModel(VIT_TINY, 5)).equals(Buffer.from(vitVisionModel(VIT_TINY, 5)))).toBe(true);
    expect(Buffer.from(vitTextModel(VIT_TINY, 5)).equals(Buffer.from(vitTextModel(VIT_TINY, 6)))).toBe(false);
    expect(Buffer.from(cnnModel(CNN_TINY, 1)).equals(Buffer.from(cnnModel(CNN_TINY, 1)))).toBe(true);
  });

  it("expose a classifier's last convolutional map, which only the modified model returns", async () => {
    const model = cnnModel(CNN_TINY, 3);
    const name = lastFeatureMap(model);
    expect(graphOutputs(model)).toEqual(['logits']);
    const exposed = withOutput(model, name);
    expect(graphOutputs(exposed)).toEqual(['logits', name]);
    const s = await ort.InferenceSession.create(exposed);
    const r = await s.run({ pixel_values: new ort.Tensor('float32', new Float32Array(3 * 100 * 130).fill(0.3), [1, 3, 100, 130]) });
    // Four stride-2 convolutions with padding 1: each halves the size, rounding up.
    expect(r[name]!.dims).toEqual([1, CNN_TINY.channels.at(-1), 7, 9]);
    expect(Math.min(...(r[name]!.data as Float32Array))).toBeGreaterThanOrEqual(0);
    // The logits are unchanged by exposing the map.
    const plain = await (await ort.InferenceSession.create(model)).run({ pixel_values: new ort.Tensor('float32', new Float32Array(3 * 100 * 130).fill(0.3), [1, 3, 100, 130]) });
    expect(Array.from(r['logits']!.data as Float32Array)).toEqual(Array.from(plain['logits']!.data as Float32Array));
    expect(() => withOutput(model, 'no_such_tensor')).toThrow(/no tensor named/);
  });
});

describe('CLIP encoder', () => {
  it('embeds pictures to unit vectors, the same alone as in a batch', async () => {
    const pics = await Promise.all([1, 2, 3].map((seed) => imageBuffer({ width: 120, height: 90, seed })));
    const batch = await clip.embedImages(pics);
    expect(batch).toHaveLength(3);
    for (const v of batch) {
      expect(v.length).toBe(clipManifest.embeddingDim);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
    const alone = await clip.embedImages([pics[1]!]);
    for (let i = 0; i < alone[0]!.length; i++) expect(alone[0]![i]).toBeCloseTo(batch[1]![i]!, 5);
    expect(dot(batch[0]!, batch[2]!)).toBeLessThan(0.9999);
  });

  it('embeds sentences: deterministic, distinct, and blind to what follows the end token', async () => {
    const [a, b, a2] = await clip.embedTexts(['a photo of a cat', 'two kids building a sandcastle at sunset', 'a photo of a cat']);
    expect(norm(a!)).toBeCloseTo(1, 5);
    expect(Array.from(a!)).toEqual(Array.from(a2!));
    expect(dot(a!, b!)).toBeLessThan(0.999);
    // Causal attention + pooling at the end token: what follows the end token cannot matter, so
    // a sentence run alone (on its own length) equals the same sentence padded to 77 tokens in a
    // batch with a sentence that fills the context.
    const long = 'word '.repeat(200);
    const [short, truncated] = await clip.embedTexts(['a photo of a cat', long]);
    for (let i = 0; i < a!.length; i++) expect(short![i]).toBeCloseTo(a![i]!, 5);
    expect(truncated!.length).toBe(clipManifest.embeddingDim);
    const ids = clip.tokenizer.encode(long, 77);
    expect(ids.length).toBe(77);
    expect(ids[76]).toBe(49407);
  });

  it('falls back to the CPU with a logged reason when CUDA is requested, giving the same vectors', async () => {
    const log: string[] = [];
    const onCuda = await ClipEncoder.load(clipDir, clipManifest, { device: 'cuda', threads: 1, log: (m) => log.push(m) });
    try {
      const hasCuda = ort.listSupportedBackends().some((b) => b.name === 'cuda' && b.bundled);
      if (!hasCuda) {
        expect(onCuda.providers).toEqual({ vision: 'cpu', text: 'cpu' });
        expect(log.join('\n')).toMatch(/cuda is not available .*falling back to cpu/);
      }
      const pic = await imageBuffer({ width: 80, height: 80, seed: 9 });
      const [x] = await onCuda.embedImages([pic]);
      const [y] = await clip.embedImages([pic]);
      expect(dot(x!, y!)).toBeGreaterThan(0.9999);
    } finally {
      await onCuda.close();
    }
    expect(providerOrder('auto', 'darwin')).toEqual(['coreml', 'cpu']);
    expect(providerOrder('auto', 'win32')).toEqual(['cuda', 'dml', 'cpu']);
    expect(providerOrder('dml', 'linux')).toEqual(['dml', 'cpu']);
    expect(providerOrder('cpu')).toEqual(['cpu']);
  });
});

describe('CNN descriptors', () => {
  it('pools the last map into a global GeM vector and R-MAC regions whose boxes cover the picture', async () => {
    const d = await cnn.describe(await imageBuffer({ width: 400, height: 300, seed: 4 }));
    const c = CNN_TINY.channels.at(-1)!;
    expect(d.global.length).toBe(c);
    expect(norm(d.global)).toBeCloseTo(1, 5);
    expect(d.regions.length).toBeGreaterThan(5);
    for (const r of d.regions) {
      expect(norm(r.vector)).toBeCloseTo(1, 5);
      expect(r.box.x).toBeGreaterThanOrEqual(0);
      expect(r.box.y).toBeGreaterThanOrEqual(0);
      expect(r.box.x + r.box.w).toBeLessThanOrEqual(1 + 1e-9);
      expect(r.box.y + r.box.h).toBeLessThanOrEqual(1 + 1e-9);
    }
    // Every part of the picture lies in some region.
    for (const [px, py] of [[0.02, 0.02], [0.98, 0.02], [0.5, 0.5], [0.02, 0.98], [0.98, 0.98]] as const) {
      expect(d.regions.some((r) => px >= r.box.x && px <= r.box.x + r.box.w && py >= r.box.y && py <= r.box.y + r.box.h)).toBe(true);
    }
    // describeMap is the pure part: same map, same descriptors.
    const p = await cnn.pixels(await imageBuffer({ width: 400, height: 300, seed: 4 }));
    expect(Array.from(describeMap(await cnn.featureMap(p)).global)).toEqual(Array.from(d.global));
  });

  it('localises an object: the best-matching region of a scene is where the object was pasted', async () => {
    const object = await imageBuffer({ width: 256, height: 256, seed: 11 });
    const background = await imageBuffer({ width: 512, height: 512, seed: 2 });
    const scene = await sharp(background).composite([{ input: object, left: 256, top: 256 }]).png().toBuffer();
    const query = (await cnn.describe(await preprocessInside(object, 256, cnn.preprocessing))).global;
    const d = await cnn.describe(await preprocessInside(scene, 512, cnn.preprocessing));
    const best = [...d.regions].sort((a, b) => dot(b.vector, query) - dot(a.vector, query))[0]!;
    const cx = best.box.x + best.box.w / 2;
    const cy = best.box.y + best.box.h / 2;
    expect(cx).toBeGreaterThan(0.5);
    expect(cy).toBeGreaterThan(0.5);
    expect(dot(best.vector, query)).toBeGreaterThan(dot(d.global, query));
  });

  it('keeps the calling thread free while the worker computes', async () => {
    // Counted in turns of this thread's event loop, not in milliseconds (the figure is bench:encode's).
    const big = { tensor: new Float32Array(3 * 1024 * 1024).fill(0.1), width: 1024, height: 1024 };
    let turns = 0;
    let computing = true;
    const spin = async (): Promise<void> => {
      while (computing) {
        turns++;
        await new Promise((r) => setImmediate(r));
      }
    };
    const spinning = spin();
    const map = await cnn.featureMap(big);
    computing = false;
    await spinning;
    expect(map.c).toBeGreaterThan(0);
    // The loop kept turning the whole time the model ran: the work was on another thread.
    expect(turns).toBeGreaterThan(20);
  });
});

describe('tokenizer files in packs', () => {
  it('reads merges from a tokenizer.json as from merges.txt', async () => {
    const merges = readFileSync(join(clipDir, 'merges.txt'), 'utf8').split('\n').slice(1).filter(Boolean);
    const json = join(t.dir, 'tokenizer.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(json, JSON.stringify({ model: { type: 'BPE', merges: merges.map((m) => m.split(' ')) } }));
    const { ClipTokenizer } = await import('../../main/encoders/clip-tokenizer.js');
    const fromJson = ClipTokenizer.fromFile(json);
    const fromMerges = Array.from(fromJson.tokenize('a photo of a cat, 😀'));
    expect(fromMerges.slice(0, fromMerges.indexOf(49407) + 1)).toEqual(clip.tokenizer.encode('a photo of a cat, 😀', 77));
  });
});
