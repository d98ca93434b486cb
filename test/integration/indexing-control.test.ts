/**
 * Pausing and resuming indexing, and choosing the device models run on, on a real library: real
 * photos, a real SQLite file, real ONNX models in workers.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { EngineEvent, IndexingState } from '../../main/contract/api.js';
import { DEVICES } from '../../main/contract/devices.js';
import { Engine } from '../../main/engine/engine.js';
import { deviceChoices } from '../../main/encoders/device.js';
import { tempDir, writeImage } from '../helpers/fixtures.js';
import { nextEvent, testLibrary, type TestLibrary } from '../helpers/library.js';
import { writeTinyPacks } from '../helpers/packs.js';

const src = tempDir();
let packs: { clip: string; cnn: string };
let lib: TestLibrary;

beforeAll(() => {
  packs = writeTinyPacks(src.dir, 3);
  return () => src.cleanup();
});

afterEach(async () => {
  await lib?.close();
});

const states = (l: TestLibrary): Record<string, number> =>
  Object.fromEntries((l.engine.internals.db.prepare('SELECT state, count(*) n FROM photos GROUP BY state').all() as { state: string; n: number }[]).map((r) => [r.state, r.n]));

/** n photos, one decoded at a time. */
async function library(n: number, opts: Parameters<typeof testLibrary>[0] = {}): Promise<TestLibrary> {
  const l = testLibrary({ concurrency: 1, ...opts });
  for (let i = 0; i < n; i++) await writeImage(join(l.photos, `p${String(i).padStart(2, '0')}.jpg`), { width: 900, height: 700, seed: i + 1 });
  await l.engine.importModel(packs.clip, { name: 'clip-a' });
  await l.engine.addFolder(l.photos);
  await l.engine.scan();
  return l;
}

describe('pause and resume', () => {
  it('stops the run under way, leaves the rest pending, refuses new runs while paused, and finishes everything after resume', async () => {
    lib = await library(24, { autoIndex: true });
    const seen: IndexingState[] = [];
    lib.engine.on((e: EngineEvent) => { if (e.type === 'indexing') seen.push(e.state); });
    let paused: Promise<IndexingState> | null = null;
    const run = lib.engine.index({
      // The third photo done pauses the run (one photo at a time: at most one more is under way).
      onProcessed: (done) => { if (done === 3 && !paused) paused = lib.engine.pauseIndexing(); },
    });
    const first = await run;
    expect(await paused).toEqual({ paused: true, running: true });
    expect(first.paused).toBe(true);
    expect(first.processed).toBeGreaterThanOrEqual(3);
    expect(first.processed).toBeLessThanOrEqual(4);
    const pending = states(lib)['pending'] ?? 0;
    expect(pending).toBeGreaterThan(0);
    expect(pending + (states(lib)['ok'] ?? 0)).toBe(24);
    expect((await lib.engine.status()).lastJob).toMatchObject({ state: 'interrupted', message: 'paused' });
    expect((await lib.engine.status()).indexing).toEqual({ paused: true, running: false });

    // While paused, a run (the watcher's, a CLI call) does nothing and says why.
    const idle = await lib.engine.index();
    expect(idle).toMatchObject({ processed: 0, paused: true });
    expect(states(lib)['pending']).toBe(pending);

    // The run resume starts: it is seen running, then not.
    let started = false;
    const finished = nextEvent(lib.engine, (e) => {
      if (e.type !== 'indexing') return false;
      if (e.state.running) started = true;
      return started && !e.state.running;
    });
    expect(await lib.engine.resumeIndexing()).toMatchObject({ paused: false });
    await finished;
    expect(states(lib)).toEqual({ ok: 24 });
    const vectors = lib.engine.internals.db.prepare(`SELECT count(DISTINCT content_id) n FROM vectors WHERE space = 'clip.clip-a'`).get() as { n: number };
    expect(vectors.n).toBe(24);
    expect(seen[0]).toEqual({ paused: false, running: true });
    expect(seen).toContainEqual({ paused: true, running: true });
    expect(seen).toContainEqual({ paused: false, running: false });
    expect(seen.at(-1)).toEqual({ paused: false, running: false });
  });

  it('pausing during embedding stops it too; what was embedded stays', async () => {
    lib = await library(10);
    let paused = false;
    const summary = await lib.engine.index({
      batchSize: 2,
      onEmbedProgress: (p) => { if (p.done >= 2 && !paused) { paused = true; void lib.engine.pauseIndexing(); } },
    });
    expect(summary.paused).toBe(true);
    expect(states(lib)).toEqual({ ok: 10 });
    const n = (lib.engine.internals.db.prepare(`SELECT count(DISTINCT content_id) n FROM vectors WHERE space = 'clip.clip-a'`).get() as { n: number }).n;
    expect(n).toBeGreaterThanOrEqual(2);
    expect(n).toBeLessThan(10);
    await lib.engine.resumeIndexing();
    // Without autoIndex the engine does not start runs by itself; an explicit run finishes the work.
    const rest = await lib.engine.index();
    expect(rest.paused).toBeUndefined();
    expect((lib.engine.internals.db.prepare(`SELECT count(DISTINCT content_id) n FROM vectors WHERE space = 'clip.clip-a'`).get() as { n: number }).n).toBe(10);
  });
});

describe('runs asked for at once', () => {
  it('run one after the other, never side by side', async () => {
    lib = await library(6);
    const runs = await Promise.all([lib.engine.index(), lib.engine.index(), lib.engine.index()]);
    expect(runs.reduce((n, r) => n + r.ok, 0)).toBe(6);
    const jobs = lib.engine.internals.db.prepare(`SELECT state, message, started_at, finished_at FROM jobs WHERE kind = 'index' ORDER BY id`)
      .all() as { state: string; message: string | null; started_at: number; finished_at: number }[];
    expect(jobs).toHaveLength(3);
    // Side by side, a later run would have found the earlier one running and marked it superseded.
    expect(jobs.map((j) => j.state)).toEqual(['done', 'done', 'done']);
    for (let i = 1; i < jobs.length; i++) expect(jobs[i]!.started_at).toBeGreaterThanOrEqual(jobs[i - 1]!.finished_at);
  });
});

describe('device', () => {
  it('reports the choices, what each loaded model actually runs on and why; a saved choice reloads the models and survives a restart', async () => {
    lib = await library(3);
    await lib.engine.index();
    const before = await lib.engine.device();
    expect(before.requested).toBe('auto');
    expect(before.choices).toEqual(deviceChoices(process.platform));
    expect(before.choices.slice(0, 2)).toEqual(['auto', 'cpu']);
    await lib.engine.search({ text: 'a dog' });
    const loaded = await lib.engine.device();
    // CLIP's two models, and PP-OCR's three, which read the photos' text while indexing: on the same device.
    expect(loaded.used.map((u) => `${u.pack}/${u.model}`).sort()).toEqual(['clip-a/text', 'clip-a/vision', 'ppocr-v4/cls', 'ppocr-v4/det', 'ppocr-v4/rec']);
    const cuda = ort.listSupportedBackends().some((b) => b.name === 'cuda' && b.bundled);
    for (const u of loaded.used) expect(u).toMatchObject({ provider: cuda ? 'cuda' : 'cpu' });
    if (!cuda) expect(loaded.notes.join('\n')).toMatch(/cuda is not available .*falling back to cpu/);

    const chosen = await lib.engine.setDevice('cpu');
    expect(chosen).toMatchObject({ requested: 'cpu', used: [] });
    const hits = (await lib.engine.search({ text: 'a dog' })).hits.length;
    expect(hits).toBe(3);
    const after = await lib.engine.device();
    expect(after.used.every((u) => u.provider === 'cpu')).toBe(true);
    expect(after.notes).toEqual([]);
    const elsewhere = DEVICES.find((d) => !after.choices.includes(d))!;
    await expect(lib.engine.setDevice(elsewhere)).rejects.toThrow(new RegExp(`${elsewhere} is not a device on this computer`));

    const dir = lib.engine.libraryDir;
    await lib.engine.close();
    const reopened = Engine.open({ libraryDir: dir });
    try {
      expect((await reopened.device()).requested).toBe('cpu');
    } finally {
      await reopened.close();
    }
    const root = lib.root;
    lib = { ...lib, close: async () => rmSync(root, { recursive: true, force: true }) };
    const explicit = Engine.open({ libraryDir: dir, device: 'auto' });
    try {
      expect((await explicit.device()).requested).toBe('auto');
    } finally {
      await explicit.close();
    }
  });
});
