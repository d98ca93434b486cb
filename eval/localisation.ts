/**
 * Region search with the found box, measured through the real engine: the localisation set
 * (eval/datasets/localisation.ts) is indexed once per region scheme, each object is asked as the
 * box drawn on its own photo, and the box every composite comes back with is compared with where
 * the object was pasted. A scheme is the R-MAC grid at some number of levels; its cost is the
 * vectors stored per photo and the index's size on disk.
 */
import { existsSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Box, Device } from '../main/contract/api.js';
import sharp from 'sharp';
import { Engine } from '../main/engine/engine.js';
import { buildLocalisation, type LocalisationSet } from './datasets/localisation.js';
import { DatasetError } from './datasets/types.js';
import { installModel, keyIn, linkOne, providersUsed, workFolder } from './harness.js';
import { averagePrecision, mean, percentile, positiveRanks, type Ranked } from './metrics.js';

export interface LocalisationEvalOptions {
  readonly dir: string;
  readonly model: string;
  readonly library?: string;
  readonly work?: string;
  readonly keep?: boolean;
  readonly device?: Device;
  readonly threads?: number;
  readonly objects?: string;
  readonly seed?: number;
  readonly maxScenes?: number;
  /** R-MAC levels of each scheme compared (default 3, the packs' default, and 4 and 5). */
  readonly levels?: readonly number[];
  /** The projection adapted to the library on top of the whitening, per scheme: default the app's ('views'). */
  readonly adapt?: readonly ('none' | 'views' | 'codes')[];
  readonly log?: (line: string) => void;
}

export interface SchemeRow {
  readonly scheme: string;
  readonly levels: number;
  readonly adapt: 'none' | 'views' | 'codes';
  /** Mean over objects of AP (every composite holding the object is relevant), without query expansion. */
  readonly map: number;
  /** The same with αQE. */
  readonly mapExpanded: number;
  /** Mean IoU of the returned box with the pasted box, over every (object, composite holding it). */
  readonly meanIoU: number;
  /** Share of those with IoU ≥ 0.5. */
  readonly success: number;
  /** Mean IoU over the composites ranked in the object's top 10 only. */
  readonly meanIoUTop10: number;
  /** Mean IoU and IoU ≥ 0.5 with every box found again on the picture's feature map (refineBoxes). */
  readonly refinedIoU: number;
  readonly refinedSuccess: number;
  /** Time to refine one hit's box (a CNN run and the window search), median. */
  readonly refineMsPerHit: number;
  readonly vectorsPerPhoto: number;
  readonly indexBytes: number;
  readonly latencyP50: number;
  /** IoU ≥ 0.5 by pasted scale (object's longer side / scene's shorter side). */
  readonly successByScale: Readonly<Record<string, number>>;
  readonly refinedByScale: Readonly<Record<string, number>>;
}

export interface LocalisationReport {
  readonly dataset: string;
  readonly model: string;
  readonly rows: readonly SchemeRow[];
  readonly device: string;
}

/** Intersection over union of two boxes in fractions of the picture. */
export function iou(a: Box, b: Box): number {
  const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a.w * a.h + b.w * b.h - inter);
}

const WHOLE: Box = { x: 0, y: 0, w: 1, h: 1 };

/** Share of IoU ≥ 0.5 at each pasted scale. */
function byScale<T extends { readonly scale: number }>(
  scales: readonly number[], xs: readonly T[], of: (x: T) => number,
): Record<string, number> {
  return Object.fromEntries(scales.map((s) => [String(s), mean(xs.filter((x) => x.scale === s).map((x) => (of(x) >= 0.5 ? 1 : 0)))]));
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  }
  return total;
}

type SchemeRun = SchemeRow & { readonly device: string; readonly model: string };

/** Where an earlier scheme with the same grid indexed the set: another adaptation only learns again. */
async function runScheme(
  set: LocalisationSet, opts: LocalisationEvalOptions, levels: number, adapt: SchemeRow['adapt'], work: string,
): Promise<SchemeRun> {
  const log = opts.log ?? ((): void => {});
  const libraryDir = join(work, `library-l${levels}`);
  const fresh = !existsSync(libraryDir);
  const engine = Engine.open({
    libraryDir, device: opts.device, threads: opts.threads, flatLimit: Number.POSITIVE_INFINITY, whiten: { adapt },
  });
  try {
    if (fresh) {
      const kind = await installModel(engine, opts.model, opts.library, { regionLevels: levels });
      if (kind !== 'cnn') throw new DatasetError(`${opts.model} is a ${kind} pack: region search needs a CNN pack`);
      await engine.addFolder(set.library);
      await engine.scan();
    }
    log(`  ${levels} levels, adaptation ${adapt}: indexing…`);
    await engine.index();
    const space = engine.servingSpace('cnn');
    if (!space) throw new DatasetError(`no picture could be embedded with ${opts.model}`);
    const keyOf = (path: string): string => keyIn(set.library, path);
    const idOf = new Map<string, number>();
    for (const h of (await engine.search({ sort: 'oldest', limit: 10_000 })).hits) idOf.set(keyOf(h.photo.path), h.photo.id);
    const aps: number[] = [];
    const apsExpanded: number[] = [];
    const ious: { iou: number; refined: number; scale: number; top10: boolean }[] = [];
    const latencies: number[] = [];
    const refineMs: number[] = [];
    for (const o of set.objects) {
      const id = idOf.get(o.key);
      if (id === undefined) throw new DatasetError(`${o.key} was not indexed`);
      const { width, height } = await sharp(join(opts.dir, ...o.image.split('/'))).metadata();
      const [x1, y1, x2, y2] = o.box;
      const box: Box = { x: x1 / width, y: y1 / height, w: (x2 - x1) / width, h: (y2 - y1) / height };
      const t0 = performance.now();
      const res = await engine.search({ region: { photoId: id, box }, expand: false, refineBoxes: 0, limit: set.pictures.length });
      latencies.push(performance.now() - t0);
      const mine = set.pastes.filter((p) => p.object === o.name);
      const ap = (hits: typeof res.hits): number => {
        const ranking: Ranked[] = hits.map((h) => ({ id: keyOf(h.photo.path), score: h.score }));
        return averagePrecision(positiveRanks(ranking, new Set(mine.map((p) => p.key))), mine.length);
      };
      aps.push(ap(res.hits));
      const all = set.pictures.length;
      apsExpanded.push(ap((await engine.search({ region: { photoId: id, box }, expand: true, refineBoxes: 0, limit: all })).hits));
      const t1 = performance.now();
      const again = await engine.search({ region: { photoId: id, box }, expand: false, refineBoxes: all, limit: all });
      refineMs.push((performance.now() - t1 - latencies[latencies.length - 1]!) / Math.max(1, again.hits.length));
      const rank = new Map(res.hits.map((h, i) => [keyOf(h.photo.path), i]));
      const found = new Map(res.hits.map((h) => [keyOf(h.photo.path), h.box ?? WHOLE]));
      const refound = new Map(again.hits.map((h) => [keyOf(h.photo.path), h.box ?? WHOLE]));
      const none = { x: 0, y: 0, w: 0, h: 0 };
      for (const p of mine) {
        ious.push({
          iou: iou(found.get(p.key) ?? none, p.box),
          refined: iou(refound.get(p.key) ?? none, p.box),
          scale: p.scale,
          top10: (rank.get(p.key) ?? Infinity) < 10,
        });
      }
    }
    const scales = [...new Set(set.pastes.map((p) => p.scale))].sort((a, b) => a - b);
    const count = engine.inspect.spaceSize('cnn');
    return {
      scheme: `R-MAC grid, ${levels} levels${adapt === 'none' ? ', whitening alone' : adapt === 'codes' ? ', adapted (codes)' : ', adapted'}`
        + (levels === 3 && adapt === 'views' ? ' (default)' : ''),
      levels,
      adapt,
      map: mean(aps),
      mapExpanded: mean(apsExpanded),
      meanIoU: mean(ious.map((x) => x.iou)),
      success: mean(ious.map((x) => (x.iou >= 0.5 ? 1 : 0))),
      meanIoUTop10: mean(ious.filter((x) => x.top10).map((x) => x.iou)),
      refinedIoU: mean(ious.map((x) => x.refined)),
      refinedSuccess: mean(ious.map((x) => (x.refined >= 0.5 ? 1 : 0))),
      refineMsPerHit: percentile(refineMs, 50),
      vectorsPerPhoto: count.vectors / Math.max(1, count.pictures),
      indexBytes: await folderBytes(join(libraryDir, 'index')),
      latencyP50: percentile(latencies, 50),
      successByScale: byScale(scales, ious, (x) => x.iou),
      refinedByScale: byScale(scales, ious, (x) => x.refined),
      device: await providersUsed(engine),
      model: space.pack,
    };
  } finally {
    await engine.close();
  }
}

export async function evaluateLocalisation(opts: LocalisationEvalOptions): Promise<LocalisationReport> {
  const log = opts.log ?? ((): void => {});
  const work = await workFolder(opts.work, 'loupe-localisation-');
  try {
    log('pasting the objects into the scenes…');
    const set = await buildLocalisation(resolve(opts.dir), join(work, 'set'), linkOne, { objects: opts.objects, seed: opts.seed, maxScenes: opts.maxScenes });
    log(set.title);
    const rows: SchemeRun[] = [];
    for (const levels of opts.levels ?? [3, 4, 5]) {
      for (const adapt of opts.adapt ?? ['views']) rows.push(await runScheme(set, opts, levels, adapt, work));
    }
    return { dataset: set.title, model: rows[0]!.model, rows: rows.map(({ device: _d, model: _m, ...r }) => r), device: rows[0]!.device };
  } finally {
    if (opts.keep) log(`kept the set and libraries at ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

export function formatLocalisation(r: LocalisationReport): string {
  const lines = [`dataset   ${r.dataset}`, `model     ${r.model} on ${r.device}`, ''];
  const scales = Object.keys(r.rows[0]?.successByScale ?? {});
  const f = (v: number): string => (Number.isNaN(v) ? 'n/a' : v.toFixed(3));
  const table = (head: string[], body: string[][]): void => {
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
    for (const cells of [head, ...body]) lines.push(cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
    lines.push('');
  };
  table(['scheme', 'mAP', 'mAP αQE', 'vectors/photo', 'index', 'search p50 ms'], r.rows.map((x) => [
    x.scheme, f(x.map), f(x.mapExpanded), x.vectorsPerPhoto.toFixed(1), `${(x.indexBytes / 1024).toFixed(0)} KiB`, x.latencyP50.toFixed(0),
  ]));
  table(['boxes', 'mean IoU', 'IoU≥0.5', ...scales.map((s) => `≥0.5 @${s}`), 'ms/hit'], r.rows.flatMap((x) => [
    [`${x.scheme}: grid box`, f(x.meanIoU), f(x.success), ...scales.map((s) => x.successByScale[s]!.toFixed(2)), '0'],
    [`${x.scheme}: refined`, f(x.refinedIoU), f(x.refinedSuccess), ...scales.map((s) => x.refinedByScale[s]!.toFixed(2)), x.refineMsPerHit.toFixed(0)],
  ]));
  lines.push('IoU: of the box each composite came back with and the box the object was pasted at, over every composite holding the object.');
  return lines.join('\n');
}
