/**
 * The Copydays protocol run through the real engine: the set is built (eval/datasets/copydays.ts),
 * indexed once, and every attacked picture is asked as a "same object" query (CNN space) in each
 * configuration — raw descriptors and PCA-whitened ones, each plain, with αQE, with diffusion and
 * with both; whitened and adapted to the library (embed/adaptation.ts: 'views', and 'codes' trained
 * with PQ codewords as targets); the default configuration again on IVF-PQ; and "similar" in a
 * CLIP space when a CLIP pack is given. The library is reopened between spaces, so each is what the
 * app would serve.
 *
 * Then the user's confirmations: for half of the originals (the "marked" objects) a few of their
 * attacked copies join the library and are marked as the same object as their original; the rest
 * of each marked original's attacks, and all attacks of the other half (held out), are asked before
 * and after the marks are learned.
 */
import { mkdir, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Device, SearchRequest } from '../main/contract/api.js';
import { Engine } from '../main/engine/engine.js';
import type { EngineOptions } from '../main/engine/options.js';

type WhitenOptions = NonNullable<EngineOptions['whiten']>;
import { ATTACK_FAMILIES, buildCopydays, type AttackFamily, type CopydaysQuery, type CopydaysSet } from './datasets/copydays.js';
import { DatasetError } from './datasets/types.js';
import { installModel, keyIn, linkOne, providersUsed, workFolder } from './harness.js';
import { averagePrecision, mean, percentile, positiveRanks, type Ranked } from './metrics.js';
import { rng } from '../main/util/random.js';

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
  /** Adaptations to compare with the plain whitening (default both). */
  readonly adapt?: readonly ('views' | 'codes')[];
  /** Attacked copies of each marked original that join the library as confirmed (default 3; 0 skips the phase). */
  readonly marks?: number;
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

/** The confirmations phase: mAP of the marked objects' other attacks and of the held-out objects, before and after. */
export interface ConfirmationsReport {
  readonly markedOriginals: number;
  readonly copiesPerOriginal: number;
  readonly markedPairs: number;
  readonly rows: readonly { readonly name: string; readonly queries: number; readonly before: number; readonly after: number }[];
  readonly seconds: number;
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
  readonly confirmations: ConfirmationsReport | null;
  /** Seconds each whitening (and adaptation) took to learn and apply, by column group. */
  readonly learning: readonly { readonly name: string; readonly seconds: number }[];
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
   * Hits in `ignore` (pictures marked the same as an original) are left out of the ranking.
   */
  async score(
    asks: readonly Ask[], queries: readonly CopydaysQuery[] = this.set.queries, ignore: ReadonlySet<string> = new Set(),
  ): Promise<number[][]> {
    const aps = asks.map((): number[] => []);
    const depth = Math.min(DEPTH, this.set.originals.length + this.set.distractors.length + ignore.size);
    for (const q of queries) {
      for (const [i, ask] of asks.entries()) {
        const { mode, expand, diffusion } = ask;
        const request: SearchRequest = { photo: { path: q.file }, mode, expand, diffusion, limit: depth };
        const t0 = performance.now();
        const res = await this.engine.search(request);
        this.latencies.push(performance.now() - t0);
        const ranking: Ranked[] = res.hits.filter((h) => !ignore.has(h.photo.path))
          .map((h) => ({ id: keyIn(this.set.library, h.photo.path), score: h.score }));
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

/**
 * Half the originals (seeded) get `copies` of their attacked pictures added to the library and
 * marked as the same object as them; their other attacks and the other half's are asked before and
 * after the marks are learned (the copies themselves are left out of the rankings).
 */
async function confirm(
  engine: Engine, set: CopydaysSet, dir: string, copies: number, seed: number, log: (line: string) => void,
): Promise<ConfirmationsReport> {
  const r = rng(seed + 7);
  const shuffled = <T>(items: readonly T[]): T[] => items.map((x) => ({ x, k: r() })).sort((a, b) => a.k - b.k).map((e) => e.x);
  const originals = shuffled(set.originals);
  const marked = new Set(originals.slice(0, Math.floor(originals.length / 2)));
  await mkdir(dir, { recursive: true });
  const copyOf = new Map<string, string[]>();
  const used = new Set<string>();
  for (const o of marked) {
    const own = shuffled(set.queries.filter((q) => q.original === o)).slice(0, copies);
    const paths: string[] = [];
    for (const [i, q] of own.entries()) {
      const to = join(dir, `${copyOf.size}-${i}-${basename(q.file)}`);
      await linkOne(q.file, to);
      paths.push(to);
      used.add(q.file);
    }
    copyOf.set(o, paths);
  }
  await engine.addFolder(dir);
  await engine.scan();
  await engine.index();
  const ids = new Map((await engine.search({ limit: 10_000 })).hits.map((h) => [h.photo.path, h.photo.id]));
  const ignore = new Set([...copyOf.values()].flat());
  const groups: { name: string; queries: CopydaysQuery[] }[] = [
    { name: 'marked objects (their other attacks)', queries: set.queries.filter((q) => marked.has(q.original) && !used.has(q.file)) },
    { name: 'held-out objects', queries: set.queries.filter((q) => !marked.has(q.original)) },
  ];
  const ask: Ask[] = [{ expand: true, diffusion: false, mode: 'same' }];
  const phase = new Phase(engine, set);
  const before = await Promise.all(groups.map(async (g) => mean((await phase.score(ask, g.queries, ignore))[0]!)));
  let pairs = 0;
  for (const [o, paths] of copyOf) {
    const members = [resolve(set.library, o), ...paths].map((p) => ids.get(p)).filter((id): id is number => id !== undefined);
    if (members.length > 1) pairs += (await engine.markSame(members)).photoIds.length - 1;
  }
  log(`  confirmations: ${marked.size} originals marked with ${copies} copies each; learning again…`);
  const t0 = performance.now();
  await engine.index();
  const seconds = (performance.now() - t0) / 1000;
  const after = await Promise.all(groups.map(async (g) => mean((await phase.score(ask, g.queries, ignore))[0]!)));
  return {
    markedOriginals: marked.size, copiesPerOriginal: copies, markedPairs: pairs, seconds,
    rows: groups.map((g, i) => ({ name: g.name, queries: g.queries.length, before: before[i]!, after: after[i]! })),
  };
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
    // Then adapted to the library on top of the whitening, each target in turn.
    const learning: { name: string; seconds: number }[] = [];
    const whitenWith = (adapt: 'none' | 'views' | 'codes'): WhitenOptions => ({ ...opts.whiten, minPictures: opts.whiten?.minPictures ?? 0, adapt });
    const whitened = async (name: string, adapt: 'none' | 'views' | 'codes', flatLimit: number, then: (e: Engine) => Promise<void>): Promise<void> => {
      const e = open(whitenWith(adapt), flatLimit);
      try {
        const t0 = performance.now();
        await e.index();
        learning.push({ name, seconds: (performance.now() - t0) / 1000 });
        await then(e);
      } finally {
        await e.close();
      }
    };
    await whitened('whitened', 'none', Number.POSITIVE_INFINITY, (e) => run(e, 'whitened', 'exact', RERANKINGS.map((r) => ({ ...r, mode: 'same' }))));
    const adapts = opts.adapt ?? ['views', 'codes'];
    for (const adapt of adapts) {
      const what = adapt === 'views' ? 'adapted' : `adapted (${adapt})`;
      await whitened(what, adapt, Number.POSITIVE_INFINITY, (e) => run(e, what, 'exact', RERANKINGS.slice(0, 2).map((r) => ({ ...r, mode: 'same' }))));
    }

    // 3. The app's default (whitened, adapted, αQE) on IVF-PQ, trained whatever the size.
    const appAdapt = adapts.includes('views') || adapts.length === 0 ? 'views' : adapts[0]!;
    await whitened('IVF-PQ', appAdapt, 0, async (e) => {
      const structure = (await e.inspect.indexAgreement('cnn', [], 1)).structure;
      await run(e, appAdapt === 'views' ? 'adapted' : `adapted (${appAdapt})`, structure, [{ ...RERANKINGS[1]!, mode: 'same' }]);
    });

    // 4. The user's confirmations.
    let confirmations: ConfirmationsReport | null = null;
    if ((opts.marks ?? 3) > 0 && set.originals.length >= 2) {
      engine = open(whitenWith(appAdapt), Number.POSITIVE_INFINITY);
      try {
        confirmations = await confirm(engine, set, join(work, 'marked'), opts.marks ?? 3, opts.seed ?? 1, log);
      } finally {
        await engine.close();
      }
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
      confirmations,
      learning,
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
  lines.push(`learning  ${r.learning.map((l) => `${l.name} ${l.seconds.toFixed(1)} s`).join(', ')} (index runs that learn the whitening and adaptation and apply them)`);
  const c = r.confirmations;
  if (c) {
    lines.push('', `confirmations: ${c.markedOriginals} originals each marked the same as ${c.copiesPerOriginal} of their attacked copies (${c.markedPairs} pairs), αQE mAP`);
    for (const row of c.rows) lines.push(`  ${row.name.padEnd(38)} n ${String(row.queries).padStart(4)}   before ${row.before.toFixed(3)}   after ${row.after.toFixed(3)}`);
    lines.push(`  learned again in ${c.seconds.toFixed(1)} s`);
  }
  return lines.join('\n');
}
