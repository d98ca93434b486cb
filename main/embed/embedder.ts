/**
 * The embedding stage: every indexed picture gets vectors from the active model of each kind
 * (a CLIP pack: one cross-modal embedding, and for a video one more per frame sampled through
 * it, with the frame's time; a CNN pack: a global GeM descriptor and regional ones with boxes).
 * Pictures are read from a stored rendition (already oriented and in sRGB: the model-input
 * picture for CLIP, the 1024-px thumbnail for CNN descriptors), preprocessed on libuv's threads
 * a few batches ahead of the inference worker (a bounded queue), embedded in batches, and
 * committed to SQLite and the space's index batch by batch.
 *
 * Spaces (embed/spaces.ts) are named by kind and pack (`clip.<pack>`, `cnn.<pack>`). Changing the
 * active pack starts a new space; search keeps serving the previous one until the new one covers
 * the library, then the old space is dropped.
 */
import type { EmbedProgress, EmbedSummary, ModelKind } from '../contract/api.js';
import type { Repos } from '../db/repos/index.js';
import type { EmbedTodo as Todo, StoredVector } from '../db/repos/vectors.js';
import type { EncoderCache } from '../encoders/cache.js';
import type { Preprocessed } from '../encoders/preprocess.js';
import type { IndexSet } from '../index/spaces.js';
import type { ThumbnailStore } from '../ingest/thumbnails.js';
import { rawSpace, type SpaceRegistry } from './spaces.js';
import { whiten, type WhitenOptions } from './whitener.js';
import { errorMessage } from '../util/errors.js';

export interface EmbedContext {
  readonly repos: Repos;
  readonly thumbs: ThumbnailStore;
  readonly indexes: IndexSet;
  readonly encoders: EncoderCache;
  readonly spaces: SpaceRegistry;
}

export interface EmbedOptions {
  /** Pictures per inference batch (CLIP; CNN pictures differ in size and go one by one). */
  readonly batchSize?: number;
  /** Batches preprocessed ahead of inference. */
  readonly prefetch?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: EmbedProgress) => void;
  /** When to learn the PCA-whitening of CNN descriptors. */
  readonly whiten?: WhitenOptions;
}

type Prepared<T> = { readonly todo: Todo; readonly value: T } | { readonly todo: Todo; readonly error: string };

/**
 * Yields batches of prepared items in order while keeping up to `depth` items being prepared:
 * the bounded queue between decoding and inference.
 */
async function* pipelined<T>(
  source: AsyncIterable<Todo>,
  prepare: (t: Todo) => Promise<T>,
  batchSize: number,
  depth: number,
): AsyncGenerator<Prepared<T>[]> {
  const window: Promise<Prepared<T>>[] = [];
  const it = source[Symbol.asyncIterator]();
  let exhausted = false;
  const topUp = async (): Promise<void> => {
    while (!exhausted && window.length < depth) {
      const n = await it.next();
      if (n.done) {
        exhausted = true;
        break;
      }
      const todo = n.value;
      window.push(
        prepare(todo).then(
          (value) => ({ todo, value }),
          (err: unknown) => ({ todo, error: errorMessage(err) }),
        ),
      );
    }
  };
  for (;;) {
    await topUp();
    if (window.length === 0) return;
    const batch = window.splice(0, batchSize);
    await topUp();
    yield await Promise.all(batch);
  }
}

function describeFailure(message: string): string {
  if (/unsupported image format|Input file is missing|ENOENT/i.test(message)) return `cannot read the picture for embedding (${message.split('\n')[0]})`;
  return message.split('\n')[0]!;
}

/** Embeds every indexed picture that has no vectors in the active space of `kind`. */
export async function embedPending(ctx: EmbedContext, kind: ModelKind, opts: EmbedOptions = {}): Promise<EmbedSummary | null> {
  const pack = ctx.spaces.active(kind);
  if (!pack) return null;
  const { repos, indexes } = ctx;
  const store = repos.vectors;
  const space = rawSpace(kind, pack);
  const started = Date.now();
  store.collectOrphans();
  const total = store.countTodo(space);
  const summary = { space, pack, kind, embedded: 0, failed: 0, ms: 0, complete: false };
  const report = (): void => {
    const elapsed = (Date.now() - started) / 1000;
    const done = summary.embedded + summary.failed;
    const rate = elapsed > 0 ? done / elapsed : 0;
    opts.onProgress?.({
      space,
      pack,
      kind,
      total,
      done,
      failed: summary.failed,
      ratePerSec: rate,
      etaSec: rate > 0 ? (total - done) / rate : null,
    });
  };
  const source = async function* (): AsyncGenerator<Todo> {
    let after = '';
    for (;;) {
      const rows = store.todo(space, after, 256);
      if (rows.length === 0) return;
      for (const r of rows) yield r;
      after = rows[rows.length - 1]!.hash;
    }
  };
  const input = (t: Todo, need: number): string => ctx.thumbs.encoderInput(t.hash, t.path, need);

  const batchSize = Math.max(1, opts.batchSize ?? 16);
  const prefetch = Math.max(1, opts.prefetch ?? 2);
  const manifest = ctx.encoders.manifest(pack);
  if (manifest.kind !== kind) throw new Error(`the active ${kind} pack ${pack} is a ${manifest.kind} pack`);
  // Opening the index applies deletions it missed; the models load only when there is work.
  const index = await indexes.get(space, manifest.embeddingDim);

  // One transaction per batch: vectors and failures, then the index and the counts follow.
  const commit = (items: readonly { todo: Todo; vectors: Omit<StoredVector, 'hash'>[] }[], failures: readonly { todo: Todo; error: string }[]): void => {
    const now = Date.now();
    index.add(repos.transaction(() => {
      for (const f of failures) store.recordFailure(space, f.todo.hash, describeFailure(f.error), now);
      return items.flatMap((i) => store.put(space, i.todo.hash, i.vectors));
    }));
    summary.embedded += items.length;
    summary.failed += failures.length;
    report();
  };

  if (total === 0) {
    // Nothing to embed.
  } else if (kind === 'clip') {
    const enc = await ctx.encoders.clip(pack);
    const p = enc.preprocessing;
    const need = Math.max(p.doResize ? p.shortestEdge : 0, p.cropWidth, p.cropHeight);
    // A picture is one input; a video is its poster and then its frames, each found by time.
    type Pictures = { readonly pixels: Float32Array[]; readonly atMs: (number | null)[] };
    type Item = Prepared<Pictures>;
    const prepare = async (t: Todo): Promise<Pictures> => {
      const frames = ctx.thumbs.frames(t.hash);
      const pixels = await Promise.all([input(t, need), ...frames.map((f) => f.path)].map((path) => enc.pixels(path)));
      return { pixels, atMs: [null, ...frames.map((f) => f.atMs)] };
    };
    // In model batches of batchSize, however many pictures the items hold between them.
    const embedChunked = async (pixels: readonly Float32Array[]): Promise<Float32Array[]> => {
      const out: Float32Array[] = [];
      for (let i = 0; i < pixels.length; i += batchSize) out.push(...await enc.embedPixels(pixels.slice(i, i + batchSize)));
      return out;
    };
    const vectorsOf = (p: Pictures, vs: readonly Float32Array[]): Omit<StoredVector, 'hash'>[] =>
      vs.map((vector, i) => ({ region: i, box: null, atMs: p.atMs[i] ?? null, vector }));
    const embedBatch = async (batch: Item[]): Promise<void> => {
      const ok = batch.filter((b): b is Extract<Item, { value: Pictures }> => 'value' in b);
      const failures: { todo: Todo; error: string }[] = batch.filter((b): b is Extract<Item, { error: string }> => 'error' in b);
      const items: { todo: Todo; vectors: Omit<StoredVector, 'hash'>[] }[] = [];
      let vectors: Float32Array[] | null = null;
      try {
        vectors = await embedChunked(ok.flatMap((b) => b.value.pixels));
      } catch {
        // One bad input must not fail the batch: retry one by one to find it.
        vectors = null;
      }
      let at = 0;
      for (const b of ok) {
        const n = b.value.pixels.length;
        let vs = vectors?.slice(at, at + n);
        at += n;
        if (!vs || vs.length !== n) {
          try {
            vs = await embedChunked(b.value.pixels);
          } catch (err) {
            failures.push({ todo: b.todo, error: errorMessage(err) });
            continue;
          }
        }
        items.push({ todo: b.todo, vectors: vectorsOf(b.value, vs) });
      }
      commit(items, failures);
    };
    // As many batches in flight as the encoder runs side by side; each commits when it is done.
    const inflight = new Set<Promise<void>>();
    for await (const batch of pipelined(source(), prepare, batchSize, batchSize * (prefetch + enc.parallelism))) {
      const p: Promise<void> = embedBatch(batch).finally(() => inflight.delete(p));
      inflight.add(p);
      if (inflight.size >= enc.parallelism) await Promise.race(inflight);
      if (opts.signal?.aborted) break;
    }
    await Promise.all(inflight);
  } else {
    const enc = await ctx.encoders.cnn(pack);
    for await (const batch of pipelined<Preprocessed>(source(), (t) => enc.pixels(input(t, Infinity)), 1, 1 + prefetch * 2)) {
      const b = batch[0]!;
      const items: { todo: Todo; vectors: Omit<StoredVector, 'hash'>[] }[] = [];
      const failures: { todo: Todo; error: string }[] = [];
      if ('error' in b) failures.push(b);
      else {
        try {
          const d = await enc.describe(b.value);
          items.push({
            todo: b.todo,
            vectors: [
              { region: 0, box: { x: 0, y: 0, w: 1, h: 1 }, vector: d.global },
              ...d.regions.map((r, i) => ({ region: i + 1, box: r.box, vector: r.vector })),
            ],
          });
        } catch (err) {
          failures.push({ todo: b.todo, error: errorMessage(err) });
        }
      }
      commit(items, failures);
      if (opts.signal?.aborted) break;
    }
  }
  summary.complete = !opts.signal?.aborted && store.countTodo(space) === 0;
  if (summary.complete) {
    await ctx.spaces.promote(kind, space);
    if (kind === 'cnn') await whiten(ctx, space, opts.whiten);
  }
  // Apply deletions made in SQLite (replaced vectors, orphans) before upkeep.
  await indexes.sync();
  await indexes.maintain();
  summary.ms = Date.now() - started;
  return summary;
}
