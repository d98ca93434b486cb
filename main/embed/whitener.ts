/**
 * Unsupervised PCA-whitening of a library's CNN descriptors. Once the raw CNN space covers
 * a few pictures, a whitening is learned from a sample of its regional and global descriptors
 * (kept in SQLite, versioned), and every raw vector is whitened into `<raw space>.w<version>`
 * — no model is run again. Search serves the whitened space once it is complete. The whitening
 * is learned again each time the library has doubled since, its covariance shrunk towards the
 * identity by how few descriptors it had (pca-whitening.ts): strongly in a small library, hardly
 * at all in a large one. With each whitening a light projection is adapted to the library on top of
 * it (embed/adaptation.ts: the library's pictures and their regions as views of each other, and the
 * photos the user marked as the same object or place); marking photos learns it again. The defaults
 * are the Copydays benchmark's (docs/evaluation.md).
 */
import type { Repos } from '../db/repos/index.js';
import { defaultAssigner, type Assigner } from '../index/assign.js';
import { identity } from '../index/opq.js';
import { rng, sampleIndices } from '../index/random.js';
import type { IndexSet } from '../index/spaces.js';
import { applyAdaptationRows, learnAdaptation, type AdaptationOptions, type AdaptationTarget, type AdaptationViews } from './adaptation.js';
import { learnWhitening, whitenOnly, whitenRows, type Whitening } from './pca-whitening.js';
import { formatSpace, parseSpace, type SpaceRegistry } from './spaces.js';

export interface WhitenOptions {
  /** Pictures the raw space must cover before a whitening is learned (default 20). */
  readonly minPictures?: number;
  /**
   * Shrinkage a of the covariance: a number in (0, 1]; 'auto' (default): a = n₀ / (n₀ + n) for n
   * sampled descriptors; 'none': the truncated PCA-whitening of the literature, unshrunk.
   */
  readonly shrinkage?: number | 'auto' | 'none';
  /** Learned again once the library is this many times larger (default 2 below 1,000 pictures, then 4). */
  readonly regrowth?: number;
  /** At most this many descriptors are sampled to learn it (default 50,000). */
  readonly maxSamples?: number;
  /** Output dimension (default: min(input, 512)). */
  readonly outputDim?: number;
  /** The projection adapted to the library on top of the whitening: 'views' (default), 'codes', or 'none'. */
  readonly adapt?: AdaptationTarget | 'none';
  /** How it is trained (defaults: embed/adaptation.ts). */
  readonly adaptation?: Omit<AdaptationOptions, 'target'>;
}

export interface WhitenContext {
  readonly repos: Repos;
  readonly indexes: IndexSet;
  readonly spaces: SpaceRegistry;
}

/** Pictures before the first whitening, and the descriptors at which shrinkage is one half (fitted on Copydays). */
export const MIN_PICTURES = 20;
export const HALF_SHRINK_VECTORS = 10_000;

/** The shrinkage for a whitening learned from n descriptors. */
export function shrinkageFor(opts: WhitenOptions, n: number): number | undefined {
  const s = opts.shrinkage ?? 'auto';
  if (s === 'none') return undefined;
  if (s === 'auto') return HALF_SHRINK_VECTORS / (HALF_SHRINK_VECTORS + n);
  return s;
}

/** Pictures whose views train the adaptation, and views per picture (the global one and random regions). */
const ADAPT_PICTURES = 2000;
const VIEWS_PER_PICTURE = 6;

/** A random sample of the raw space's descriptors. */
function sample(repos: Repos, rawSpace: string, version: number, opts: WhitenOptions): { x: Float32Array; n: number; d: number } {
  const { vectors } = repos;
  const ids = vectors.ids(rawSpace);
  const pick = sampleIndices(ids.length, Math.min(ids.length, opts.maxSamples ?? 50_000), rng(version));
  let d = 0;
  let x = new Float32Array(0);
  pick.forEach((i, row) => {
    const v = vectors.vector(ids[i]!);
    if (d === 0) { d = v.length; x = new Float32Array(pick.length * d); }
    x.set(v, row * d);
  });
  return { x, n: pick.length, d };
}

/**
 * The adaptation's training set: every marked picture and a sample of the rest, each with its
 * global descriptor and a few random regions, whitened; the marks as pairs of pictures.
 */
function views(repos: Repos, rawSpace: string, w: Whitening, version: number): AdaptationViews {
  const { vectors } = repos;
  const groups = repos.marks.contentGroups(rawSpace);
  const marked = [...new Set(groups.flat())];
  const markedSet = new Set(marked);
  const others = vectors.items(rawSpace).filter((c) => !markedSet.has(c));
  const r = rng(version + 101);
  const rest = sampleIndices(others.length, Math.max(0, Math.min(others.length, ADAPT_PICTURES - marked.length)), r);
  const chosen = [...marked, ...[...rest].map((i) => others[i]!)];
  const d = w.outputDim;
  const rows: Float32Array[] = [];
  const starts = [0];
  for (const content of chosen) {
    const regions = vectors.regions(rawSpace, content);
    const crops = regions.slice(1);
    const pickCrops = sampleIndices(crops.length, Math.min(crops.length, VIEWS_PER_PICTURE - 1), r);
    for (const v of [regions[0]!, ...[...pickCrops].map((i) => crops[i]!)]) rows.push(whitenOnly(w, v.vector));
    starts.push(rows.length);
  }
  const x = new Float32Array(rows.length * d);
  rows.forEach((v, i) => x.set(v, i * d));
  const at = new Map(chosen.map((c, i) => [c, i]));
  // Each marked picture paired with every other of its group (up to a few, so a large group does not dominate).
  const pairs: [number, number][] = [];
  for (const g of groups) {
    for (let i = 0; i < g.length; i++) for (let j = i + 1; j < Math.min(g.length, i + 9); j++) pairs.push([at.get(g[i]!)!, at.get(g[j]!)!]);
  }
  return { d, x, starts: Int32Array.from(starts), marked: pairs };
}

async function learn(repos: Repos, rawSpace: string, version: number, opts: WhitenOptions): Promise<void> {
  const { vectors } = repos;
  const { x, n, d } = sample(repos, rawSpace, version, opts);
  const assigner = await defaultAssigner();
  let w: Whitening;
  try {
    const shrinkage = shrinkageFor(opts, n);
    w = await learnWhitening(x, n, d, Math.min(d, opts.outputDim ?? 512), assigner, { shrinkage });
    const target = opts.adapt ?? 'views';
    if (target !== 'none') {
      const marksState = repos.marks.state();
      const set = views(repos, rawSpace, w, version);
      const a = await learnAdaptation(set, assigner, { ...opts.adaptation, target });
      // A diverged training (not seen with the defaults) must not reach the index: the identity stands in.
      const matrix = a.matrix.every(Number.isFinite) ? a.matrix : identity(w.outputDim);
      w = { ...w, adaptation: { matrix, target, marksState, markedPairs: a.marked } };
    }
  } finally {
    await assigner.close();
  }
  const id = parseSpace(rawSpace)!;
  const space = formatSpace({ ...id, whitening: version });
  repos.whitenings.insert(
    { space, rawSpace, version, whitening: w, pictures: vectors.pictures(rawSpace), vectors: n },
    Date.now(),
  );
}

/** Why the current whitening must be learned again, or null. */
function relearnReason(repos: Repos, current: Whitening & { pictures: number }, n: number, opts: WhitenOptions): string | null {
  // Doubling while small, where each learning changes most; fourfold later, where re-whitening every vector costs most.
  if (n >= (opts.regrowth ?? (current.pictures < 1000 ? 2 : 4)) * current.pictures) return 'grown';
  const target = opts.adapt ?? 'views';
  if ((current.adaptation?.target ?? 'none') !== target) return 'adaptation';
  if (current.adaptation && current.adaptation.marksState !== repos.marks.state()) return 'marks';
  return null;
}

/** A page of pictures' vectors, whitened and adapted, as GEMMs. */
async function transform(w: Whitening, vectors: readonly Float32Array[], assigner: () => Promise<Assigner>): Promise<Float32Array[]> {
  if (vectors.length === 0) return [];
  const x = new Float32Array(vectors.length * w.inputDim);
  vectors.forEach((v, i) => x.set(v, i * w.inputDim));
  const gemm = await assigner();
  let y = await whitenRows(w, x, vectors.length, gemm);
  const d = w.outputDim;
  if (w.adaptation) y = await applyAdaptationRows({ d, matrix: w.adaptation.matrix }, y, vectors.length, gemm);
  return vectors.map((_, i) => y.slice(i * d, (i + 1) * d));
}

/**
 * Learns (or re-learns) the whitening when due and brings the whitened space up to date with the
 * raw one. Returns the whitened space, or null while the library is too small.
 */
export async function whiten(ctx: WhitenContext, rawSpace: string, opts: WhitenOptions = {}): Promise<string | null> {
  const { repos, indexes } = ctx;
  const store = repos.vectors;
  const n = store.pictures(rawSpace);
  let current = repos.whitenings.current(rawSpace);
  if (!current && n < (opts.minPictures ?? MIN_PICTURES)) return null;
  if (!current || relearnReason(repos, { ...current.whitening, pictures: current.pictures }, n, opts)) {
    await learn(repos, rawSpace, (current?.version ?? 0) + 1, opts);
    current = repos.whitenings.current(rawSpace)!;
  }
  const { space, whitening } = current;
  const index = await indexes.get(space, whitening.outputDim);
  let assigner: Assigner | null = null;
  const gemm = async (): Promise<Assigner> => (assigner ??= await defaultAssigner());
  try {
    for (;;) {
      const batch = store.missingFrom(rawSpace, space, 256);
      if (batch.length === 0) break;
      const pages = batch.map((c) => ({ c, regions: store.regions(rawSpace, c.id) }));
      const out = await transform(whitening, pages.flatMap((p) => p.regions.map((r) => r.vector)), gemm);
      let at = 0;
      const entries = repos.transaction(() => pages.flatMap((p) => store.put(space, p.c.hash,
        p.regions.map((r) => ({ ...r, vector: out[at++]! })))));
      index.add(entries);
    }
  } finally {
    await (assigner as Assigner | null)?.close();
  }
  // Complete: search uses it, and earlier whitened spaces go.
  await ctx.spaces.serveWhitened('cnn', space);
  return space;
}
