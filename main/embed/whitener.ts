/**
 * Unsupervised PCA-whitening of a library's CNN descriptors. Once the raw CNN space covers
 * enough pictures, a whitening is learned from a sample of its regional and global descriptors
 * (kept in SQLite, versioned), and every raw vector is whitened into `<raw space>.w<version>`
 * — no model is run again. Search serves the whitened space once it is complete. The whitening
 * is learned again when the library has grown fourfold since.
 */
import { float32s, float64s, toBlob } from '../db/blobs.js';
import type { Db } from '../db/database.js';
import { setSetting } from '../db/settings.js';
import { applyWhitening, learnWhitening, type Whitening } from './pca-whitening.js';
import { defaultAssigner } from '../index/assign.js';
import { sampleIndices, rng } from '../index/random.js';
import type { IndexSet } from '../index/spaces.js';
import type { VectorStore } from '../db/repos/vectors.js';

export interface WhitenOptions {
  /** Pictures the raw space must cover before a whitening is learned (default 1,000). */
  readonly minPictures?: number;
  /** At most this many descriptors are sampled to learn it (default 50,000). */
  readonly maxSamples?: number;
  /** Output dimension (default: min(input, 512)). */
  readonly outputDim?: number;
}

interface WhiteningRow {
  space: string;
  version: number;
  input_dim: number;
  output_dim: number;
  mean: Buffer;
  projection: Buffer;
  eigenvalues: Buffer;
  pictures: number;
}

export function currentWhitening(db: Db, rawSpace: string): { space: string; whitening: Whitening; pictures: number } | null {
  const r = db.prepare('SELECT * FROM whitenings WHERE raw_space = ? ORDER BY version DESC LIMIT 1').get(rawSpace) as WhiteningRow | undefined;
  if (!r) return null;
  return {
    space: r.space,
    pictures: r.pictures,
    whitening: { inputDim: r.input_dim, outputDim: r.output_dim, mean: float32s(r.mean), projection: float32s(r.projection), eigenvalues: float64s(r.eigenvalues) },
  };
}

function pictures(db: Db, space: string): number {
  return (db.prepare('SELECT count(*) n FROM vectors WHERE space = ? AND region = 0').get(space) as { n: number }).n;
}

async function learn(db: Db, rawSpace: string, version: number, opts: WhitenOptions): Promise<string> {
  const ids = (db.prepare('SELECT id FROM vectors WHERE space = ?').all(rawSpace) as { id: number }[]).map((r) => r.id);
  const pick = sampleIndices(ids.length, Math.min(ids.length, opts.maxSamples ?? 50_000), rng(version));
  const get = db.prepare('SELECT data, dim FROM vectors WHERE id = ?');
  let d = 0;
  let x = new Float32Array(0);
  pick.forEach((i, row) => {
    const r = get.get(ids[i]) as { data: Buffer; dim: number };
    if (d === 0) { d = r.dim; x = new Float32Array(pick.length * d); }
    x.set(float32s(r.data), row * d);
  });
  const assigner = await defaultAssigner();
  let w: Whitening;
  try {
    w = await learnWhitening(x, pick.length, d, Math.min(d, opts.outputDim ?? 512), assigner);
  } finally {
    await assigner.close();
  }
  const space = `${rawSpace}.w${version}`;
  db.prepare(`INSERT INTO whitenings (space, raw_space, version, input_dim, output_dim, mean, projection, eigenvalues, pictures, vectors, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    .run(space, rawSpace, version, w.inputDim, w.outputDim, toBlob(w.mean), toBlob(w.projection), toBlob(w.eigenvalues), pictures(db, rawSpace), pick.length, Date.now());
  return space;
}

/**
 * Learns (or re-learns) the whitening when due and brings the whitened space up to date with the
 * raw one. Returns the whitened space, or null while the library is too small.
 */
export async function whiten(db: Db, store: VectorStore, indexes: IndexSet, rawSpace: string, opts: WhitenOptions = {}): Promise<string | null> {
  const n = pictures(db, rawSpace);
  let current = currentWhitening(db, rawSpace);
  if (!current && n < (opts.minPictures ?? 1000)) return null;
  if (!current || n >= 4 * current.pictures) {
    await learn(db, rawSpace, (current ? Number(current.space.slice(current.space.lastIndexOf('.w') + 2)) : 0) + 1, opts);
    current = currentWhitening(db, rawSpace)!;
  }
  const { space, whitening } = current;
  const index = await indexes.get(space, whitening.outputDim);
  const todo = db.prepare(`SELECT c.hash, c.id FROM contents c
    WHERE EXISTS (SELECT 1 FROM vectors v WHERE v.content_id = c.id AND v.space = @raw AND v.region = 0)
      AND NOT EXISTS (SELECT 1 FROM vectors w WHERE w.content_id = c.id AND w.space = @space AND w.region = 0)
    LIMIT 256`);
  const rows = db.prepare('SELECT region, box_x x, box_y y, box_w w, box_h h, data FROM vectors WHERE space = ? AND content_id = ? ORDER BY region');
  for (;;) {
    const batch = todo.all({ raw: rawSpace, space }) as { hash: string; id: number }[];
    if (batch.length === 0) break;
    const entries = db.transaction(() => batch.flatMap((c) => {
      const raw = rows.all(rawSpace, c.id) as { region: number; x: number | null; y: number | null; w: number | null; h: number | null; data: Buffer }[];
      return store.put(space, c.hash, raw.map((r) => ({
        region: r.region,
        box: r.x === null || r.y === null || r.w === null || r.h === null ? null : { x: r.x, y: r.y, w: r.w, h: r.h },
        vector: applyWhitening(whitening, float32s(r.data)),
      })));
    }))();
    index.add(entries);
  }
  // Complete: search uses it, and earlier whitened spaces go.
  setSetting(db, 'serving.cnn', space);
  const older = (db.prepare('SELECT space FROM whitenings WHERE raw_space = ? AND space != ?').all(rawSpace, space) as { space: string }[]).map((r) => r.space);
  for (const s of older) {
    db.transaction(() => {
      db.prepare('DELETE FROM vectors WHERE space = ?').run(s);
      db.prepare('DELETE FROM whitenings WHERE space = ?').run(s);
    })();
    await indexes.drop(s);
  }
  return space;
}
