/**
 * Unsupervised PCA-whitening of a library's CNN descriptors. Once the raw CNN space covers
 * a few pictures, a whitening is learned from a sample of its regional and global descriptors
 * (kept in SQLite, versioned), and every raw vector is whitened into `<raw space>.w<version>`
 * — no model is run again. Search serves the whitened space once it is complete. The whitening
 * is learned again each time the library has doubled since, its covariance shrunk towards the
 * identity by how few descriptors it had (pca-whitening.ts): strongly in a small library, hardly
 * at all in a large one. The defaults are the Copydays benchmark's (docs/evaluation.md).
 */
import type { Repos } from '../db/repos/index.js';
import { defaultAssigner } from '../index/assign.js';
import { rng, sampleIndices } from '../index/random.js';
import type { IndexSet } from '../index/spaces.js';
import { applyWhitening, learnWhitening, type Whitening } from './pca-whitening.js';
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

async function learn(repos: Repos, rawSpace: string, version: number, opts: WhitenOptions): Promise<void> {
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
  const assigner = await defaultAssigner();
  let w: Whitening;
  try {
    const shrinkage = shrinkageFor(opts, pick.length);
    w = await learnWhitening(x, pick.length, d, Math.min(d, opts.outputDim ?? 512), assigner, { shrinkage });
  } finally {
    await assigner.close();
  }
  const id = parseSpace(rawSpace)!;
  const space = formatSpace({ ...id, whitening: version });
  repos.whitenings.insert(
    { space, rawSpace, version, whitening: w, pictures: vectors.pictures(rawSpace), vectors: pick.length },
    Date.now(),
  );
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
  // Doubling while small, where each learning changes most; fourfold later, where re-whitening every vector costs most.
  if (!current || n >= (opts.regrowth ?? (current.pictures < 1000 ? 2 : 4)) * current.pictures) {
    await learn(repos, rawSpace, (current?.version ?? 0) + 1, opts);
    current = repos.whitenings.current(rawSpace)!;
  }
  const { space, whitening } = current;
  const index = await indexes.get(space, whitening.outputDim);
  for (;;) {
    const batch = store.missingFrom(rawSpace, space, 256);
    if (batch.length === 0) break;
    const entries = repos.transaction(() => batch.flatMap((c) => store.put(space, c.hash,
      store.regions(rawSpace, c.id).map((r) => ({ ...r, vector: applyWhitening(whitening, r.vector) })))));
    index.add(entries);
  }
  // Complete: search uses it, and earlier whitened spaces go.
  await ctx.spaces.serveWhitened('cnn', space);
  return space;
}
