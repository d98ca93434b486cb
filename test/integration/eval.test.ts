/**
 * The evaluation harness end to end: generated datasets in every standard layout go through
 * `npm run eval` (the real engine, real tiny ONNX models) and the reports are checked.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvalReport } from '../../eval/harness.js';
import { Engine } from '../../main/engine/engine.js';
import { REPO } from '../helpers/cli.js';
import { writeCaptions, writeClasses, writeHolidays, writeOxford, writeRevisited, writeUkbench } from '../helpers/eval-datasets.js';
import { tempDir } from '../helpers/fixtures.js';
import { writeTinyPacks } from '../helpers/packs.js';

interface Run { code: number | null; stdout: string; stderr: string }

function npmEval(args: readonly string[]): Promise<Run> {
  const child = spawn('npm', ['run', '-s', 'eval', '--', ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

async function report(args: readonly string[]): Promise<EvalReport> {
  const r = await npmEval([...args, '--json', '--work', work]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as EvalReport;
}

function metric(r: EvalReport, name: string): { value: number; n: number } {
  const m = r.metrics.find((x) => x.name === name || x.name.startsWith(`${name} (`));
  if (!m) throw new Error(`no metric ${name} in ${r.metrics.map((x) => x.name).join(', ')}`);
  return m;
}

let root: string;
let cleanup: () => void;
let work: string;
let packs: { clip: string; cnn: string };
const hasNumpy = spawnSync('python3', ['-c', 'import numpy']).status === 0;

beforeAll(async () => {
  ({ dir: root, cleanup } = tempDir());
  work = join(root, 'work');
  mkdirSync(work);
  packs = writeTinyPacks(join(root, 'packs'));
  await Promise.all([
    writeHolidays(join(root, 'holidays')), writeUkbench(join(root, 'ukbench')), writeOxford(join(root, 'oxford')),
    writeRevisited(join(root, 'revisited'), hasNumpy), writeCaptions(join(root, 'captions')), writeClasses(join(root, 'classes')),
  ]);
}, 120_000);

afterAll(() => cleanup());

describe('npm run eval', () => {
  it('INRIA Holidays layout: mAP with the query left out, a damaged picture recorded, exact index, speed figures', async () => {
    const r = await report(['--dataset', 'holidays', '--dir', join(root, 'holidays'), '--model', packs.cnn]);
    expect(r.model.kind).toBe('cnn');
    expect(r.index.structure).toBe('exact (flat)');
    expect(r.indexing).toMatchObject({ pictures: 24, failed: 1 });
    expect(r.indexing.perSecond).toBeGreaterThan(0);
    const map = metric(r, 'mAP');
    expect(map.n).toBe(6);
    // Each scene's three other photos among 23 (the query left out): chance is about 0.2.
    expect(map.value).toBeGreaterThan(0.5);
    expect(map.value).toBeLessThanOrEqual(1);
    expect(r.indexRecall).toMatchObject({ k: 10, queries: 24 });
    expect(r.indexRecall.value).toBeGreaterThan(0.95);
    expect(r.latency.queries).toBe(6);
    expect(r.latency.p50).toBeGreaterThan(0);
    expect(r.latency.p99).toBeGreaterThanOrEqual(r.latency.p50);
    // The throw-away library is gone; the dataset was linked, never changed.
    expect(readdirSync(work)).toEqual([]);
  });

  it('--index ivfpq trains IVF-PQ on the same set and scores as exact search does; --model by name from a library', async () => {
    const library = join(root, 'library');
    const engine = Engine.open({ libraryDir: library });
    await engine.importModel(packs.clip, { name: 'tiny-clip' });
    await engine.close();
    const args = ['--dataset', 'holidays', '--dir', join(root, 'holidays'), '--model', 'tiny-clip', '--library', library];
    const exact = await report([...args, '--index', 'exact']);
    const ivf = await report([...args, '--index', 'ivfpq']);
    expect(exact.index.structure).toBe('exact (flat)');
    expect(ivf.index.structure).toMatch(/^IVF-PQ \(nlist \d+/);
    expect(exact.model).toMatchObject({ name: 'tiny-clip', kind: 'clip' });
    expect(exact.indexRecall.value).toBe(1);
    expect(ivf.indexRecall.value).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(metric(ivf, 'mAP').value - metric(exact, 'mAP').value)).toBeLessThan(0.05);
  });

  it('UKBench layout: N-S score counts the query and its group in the top 4', async () => {
    const r = await report(['--dataset', 'ukbench', '--dir', join(root, 'ukbench'), '--model', packs.cnn]);
    const ns = metric(r, 'N-S score');
    expect(ns.n).toBe(24);
    // 1 (itself) + three of the group in the next three: chance is about 1.4.
    expect(ns.value).toBeGreaterThan(1.5);
    expect(ns.value).toBeLessThanOrEqual(4);
  });

  it('Oxford layout: query cropped from its box, good+ok relevant, junk ignored', async () => {
    const r = await report(['--dataset', 'oxford', '--dir', join(root, 'oxford', 'jpg'), '--gt', join(root, 'oxford', 'gt'), '--model', packs.cnn]);
    expect(r.dataset).toMatch(/30 pictures, 6 queries/);
    expect(r.latency.what).toMatch(/crop/);
    expect(metric(r, 'mAP').value).toBeGreaterThan(0.7);
    expect(r.missing).toBe(0);
  });

  it(`revisited layout (gnd pickle${hasNumpy ? ' with NumPy arrays' : ''}): Easy / Medium / Hard mAP and mP@1/5/10`, async () => {
    const r = await report(['--dataset', 'roxford', '--dir', join(root, 'revisited'), '--model', packs.cnn]);
    expect(r.metrics.map((m) => m.name)).toEqual(['Easy', 'Medium', 'Hard'].flatMap((p) => [`mAP ${p}`, `mP@1 ${p}`, `mP@5 ${p}`, `mP@10 ${p}`]));
    for (const m of r.metrics) {
      expect(m.n).toBe(6);
      expect(m.value).toBeGreaterThanOrEqual(0);
      expect(m.value).toBeLessThanOrEqual(1);
    }
    expect(metric(r, 'mAP Medium').value).toBeGreaterThan(0.5);
    // The queries are not in the database: the index is checked with database pictures instead.
    expect(r.indexRecall.queries).toBe(24);
    expect(r.dataset).toMatch(/24 database pictures, 6 queries/);
  });

  it('caption layout: text→image and image→text Recall@1/5/10', async () => {
    const r = await report(['--dataset', 'flickr8k', '--dir', join(root, 'captions'), '--model', packs.clip]);
    const t2i = [1, 5, 10].map((k) => metric(r, `text→image R@${k}`));
    const i2t = [1, 5, 10].map((k) => metric(r, `image→text R@${k}`));
    for (const m of t2i) expect(m.n).toBe(24);
    for (const m of i2t) expect(m.n).toBe(12);
    for (const list of [t2i, i2t]) {
      expect(list[0]!.value).toBeLessThanOrEqual(list[1]!.value);
      expect(list[1]!.value).toBeLessThanOrEqual(list[2]!.value);
      expect(list[2]!.value).toBeLessThanOrEqual(1);
    }
    expect(r.latency.what).toMatch(/sentence/);
    expect(r.indexRecall.queries).toBe(24);
  });

  it('class folders: zero-shot top-1/top-5 and image→image Recall@1', async () => {
    const r = await report(['--dataset', 'classes', '--dir', join(root, 'classes'), '--model', packs.clip, '--taxonomy', 'birds']);
    const top1 = metric(r, 'zero-shot top-1');
    const top5 = metric(r, 'zero-shot top-5');
    expect(r.metrics[0]!.name).toMatch(/6 classes, birds templates/);
    expect(top1.n).toBe(18);
    expect(top5.value).toBeGreaterThanOrEqual(top1.value);
    const r1 = metric(r, 'image→image R@1');
    expect(r1.n).toBe(18);
    // Three photos of each of six scenes: the nearest other photo is of the same scene.
    expect(r1.value).toBeGreaterThan(0.8);
  });

  it('prints a table by default, and says clearly what is wrong with bad input', async () => {
    const table = await npmEval(['--dataset', 'classes', '--dir', join(root, 'classes'), '--model', packs.cnn, '--work', work, '--queries', '6']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/image→image R@1 \(same class\)\s+[01]\.\d{4}\s+6\n/);
    // Flat segments keep float16 vectors: near-ties at the tenth place may swap against float32.
    expect(table.stdout).toMatch(/index recall@10 vs exact\s+(1\.0000|0\.9\d{3}) {2}18\n/);
    expect(table.stdout).toMatch(/latency .* p50 [\d.]+ ms, p99 [\d.]+ ms over 6 queries/);

    const noPack = await npmEval(['--dataset', 'holidays', '--dir', join(root, 'holidays'), '--model', 'no-such-pack', '--library', join(root, 'library')]);
    expect(noPack.code).toBe(1);
    expect(noPack.stderr).toMatch(/no model pack no-such-pack installed/);
    const wrongLayout = await npmEval(['--dataset', 'holidays', '--dir', join(root, 'ukbench'), '--model', packs.cnn]);
    expect(wrongLayout.code).toBe(1);
    expect(wrongLayout.stderr).toMatch(/has no Holidays-style pictures/);
    const usage = await npmEval(['--dataset', 'nonsense', '--dir', root, '--model', packs.cnn]);
    expect(usage.code).toBe(2);
    expect(readdirSync(work)).toEqual([]);
  });
});
