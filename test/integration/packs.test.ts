/**
 * Model packs on disk: import from a Hugging Face layout folder, install from a real HTTP server
 * on 127.0.0.1 that imitates the model hub (a connection dropped mid-file, corrupted bytes),
 * verification, damage detection and removal. The packs hold real ONNX models that are loaded
 * and run before a pack is accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EncoderCache } from '../../main/encoders/cache.js';
import { CatalogEntrySchema, loadCatalog, MANIFEST_FILE } from '../../main/models/manifest.js';
import { ChecksumError } from '../../main/models/download.js';
import { PackError, PackStore } from '../../main/models/packs.js';
import { CLIP_MEAN, CLIP_STD, CNN_TINY, VIT_TINY } from '../../models/synthetic.js';
import { tempDir } from '../helpers/fixtures.js';
import { startHub, tokenizerJson, type Hub } from '../helpers/hub.js';
import { writeTinyPacks } from '../helpers/packs.js';
import { trialRun } from '../../main/encoders/trial.js';

const t = tempDir();
let src: { clip: string; cnn: string };
let hub: Hub;

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
const visible = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((n) => !n.startsWith('.')) : []);

beforeAll(async () => {
  src = writeTinyPacks(join(t.dir, 'src'));
  writeFileSync(join(src.clip, 'tokenizer.json'), tokenizerJson(join(src.clip, 'merges.txt')));
  hub = await startHub({ 'acme/tiny-clip': src.clip, 'acme/tiny-cnn': src.cnn });
});

afterAll(async () => {
  await hub?.close();
  t.cleanup();
});

const clipEntry = CatalogEntrySchema.parse({
  name: 'hub-clip', kind: 'clip', title: 'Tiny CLIP from the hub', description: 'test', licence: 'MIT', repo: 'acme/tiny-clip', revision: 'main',
  preprocessor: 'preprocessor_config.json', tokenizer: 'tokenizer.json', vision: 'onnx/vision_model.onnx', text: 'onnx/text_model.onnx',
  files: [{ path: 'config.json' }, { path: 'preprocessor_config.json' }, { path: 'tokenizer.json' }, { path: 'onnx/vision_model.onnx' }, { path: 'onnx/text_model.onnx' }],
});

describe('importing a local folder', () => {
  it('hashes every file, reads preprocessing and finds the embedding size by running the models', async () => {
    const store = new PackStore(join(t.dir, 'import-models'), trialRun);
    const clip = await store.import(src.clip);
    const cnn = await store.import(src.cnn, { name: 'my-cnn', licence: 'CC0' });
    expect(clip.kind).toBe('clip');
    expect(cnn.kind).toBe('cnn');
    expect(clip.name).toBe('tiny-clip-1');
    expect(clip.embeddingDim).toBe(VIT_TINY.embedDim);
    expect(cnn.embeddingDim).toBe(CNN_TINY.channels.at(-1));
    expect(clip.inputSize).toBe(VIT_TINY.imageSize);
    expect(clip.mean).toEqual(CLIP_MEAN);
    expect(clip.std).toEqual(CLIP_STD);
    expect(cnn.licence).toBe('CC0');
    for (const f of clip.files) {
      expect(f.sha256).toBe(sha(join(src.clip, f.path)));
      expect(f.size).toBe(readFileSync(join(src.clip, f.path)).length);
    }
    expect(store.list().map((p) => [p.name, p.problem])).toEqual([['my-cnn', null], ['tiny-clip-1', null]]);
    expect((await store.verify()).every((r) => r.ok)).toBe(true);
    await expect(store.import(src.clip)).rejects.toThrow(/already installed/);
  });

  it('refuses a folder that is not a pack, leaving nothing behind', async () => {
    const store = new PackStore(join(t.dir, 'bad-import'), trialRun);
    const bad = join(t.dir, 'not-a-pack');
    writeTinyPacks(bad, 3);
    rmSync(join(bad, 'tiny-clip-3', 'preprocessor_config.json'));
    await expect(store.import(join(bad, 'tiny-clip-3'))).rejects.toThrow(/no preprocessor_config.json/);
    // A model that does not load is refused by the smoke run.
    writeFileSync(join(bad, 'tiny-cnn-3', 'onnx', 'model.onnx'), 'not a model');
    await expect(store.import(join(bad, 'tiny-cnn-3'))).rejects.toThrow(PackError);
    expect(visible(store.dir)).toEqual([]);
  });
});

describe('damage', () => {
  it('verify reports changed and truncated files; a damaged pack is never loaded', async () => {
    const store = new PackStore(join(t.dir, 'damage-models'), trialRun);
    await store.import(src.clip, { name: 'c' });
    const dir = store.get('c').dir;
    const vision = join(dir, 'onnx', 'vision_model.onnx');
    const bytes = readFileSync(vision);
    bytes[100] = bytes[100]! ^ 1;
    writeFileSync(vision, bytes);
    let [report] = await store.verify('c');
    expect(report!.ok).toBe(false);
    expect(report!.problems).toEqual([{ path: 'onnx/vision_model.onnx', problem: expect.stringMatching(/^SHA-256 [0-9a-f]{64}, manifest says/) }]);
    truncateSync(join(dir, 'onnx', 'text_model.onnx'), 1000);
    [report] = await store.verify('c');
    expect(report!.problems.map((p) => p.path).sort()).toEqual(['onnx/text_model.onnx', 'onnx/vision_model.onnx']);
    const cache = new EncoderCache(store, { device: 'cpu' });
    expect(() => cache.clip('c')).toThrow(/damaged .*text_model.onnx: 1000 bytes/);
    await cache.close();
  });

  it('a broken manifest is reported, not loaded', async () => {
    const store = new PackStore(join(t.dir, 'manifest-models'), trialRun);
    await store.import(src.cnn, { name: 'n' });
    const m = join(store.get('n').dir, MANIFEST_FILE);
    writeFileSync(m, readFileSync(m, 'utf8').replace('"kind": "cnn"', '"kind": "rnn"'));
    expect(store.list()[0]!.problem).toMatch(/kind/);
    expect(() => store.get('n')).toThrow(/damaged/);
    writeFileSync(m, '{ not json');
    expect(store.list()[0]!.manifest).toBeNull();
    expect((await store.verify('n'))[0]!.ok).toBe(false);
  });
});

describe('installing from the model hub', () => {
  it('resumes a connection dropped mid-file and installs byte-identical, verified files', async () => {
    const store = new PackStore(join(t.dir, 'hub-models'), trialRun);
    hub.requests.length = 0;
    hub.behaviour = { drop: { 'onnx/text_model.onnx': { afterBytes: 1_000_000, times: 1 } } };
    const progress: number[] = [];
    const m = await store.install(clipEntry, { hubUrl: hub.url, retryDelayMs: 10, onProgress: (p) => progress.push(p.done) });
    expect(m.source).toBe(`${hub.url}/acme/tiny-clip@main`);
    for (const f of m.files) expect(readFileSync(join(store.get('hub-clip').dir, f.path)).equals(readFileSync(join(src.clip, f.path)))).toBe(true);
    const textRequests = hub.requests.filter((r) => r.path.endsWith('/onnx/text_model.onnx'));
    // Resumed from what had arrived when the connection dropped (at most the 1,000,000 bytes sent).
    expect(textRequests).toHaveLength(2);
    expect(textRequests[0]!.range).toBeUndefined();
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(textRequests[1]!.range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(1_000_000);
    expect(progress.length).toBeGreaterThan(0);
    expect(m.embeddingDim).toBe(VIT_TINY.embedDim);
    expect(existsSync(join(store.dir, '.incoming', 'hub-clip'))).toBe(false);
  });

  it('refuses a file whose checksum is wrong, installs nothing, and succeeds once the file is right', async () => {
    const store = new PackStore(join(t.dir, 'hub-corrupt'), trialRun);
    // A small file, checked against its git blob id.
    hub.behaviour = { corrupt: new Set(['config.json']) };
    await expect(store.install(clipEntry, { hubUrl: hub.url, retryDelayMs: 10 })).rejects.toThrow(ChecksumError);
    expect(visible(store.dir)).toEqual([]);
    // An LFS file, checked against its SHA-256 (the last file: the ones before it are verified and kept).
    hub.behaviour = { corrupt: new Set(['onnx/text_model.onnx']) };
    await expect(store.install(clipEntry, { hubUrl: hub.url, retryDelayMs: 10 })).rejects.toThrow(ChecksumError);
    expect(visible(store.dir)).toEqual([]);
    expect(store.has('hub-clip')).toBe(false);
    expect(existsSync(join(store.dir, '.incoming', 'hub-clip', 'onnx', 'text_model.onnx.part'))).toBe(false);
    hub.behaviour = {};
    hub.requests.length = 0;
    await store.install(clipEntry, { hubUrl: hub.url, retryDelayMs: 10 });
    expect(store.has('hub-clip')).toBe(true);
    // The vision model, verified in the failed attempt, was kept and not fetched again.
    expect(hub.requests.some((r) => r.path.endsWith('/onnx/vision_model.onnx'))).toBe(false);
    expect(hub.requests.some((r) => r.path.endsWith('/onnx/text_model.onnx'))).toBe(true);
    expect((await store.verify('hub-clip'))[0]!.ok).toBe(true);
  });

  it('reports a file the hub does not have, and an unreachable hub', async () => {
    const store = new PackStore(join(t.dir, 'hub-missing'), trialRun);
    const missing = CatalogEntrySchema.parse({ ...clipEntry, name: 'missing', files: [...clipEntry.files, { path: 'onnx/nope.onnx' }] });
    await expect(store.install(missing, { hubUrl: hub.url })).rejects.toThrow(/has no file onnx\/nope.onnx/);
    await expect(store.install(clipEntry, { hubUrl: 'http://127.0.0.1:9' })).rejects.toThrow(/cannot reach the model hub/);
    expect(visible(store.dir)).toEqual([]);
  });

  it('removes a pack atomically', async () => {
    const store = new PackStore(join(t.dir, 'hub-models'), trialRun);
    await store.remove('hub-clip');
    expect(visible(store.dir)).toEqual([]);
    await expect(store.remove('hub-clip')).rejects.toThrow(/not installed/);
  });
});

describe('the catalog', () => {
  it('lists the well-known packs with their hub repositories and roles', () => {
    const catalog = loadCatalog();
    const names = catalog.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['clip-vit-b32-q8', 'clip-vit-b32', 'clip-vit-b16-q8', 'clip-vit-b16', 'mobileclip-s0', 'resnet50']));
    for (const c of catalog) {
      const roles = c.kind === 'clip' ? [c.vision, c.text, c.tokenizer, c.preprocessor] : [c.model, c.preprocessor];
      for (const r of roles) expect(c.files.map((f) => f.path)).toContain(r);
    }
  });
});
