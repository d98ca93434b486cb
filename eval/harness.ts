/**
 * Runs a dataset through the real engine in a throw-away library: the dataset's pictures are
 * linked into a folder, the model pack is installed, `index()` scans, decodes and embeds them
 * exactly as the app does, and every query goes through `search()`. Metrics come from the
 * rankings it returns; the index is also compared with an exact scan of the same vectors.
 */
import { link, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import type { Device, ModelKind, PackKind, SearchRequest } from '../main/contract/api.js';
import { Engine, type IndexAgreement } from '../main/engine/engine.js';
import { resolveLibraryDir } from '../main/util/paths.js';
import type { CaptionDataset, ClassDataset, Dataset, GroupDataset, ImageQuery, RankingDataset } from './datasets/types.js';
import { DatasetError } from './datasets/types.js';
import { evenSample } from './datasets/files.js';
import { classRank, dot, groupHits, hitAtK, mean, percentile, positiveRanks, precisionAtK, averagePrecision, type Ranked } from './metrics.js';

export type IndexChoice = 'auto' | 'exact' | 'ivfpq';

export interface EvalOptions {
  readonly dataset: Dataset;
  readonly dir: string;
  /** A pack installed in `library`, or a pack folder (installed layout or Hugging Face ONNX layout). */
  readonly model: string;
  /** The library whose installed packs `model` names (default: LOUPE_HOME or the app-data folder). */
  readonly library?: string;
  readonly index?: IndexChoice;
  /** Where the throw-away library goes (default: the system's temp folder). */
  readonly work?: string;
  readonly keep?: boolean;
  readonly device?: Device;
  readonly threads?: number;
  /** At most this many queries (a fixed, evenly spread sample), for a quick run on a large set. */
  readonly maxQueries?: number;
  /** Zero-shot prompt templates come from this taxonomy (default imagenet, CLIP's seven). */
  readonly taxonomy?: string;
  readonly expand?: boolean;
  readonly diffusion?: boolean;
  readonly log?: (line: string) => void;
}

export interface MetricRow {
  readonly name: string;
  readonly value: number;
  /** Queries (or pictures) it averages over. */
  readonly n: number;
}

export interface EvalReport {
  readonly dataset: string;
  readonly missing: number;
  readonly model: { readonly name: string; readonly kind: ModelKind; readonly space: string };
  readonly index: { readonly choice: IndexChoice; readonly structure: string };
  readonly metrics: readonly MetricRow[];
  readonly indexRecall: { readonly k: number; readonly value: number; readonly queries: number };
  readonly indexing: {
    readonly pictures: number;
    readonly failed: number;
    readonly seconds: number;
    readonly perSecond: number;
    readonly embedPerSecond: number;
  };
  readonly latency: { readonly p50: number; readonly p99: number; readonly queries: number; readonly what: string };
  readonly device: string;
}

/** Results asked per query for latency (a page of the grid) and for metrics that look at the top. */
const PAGE = 100;
/** Deepest ranking the engine gives in one request; mAP rankings go this deep (whole database up to it). */
const DEPTH = 10_000;
const RECALL_QUERIES = 200;
const RECALL_K = 10;
/** Photos read a page at a time when mapping the library to the dataset's keys. */
const BROWSE_PAGE = 10_000;

export async function evaluate(opts: EvalOptions): Promise<EvalReport> {
  const log = opts.log ?? ((): void => {});
  const work = await workFolder(opts.work, 'loupe-eval-');
  const choice = opts.index ?? 'auto';
  const engine = Engine.open({
    libraryDir: join(work, 'library'), device: opts.device, threads: opts.threads,
    flatLimit: choice === 'exact' ? Number.POSITIVE_INFINITY : choice === 'ivfpq' ? 0 : undefined,
  });
  try {
    const photos = join(work, 'photos');
    log(`linking ${opts.dataset.images.length} pictures into ${photos}`);
    await linkImages(opts.dir, opts.dataset.images, photos);
    const kind = await installModel(engine, opts.model, opts.library);
    await engine.addFolder(photos);
    log('indexing (thumbnails, metadata, embeddings)…');
    let embedMs = 0;
    const t0 = performance.now();
    await engine.scan();
    const summary = await engine.index({
      onEmbedded: (s) => {
        if (s.kind === kind) embedMs += s.ms;
      },
      onProgress: (p) => {
        if (p.done > 0 && p.done % 500 === 0) log(`  ${p.done}/${p.total} pictures`);
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    const space = engine.servingSpace(kind);
    if (!space) throw new DatasetError(`no picture could be embedded with ${opts.model} (see the indexing errors: loupe status --library ${join(work, 'library')} with --keep)`);
    const run = await Run.start(engine, opts, photos, kind);
    log(`running queries in ${space.space}…`);
    const metrics = await run.metrics();
    run.topUpRecallQueries();
    const agreement = await run.indexRecall();
    const device = await providersUsed(engine);
    return {
      dataset: opts.dataset.title,
      missing: opts.dataset.missing.length,
      model: { name: space.pack, kind, space: space.space },
      index: { choice, structure: agreement.structure },
      metrics,
      indexRecall: { k: RECALL_K, value: agreement.recall, queries: agreement.queries },
      indexing: {
        pictures: summary.ok,
        failed: summary.failed,
        seconds,
        perSecond: summary.ok / seconds,
        embedPerSecond: embedMs > 0 ? summary.ok / (embedMs / 1000) : NaN,
      },
      latency: {
        p50: percentile(run.latencies, 50),
        p99: percentile(run.latencies, 99),
        queries: run.latencies.length,
        what: run.latencyWhat,
      },
      device,
    };
  } finally {
    await engine.close();
    if (opts.keep) log(`kept the library at ${join(work, 'library')}`);
    else await rm(work, { recursive: true, force: true });
  }
}

/** A library photo's key in a dataset: its path inside the folder the dataset was linked into, '/'-separated. */
export function keyIn(folder: string, path: string): string {
  return relative(folder, path).split(sep).join('/');
}

/** A fresh throw-away folder under `work` (default: the system's temp folder). */
export async function workFolder(work: string | undefined, prefix: string): Promise<string> {
  const root = work ? resolve(work) : tmpdir();
  await mkdir(root, { recursive: true });
  return mkdtemp(join(root, prefix));
}

/** The execution providers the engine's models ran on ("cpu" when none is reported). */
export async function providersUsed(engine: Engine): Promise<string> {
  return [...new Set((await engine.device()).used.map((u) => u.provider))].join(', ') || 'cpu';
}

/** Hard links where the file system allows, else symbolic links: the dataset is never copied or touched. */
async function linkImages(dir: string, keys: readonly string[], dest: string): Promise<void> {
  for (const key of keys) {
    const from = join(dir, ...key.split('/'));
    const to = join(dest, ...key.split('/'));
    await mkdir(dirname(to), { recursive: true });
    await linkOne(from, to);
  }
}

/** A hard link where the file system allows, else a symbolic link. */
export async function linkOne(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch {
    await symlink(resolve(from), to);
  }
}

/** Copies the pack into the throw-away library (an installed one as it is; a plain folder is imported) and makes it active. */
export async function installModel(engine: Engine, model: string, library?: string, options: Parameters<Engine['importModel']>[1] = {}): Promise<ModelKind> {
  let dir = model;
  if (!existsSync(model)) {
    // Read only: the user's library is never opened (nor migrated) to find a pack in it.
    const found = Engine.installedPack(resolveLibraryDir(library), model);
    if (!found) throw new DatasetError(`no model pack ${model} installed in ${join(resolveLibraryDir(library), 'models')} (give a pack name from \`loupe models list\`, or a folder)`);
    dir = found;
  }
  if (!statSync(dir).isDirectory()) throw new DatasetError(`${dir} is not a model pack folder`);
  const info = await engine.importModel(dir, options);
  return kindOf(await engine.useModel(info.name));
}

function kindOf(info: { name: string; kind: PackKind | null; problem?: string | null }): ModelKind {
  if (!info.kind) throw new DatasetError(`model pack ${info.name} is damaged${info.problem ? `: ${info.problem}` : ''}`);
  if (info.kind === 'face') throw new DatasetError(`model pack ${info.name} is a face pack: the evaluation measures embedding packs (CLIP, CNN)`);
  return info.kind;
}

/** One evaluation's queries against an indexed library. */
class Run {
  readonly latencies: number[] = [];
  latencyWhat = '';
  private readonly keyOf = new Map<number, string>();
  private readonly idOf = new Map<string, number>();
  /** Query vectors the index is checked with, by what they are (a picture's key, a caption's number). */
  private readonly recallQueries = new Map<string, Float32Array>();

  private constructor(
    private readonly engine: Engine,
    private readonly opts: EvalOptions,
    private readonly kind: ModelKind,
  ) {}

  /** Maps every indexed photo to its key in the dataset (its path inside the dataset's folder). */
  static async start(engine: Engine, opts: EvalOptions, photos: string, kind: ModelKind): Promise<Run> {
    const run = new Run(engine, opts, kind);
    for (let offset = 0; ; offset += BROWSE_PAGE) {
      const { hits } = await engine.search({ sort: 'oldest', offset, limit: BROWSE_PAGE });
      for (const h of hits) {
        const key = keyIn(photos, h.photo.path);
        run.keyOf.set(h.photo.id, key);
        run.idOf.set(key, h.photo.id);
      }
      if (hits.length < BROWSE_PAGE) return run;
    }
  }

  private get mode(): 'similar' | 'same' {
    return this.kind === 'cnn' ? 'same' : 'similar';
  }

  /** A search, timed; hits as dataset keys with scores. */
  private async ranked(request: SearchRequest, time: boolean): Promise<Ranked[]> {
    const t0 = performance.now();
    const res = await this.engine.search({ expand: this.opts.expand, diffusion: this.opts.diffusion, ...request });
    if (time) this.latencies.push(performance.now() - t0);
    return res.hits.flatMap((h) => {
      const id = this.keyOf.get(h.photo.id);
      return id === undefined ? [] : [{ id, score: h.score }];
    });
  }

  /** The stored global vector (region 0) of a picture in the evaluated space. */
  private vectorOf(key: string): Float32Array | null {
    const id = this.idOf.get(key);
    return id === undefined ? null : this.engine.inspect.photoVector(id, this.kind);
  }

  async metrics(): Promise<MetricRow[]> {
    const d = this.opts.dataset;
    switch (d.kind) {
      case 'ranking': return this.rankingMetrics(d);
      case 'groups': return this.groupMetrics(d);
      case 'captions': return this.captionMetrics(d);
      case 'classes': return this.classMetrics(d);
    }
  }

  private async queryRequest(q: ImageQuery): Promise<SearchRequest> {
    const file = join(this.opts.dir, ...q.image.split('/'));
    if (!q.box) return { photo: { path: resolve(file) }, mode: this.mode };
    // The box is in the stored pixels (no EXIF turn), as the ground truth was drawn on them.
    const meta = await sharp(file).metadata();
    const [x1, y1, x2, y2] = q.box;
    const left = Math.max(0, Math.min(meta.width - 1, Math.round(x1)));
    const top = Math.max(0, Math.min(meta.height - 1, Math.round(y1)));
    const width = Math.max(1, Math.min(meta.width - left, Math.round(x2) - left));
    const height = Math.max(1, Math.min(meta.height - top, Math.round(y2) - top));
    const crop = await sharp(file).extract({ left, top, width, height }).png({ compressionLevel: 1 }).toBuffer();
    return { photo: { bytes: crop.toString('base64') }, mode: this.mode };
  }

  private async rankingMetrics(d: RankingDataset): Promise<MetricRow[]> {
    const database = new Set(d.images);
    const depth = Math.min(DEPTH, d.images.length);
    const queries = evenSample(d.queries, this.opts.maxQueries);
    this.latencyWhat = d.queries.some((q) => q.box) ? 'query crop → first page' : 'query picture → first page';
    const aps = new Map<string, number[]>(d.protocols.map((p) => [p, []]));
    const prs = new Map<string, number[][]>(d.protocols.map((p) => [p, d.precisionAt.map(() => [])]));
    for (const q of queries) {
      const request = await this.queryRequest(q);
      await this.ranked({ ...request, limit: PAGE }, true);
      const ranking = (await this.ranked({ ...request, limit: depth }, false)).filter(
        (r) => database.has(r.id) && !(d.excludeQuery && r.id === q.image),
      );
      for (const p of d.protocols) {
        const j = q.judgements[p]!;
        const ranks = positiveRanks(ranking, j.positives, j.junk);
        aps.get(p)!.push(averagePrecision(ranks, j.positives.size));
        d.precisionAt.forEach((k, i) => prs.get(p)![i]!.push(j.positives.size === 0 ? NaN : precisionAtK(ranks, k)));
      }
      this.addRecallQuery(q.image);
    }
    const rows: MetricRow[] = [];
    for (const p of d.protocols) {
      const label = p ? ` ${p}` : '';
      rows.push({ name: `mAP${label}`, value: mean(aps.get(p)!), n: aps.get(p)!.filter((v) => !Number.isNaN(v)).length });
      d.precisionAt.forEach((k, i) => rows.push({ name: `mP@${k}${label}`, value: mean(prs.get(p)![i]!), n: prs.get(p)![i]!.filter((v) => !Number.isNaN(v)).length }));
    }
    return rows;
  }

  private async groupMetrics(d: GroupDataset): Promise<MetricRow[]> {
    const members = new Map<string, Set<string>>();
    for (const [key, g] of d.groupOf) {
      let s = members.get(g);
      if (!s) members.set(g, (s = new Set()));
      s.add(key);
    }
    this.latencyWhat = 'library photo → first page';
    const hits: number[] = [];
    for (const key of evenSample(d.images, this.opts.maxQueries)) {
      const id = this.idOf.get(key);
      // A picture that could not be indexed still counts, with no hits.
      if (id === undefined) {
        hits.push(0);
        continue;
      }
      // The engine leaves the query out of its results; the N-S score counts it as its own first hit.
      const ranking = await this.ranked({ photo: { id }, mode: this.mode, limit: PAGE }, true);
      hits.push(groupHits([{ id: key, score: Number.POSITIVE_INFINITY }, ...ranking], members.get(d.groupOf.get(key)!)!, d.k));
      this.addRecallQuery(key);
    }
    return [{ name: `N-S score (of ${d.k})`, value: mean(hits), n: hits.length }];
  }

  private async captionMetrics(d: CaptionDataset): Promise<MetricRow[]> {
    if (this.kind !== 'clip') throw new DatasetError('caption retrieval needs a CLIP model pack (text and pictures in one space)');
    this.latencyWhat = 'sentence → first page';
    const ks = [1, 5, 10];
    const t2i = ks.map(() => [] as number[]);
    const captions = evenSample(d.captions, this.opts.maxQueries);
    for (const c of captions) {
      const ranking = await this.ranked({ text: c.text.slice(0, 1000), limit: PAGE }, true);
      ks.forEach((k, i) => t2i[i]!.push(hitAtK(ranking, new Set([c.image]), k)));
    }
    // Image → text: every caption of the set embedded by the pack's text encoder, ranked for each picture.
    const texts = await this.engine.inspect.embedTexts(d.captions.map((c) => c.text));
    for (const [j, t] of texts.entries()) this.recallQueries.set(`caption ${j}`, t);
    const captionsOf = new Map<string, Set<string>>();
    d.captions.forEach((c, j) => {
      let s = captionsOf.get(c.image);
      if (!s) captionsOf.set(c.image, (s = new Set()));
      s.add(String(j));
    });
    const i2t = ks.map(() => [] as number[]);
    for (const image of evenSample(d.images, this.opts.maxQueries)) {
      const v = this.vectorOf(image);
      const ranking: Ranked[] = v ? texts.map((t, j) => ({ id: String(j), score: dot(v, t) })) : [];
      ks.forEach((k, i) => i2t[i]!.push(hitAtK(ranking, captionsOf.get(image)!, k)));
    }
    return [
      ...ks.map((k, i) => ({ name: `text→image R@${k}`, value: mean(t2i[i]!), n: t2i[i]!.length })),
      ...ks.map((k, i) => ({ name: `image→text R@${k}`, value: mean(i2t[i]!), n: i2t[i]!.length })),
    ];
  }

  private async classMetrics(d: ClassDataset): Promise<MetricRow[]> {
    const rows: MetricRow[] = [];
    const keys = evenSample(d.images, this.opts.maxQueries);
    if (this.kind === 'clip') {
      const templates = this.opts.taxonomy ?? 'imagenet';
      const classes = await this.engine.inspect.classVectors('eval-classes', d.classes, templates);
      const top1: number[] = [];
      const top5: number[] = [];
      for (const key of keys) {
        const v = this.vectorOf(key);
        const rank = v ? classRank(classes.map((c) => dot(v, c)), d.labelOf.get(key)!) : Number.POSITIVE_INFINITY;
        top1.push(rank < 1 ? 1 : 0);
        top5.push(rank < 5 ? 1 : 0);
      }
      rows.push({ name: `zero-shot top-1 (${d.classes.length} classes, ${templates} templates)`, value: mean(top1), n: top1.length });
      rows.push({ name: 'zero-shot top-5', value: mean(top5), n: top5.length });
    }
    this.latencyWhat = 'library photo → first page';
    const members = d.classes.map(() => new Set<string>());
    for (const [key, label] of d.labelOf) members[label]!.add(key);
    const r1: number[] = [];
    for (const key of keys) {
      const id = this.idOf.get(key);
      const ranking = id === undefined ? [] : await this.ranked({ photo: { id }, mode: this.mode, limit: PAGE }, true);
      // The query is never in its own results (the engine leaves it out), so its class's set can include it.
      r1.push(hitAtK(ranking, members[d.labelOf.get(key)!]!, 1));
      this.addRecallQuery(key);
    }
    rows.push({ name: 'image→image R@1 (same class)', value: mean(r1), n: r1.length });
    return rows;
  }

  /** Picture queries the dataset does not store (revisited queries are outside the database) are made up from database pictures. */
  topUpRecallQueries(): void {
    if (this.opts.dataset.kind === 'captions') return;
    for (const key of evenSample(this.opts.dataset.images, RECALL_QUERIES)) this.addRecallQuery(key);
  }

  private addRecallQuery(key: string): void {
    if (this.recallQueries.size >= RECALL_QUERIES || this.recallQueries.has(key)) return;
    const v = this.vectorOf(key);
    if (v) this.recallQueries.set(key, v);
  }

  /** Recall@10 of the index's answer against an exact scan of every vector of the space (best region per picture). */
  indexRecall(): Promise<IndexAgreement> {
    return this.engine.inspect.indexAgreement(this.kind, evenSample([...this.recallQueries.values()], RECALL_QUERIES), RECALL_K);
  }
}
