/**
 * Model packs on disk: import from a Hugging Face layout folder, install from a real HTTP server
 * on 127.0.0.1 that imitates the model hub (a connection dropped mid-file, corrupted bytes),
 * verification, damage detection and removal. The packs hold real ONNX models that are loaded
 * and run before a pack is accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EncoderCache } from '../../main/encoders/cache.js';
import { CatalogEntrySchema, CatalogSchema, loadCatalog, MANIFEST_FILE, type ClipCatalogEntry } from '../../main/models/manifest.js';
import { isPinned, pinEntry } from '../../main/models/pinning.js';
import { ChecksumError } from '../../main/models/download.js';
import { PackError, PackStore } from '../../main/models/packs.js';
import { CLIP_MEAN, CLIP_STD, CNN_TINY, VIT_TINY } from '../../models/synthetic.js';
import { tempDir } from '../helpers/fixtures.js';
import { commitOf, startHub, type Hub } from '../helpers/hub.js';
import { clipTokenizerJson, writeTinyPacks } from '../helpers/packs.js';
import { trialRun } from '../../main/encoders/trial.js';

const execFileAsync = promisify(execFile);
const t = tempDir();
let src: { clip: string; cnn: string };
let hub: Hub;
let changing: string;

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
const visible = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((n) => !n.startsWith('.')) : []);

beforeAll(async () => {
  src = writeTinyPacks(join(t.dir, 'src'));
  writeFileSync(join(src.clip, 'tokenizer.json'), clipTokenizerJson());
  changing = join(t.dir, 'changing');
  cpSync(src.clip, changing, { recursive: true });
  hub = await startHub({ 'acme/tiny-clip': src.clip, 'acme/tiny-cnn': src.cnn, 'acme/changing': changing });
  clipEntry = await pinEntry(hub.url, unpinnedEntry('hub-clip', 'acme/tiny-clip'));
});

afterAll(async () => {
  await hub?.close();
  t.cleanup();
});

/** As a catalog names a pack before it is pinned: a branch, and files without checksums. */
const unpinnedEntry = (name: string, repo: string): ClipCatalogEntry => CatalogEntrySchema.parse({
  name, kind: 'clip', title: 'Tiny CLIP from the hub', description: 'test', licence: 'MIT', repo, revision: 'main',
  preprocessor: 'preprocessor_config.json', tokenizer: 'tokenizer.json', vision: 'onnx/vision_model.onnx', text: 'onnx/text_model.onnx',
  files: [{ path: 'config.json' }, { path: 'preprocessor_config.json' }, { path: 'tokenizer.json' }, { path: 'onnx/vision_model.onnx' }, { path: 'onnx/text_model.onnx' }],
}) as ClipCatalogEntry;
let clipEntry: ClipCatalogEntry;

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
    if (clip.kind !== 'clip') throw new Error('not a CLIP pack');
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
    await expect(store.import(join(bad, 'tiny-clip-3'))).rejects.toThrow(/its preprocessing \(preprocessor_config.json/);
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

describe('pinning a catalog entry', () => {
  it('names the commit and the size and SHA-256 of every file, as the hub serves them', () => {
    expect(isPinned(unpinnedEntry('x', 'acme/tiny-clip'))).toBe(false);
    expect(isPinned(clipEntry)).toBe(true);
    expect(clipEntry.revision).toBe(commitOf(src.clip));
    for (const f of clipEntry.files) {
      expect(f.sha256, f.path).toBe(sha(join(src.clip, f.path)));
      expect(f.size, f.path).toBe(readFileSync(join(src.clip, f.path)).length);
    }
  });

  it('says which file the hub does not have, and when the hub cannot be reached', async () => {
    const missing: ClipCatalogEntry = { ...unpinnedEntry('missing', 'acme/tiny-clip'), files: [...clipEntry.files, { path: 'onnx/nope.onnx' }] };
    await expect(pinEntry(hub.url, missing)).rejects.toThrow(/has no file onnx\/nope.onnx/);
    await expect(pinEntry('http://127.0.0.1:9', unpinnedEntry('x', 'acme/tiny-clip'))).rejects.toThrow(/cannot reach the model hub/);
  });
});

describe('npm run pin-catalog', () => {
  it('pins the entries that are not pinned, keeps the ones that are, and writes the catalog', async () => {
    const file = join(t.dir, 'pin-me.json');
    writeFileSync(file, JSON.stringify({ format: 1, packs: [unpinnedEntry('loose', 'acme/tiny-clip'), { ...clipEntry, name: 'kept' }] }));
    // Not spawnSync: the hub answering it runs in this process.
    const r = await execFileAsync(process.execPath, ['--import', 'tsx', 'scripts/pin-catalog.ts', '--catalog', file, '--hub', hub.url], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`loose: acme/tiny-clip@${clipEntry.revision}, 5 files`);
    expect(r.stdout).toContain(`kept: pinned at acme/tiny-clip@${clipEntry.revision}, 5 files`);
    const written = CatalogSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    expect(written.packs.map(isPinned)).toEqual([true, true]);
    expect((written.packs[0] as ClipCatalogEntry).files).toEqual(clipEntry.files);
  });
});

describe('installing from the model hub', () => {
  it('refuses an entry that is not pinned, before fetching anything', async () => {
    const store = new PackStore(join(t.dir, 'hub-unpinned'), trialRun);
    hub.requests.length = 0;
    await expect(store.install(unpinnedEntry('loose', 'acme/tiny-clip'), { hubUrl: hub.url })).rejects.toThrow(/loose is not pinned in this catalog/);
    expect(hub.requests).toEqual([]);
    expect(store.has('loose')).toBe(false);
  });

  it('refuses an upstream file changed after pinning, even where the hub\'s own listing agrees with the new bytes', async () => {
    const store = new PackStore(join(t.dir, 'hub-changed'), trialRun);
    const pinned = await pinEntry(hub.url, unpinnedEntry('changed', 'acme/changing'));
    // The repository is rewritten under its pins: other weights, and a listing that vouches for them.
    const other = writeTinyPacks(join(t.dir, 'other'), 7);
    copyFileSync(join(other.clip, 'onnx', 'text_model.onnx'), join(changing, 'onnx', 'text_model.onnx'));
    await expect(store.install(pinned, { hubUrl: hub.url, retryDelayMs: 10 })).rejects.toThrow(/does not match|bytes/);
    expect(store.has('changed')).toBe(false);
    expect(visible(store.dir)).toEqual([]);
    // Pinned again (a deliberate, reviewed change to the catalog), the new bytes install.
    const repinned = await pinEntry(hub.url, unpinnedEntry('changed', 'acme/changing'));
    expect(repinned.revision).not.toBe(pinned.revision);
    await store.install(repinned, { hubUrl: hub.url, retryDelayMs: 10 });
    expect(readFileSync(join(store.get('changed').dir, 'onnx', 'text_model.onnx')).equals(readFileSync(join(other.clip, 'onnx', 'text_model.onnx')))).toBe(true);
  });

  it('resumes a connection dropped mid-file and installs byte-identical, verified files', async () => {
    const store = new PackStore(join(t.dir, 'hub-models'), trialRun);
    hub.requests.length = 0;
    hub.behaviour = { drop: { 'onnx/text_model.onnx': { afterBytes: 1_000_000, times: 1 } } };
    const progress: number[] = [];
    const m = await store.install(clipEntry, { hubUrl: hub.url, retryDelayMs: 10, onProgress: (p) => progress.push(p.done) });
    expect(m.source).toBe(`${hub.url}/acme/tiny-clip@${clipEntry.revision}`);
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
    // A small file.
    hub.behaviour = { corrupt: new Set(['config.json']) };
    await expect(store.install(clipEntry, { hubUrl: hub.url, retryDelayMs: 10 })).rejects.toThrow(ChecksumError);
    expect(visible(store.dir)).toEqual([]);
    // A large one (the last file: the ones before it are verified and kept).
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

  it('reports an unreachable hub and installs nothing', async () => {
    const store = new PackStore(join(t.dir, 'hub-missing'), trialRun);
    await expect(store.install(clipEntry, { hubUrl: 'http://127.0.0.1:9', retryDelayMs: 10 })).rejects.toThrow();
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
      if (c.kind === 'face') continue;
      const roles = c.kind === 'clip' ? [c.vision, c.text, c.tokenizer, c.preprocessor] : [c.model, c.preprocessor];
      for (const r of roles) expect(c.files.map((f) => f.path)).toContain(r);
    }
  });
});
