/**
 * The Copydays protocol run through the real engine: the set is built (eval/datasets/copydays.ts),
 * indexed once, and every attacked picture is asked as a "same object" query (CNN space) in each
 * configuration — raw descriptors and PCA-whitened ones, each plain, with αQE, with diffusion and
 * with both; the default configuration again on IVF-PQ; and "similar" in a CLIP space when a CLIP
 * pack is given. The library is reopened between spaces, so each is what the app would serve.
 */
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Device, SearchRequest } from '../main/contract/api.js';
import { Engine } from '../main/engine/engine.js';
import type { EngineOptions } from '../main/engine/options.js';

type WhitenOptions = NonNullable<EngineOptions['whiten']>;
import { ATTACK_FAMILIES, buildCopydays, type AttackFamily, type CopydaysQuery, type CopydaysSet } from './datasets/copydays.js';
import { DatasetError } from './datasets/types.js';
import { installModel, keyIn, linkOne, providersUsed, workFolder } from './harness.js';
import { averagePrecision, mean, percentile, positiveRanks, type Ranked } from './metrics.js';

export interface CopydaysEvalOptions {
  readonly dir: string;
  /** The CNN pack ("same object"): installed name or folder. */
  readonly model: string;
  /** A CLIP pack for the "similar" column, when one is at hand. */
  readonly clip?: string;
  readonly library?: string;
  readonly work?: string;
  readonly keep?: boolean;
  readonly device?: Device;
  readonly threads?: number;
  readonly distractors?: number;
  readonly seed?: number;
  readonly families?: readonly AttackFamily[];
  readonly maxOriginals?: number;
  /** Whitening of the "whitened" columns (default: learned from the library however small, the rest as the app). */
  readonly whiten?: WhitenOptions;
  readonly log?: (line: string) => void;
}

/** One column of the table: a space and a re-ranking, on an index. */
export interface CopydaysColumn {
  readonly name: string;
  readonly space: string;
  readonly expand: boolean;
  readonly diffusion: boolean;
  readonly index: string;
}

export interface CopydaysRow {
  readonly family: AttackFamily | 'all';
  readonly queries: number;
  /** mAP per column (the one relevant picture: 1/rank, 0 when not found). */
  readonly map: readonly number[];
  /** Share of queries whose original came first, per column. */
  readonly first: readonly number[];
}

export interface CopydaysReport {
  readonly dataset: string;
  readonly model: string;
  readonly pictures: number;
  readonly columns: readonly CopydaysColumn[];
  readonly rows: readonly CopydaysRow[];
  readonly indexing: { readonly pictures: number; readonly failed: number; readonly seconds: number };
  readonly latency: { readonly p50: number; readonly p99: number; readonly queries: number };
  readonly device: string;
}

interface Ask { readonly expand: boolean; readonly diffusion: boolean; readonly mode: 'same' | 'similar' }

const RERANKINGS: readonly { readonly label: string; readonly expand: boolean; readonly diffusion: boolean }[] = [
  { label: 'plain', expand: false, diffusion: false },
  { label: 'αQE', expand: true, diffusion: false },
  { label: 'diffusion', expand: false, diffusion: true },
  { label: 'αQE+diff', expand: true, diffusion: true },
];

/** Results per query: as deep as the database, so a missed original costs its true rank. */
const DEPTH = 10_000;

class Phase {
  readonly latencies: number[] = [];

  constructor(private readonly engine: Engine, private readonly set: CopydaysSet) {}

  /**
   * Per way of asking, per query, the AP of its original (1/rank). Each query is asked every way
   * in turn, so its picture is described once (the engine keeps the last few example pictures).
   */
  async score(asks: readonly Ask[]): Promise<number[][]> {
    const aps = asks.map((): number[] => []);
    const depth = Math.min(DEPTH, this.set.originals.length + this.set.distractors.length);
    for (const q of this.set.queries) {
      for (const [i, ask] of asks.entries()) {
        const { mode, expand, diffusion } = ask;
        const request: SearchRequest = { photo: { path: q.file }, mode, expand, diffusion, limit: depth };
        const t0 = performance.now();
        const res = await this.engine.search(request);
        this.latencies.push(performance.now() - t0);
        const ranking: Ranked[] = res.hits.map((h) => ({ id: keyIn(this.set.library, h.photo.path), score: h.score }));
        aps[i]!.push(averagePrecision(positiveRanks(ranking, new Set([q.original])), 1));
      }
    }
    return aps;
  }
}

function rows(queries: readonly CopydaysQuery[], columns: readonly number[][]): CopydaysRow[] {
  const families: (AttackFamily | 'all')[] = [...ATTACK_FAMILIES.filter((f) => queries.some((q) => q.family === f)), 'all'];
  return families.map((family) => {
    const pick = queries.map((q, i) => (family === 'all' || q.family === family ? i : -1)).filter((i) => i >= 0);
    return {
      family,
      queries: pick.length,
      map: columns.map((aps) => mean(pick.map((i) => aps[i]!))),
      first: columns.map((aps) => mean(pick.map((i) => (aps[i] === 1 ? 1 : 0)))),
    };
  });
}

export async function evaluateCopydays(opts: CopydaysEvalOptions): Promise<CopydaysReport> {
  const log = opts.log ?? ((): void => {});
  const work = await workFolder(opts.work, 'loupe-copydays-');
  const libraryDir = join(work, 'loupe');
  const open = (whiten: WhitenOptions, flatLimit: number): Engine =>
    Engine.open({ libraryDir, device: opts.device, threads: opts.threads, whiten, flatLimit });
  const never: WhitenOptions = { minPictures: Number.POSITIVE_INFINITY };
  try {
    log('building the Copydays set (attacks and distractors)…');
    const set = await buildCopydays(resolve(opts.dir), join(work, 'set'), linkOne, {
      distractors: opts.distractors, seed: opts.seed, families: opts.families, maxOriginals: opts.maxOriginals,
    }, log);
    log(set.title);
    const columns: CopydaysColumn[] = [];
    const scores: number[][] = [];
    const latencies: number[] = [];
    const run = async (engine: Engine, what: string, index: string, asks: readonly (Ask & { label: string })[]): Promise<void> => {
      const phase = new Phase(engine, set);
      const space = engine.servingSpace(asks[0]!.mode === 'same' ? 'cnn' : 'clip')?.space ?? '?';
      log(`  ${what} (${asks.map((a) => a.label).join(', ')}), ${index}…`);
      scores.push(...await phase.score(asks));
      for (const a of asks) columns.push({ name: `${what} ${a.label}${index === 'exact' ? '' : ` ${index}`}`, space, expand: a.expand, diffusion: a.diffusion, index });
      latencies.push(...phase.latencies);
    };

    // 1. Index once, raw descriptors, exact search.
    let engine = open(never, Number.POSITIVE_INFINITY);
    let indexing: CopydaysReport['indexing'];
    let device = 'cpu';
    let modelName: string;
    try {
      const kind = await installModel(engine, opts.model, opts.library);
      if (kind !== 'cnn') throw new DatasetError(`${opts.model} is a ${kind} pack: give the CNN pack with --model and a CLIP pack with --clip`);
      if (opts.clip) {
        const clipKind = await installModel(engine, opts.clip, opts.library);
        if (clipKind !== 'clip') throw new DatasetError(`${opts.clip} is not a CLIP pack`);
      }
      await engine.addFolder(set.library);
      log('indexing…');
      const t0 = performance.now();
      await engine.scan();
      const summary = await engine.index();
      indexing = { pictures: summary.ok, failed: summary.failed, seconds: (performance.now() - t0) / 1000 };
      modelName = engine.servingSpace('cnn')?.pack ?? opts.model;
      if (!engine.servingSpace('cnn')) throw new DatasetError(`no picture could be embedded with ${opts.model}`);
      device = await providersUsed(engine);
      await run(engine, 'raw', 'exact', RERANKINGS.map((r) => ({ ...r, mode: 'same' })));
      if (opts.clip) await run(engine, 'CLIP similar', 'exact', [{ label: 'plain', expand: false, diffusion: false, mode: 'similar' }]);
    } finally {
      await engine.close();
    }

    // 2. The same vectors PCA-whitened (learned from this library, however small); no model runs again.
    const whiten: WhitenOptions = { ...opts.whiten, minPictures: opts.whiten?.minPictures ?? 0 };
    engine = open(whiten, Number.POSITIVE_INFINITY);
    try {
      await engine.index();
      await run(engine, 'whitened', 'exact', RERANKINGS.map((r) => ({ ...r, mode: 'same' })));
    } finally {
      await engine.close();
    }

    // 3. The app's default re-ranking on IVF-PQ, trained whatever the size.
    engine = open(whiten, 0);
    try {
      await engine.index();
      const structure = (await engine.inspect.indexAgreement('cnn', [], 1)).structure;
      await run(engine, 'whitened', structure, [{ ...RERANKINGS[1]!, mode: 'same' }]);
    } finally {
      await engine.close();
    }
    return {
      dataset: set.title,
      model: modelName,
      pictures: set.originals.length + set.distractors.length,
      columns,
      rows: rows(set.queries, scores),
      indexing,
      latency: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), queries: latencies.length },
      device,
    };
  } finally {
    if (opts.keep) log(`kept the set and library at ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

export function formatCopydays(r: CopydaysReport): string {
  const lines = [`dataset   ${r.dataset}`, `model     ${r.model} on ${r.device}`, ''];
  lines.push('mAP (the original is the one relevant picture; "first" = share of queries ranking it first)');
  const head = ['family', 'n', ...r.columns.map((c) => c.name)];
  const body = r.rows.map((row) => [row.family, String(row.queries), ...row.map.map((v, i) => `${v.toFixed(3)} (${row.first[i]!.toFixed(2)})`)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  for (const cells of [head, ...body]) lines.push(cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  lines.push('');
  for (const c of r.columns) lines.push(`  ${c.name}: space ${c.space}, ${c.index}`);
  lines.push('');
  lines.push(`indexing  ${r.indexing.pictures} pictures${r.indexing.failed ? ` (${r.indexing.failed} failed)` : ''} in ${r.indexing.seconds.toFixed(1)} s`);
  lines.push(`latency   attacked picture → whole ranking: p50 ${r.latency.p50.toFixed(1)} ms, p99 ${r.latency.p99.toFixed(1)} ms over ${r.latency.queries} searches`);
  return lines.join('\n');
}
