/**
 * The SQLite side of the vector index: contents (one per distinct picture: the index's items),
 * vectors (stored here first, in float32, in the same transaction as the rest of the library's
 * state; the index files follow), the deletion log, and the embedding stage's failures. A
 * VectorSource over one space is what an index catches up from after a restart and rebuilds from
 * after damage.
 */
import type { Box } from '../../contract/api.js';
import type { IndexEntry, VectorSource, VectorSources } from '../../index/vector-index.js';
import { float32s, toBlob } from '../blobs.js';
import { Repo } from './repo.js';

export type RegionBox = Box;

export interface StoredVector {
  readonly hash: string;
  readonly region: number;
  readonly box: RegionBox | null;
  /** Where in a video the vector's frame is (absent or null: a picture, or a video's poster). */
  readonly atMs?: number | null;
  readonly vector: Float32Array;
}

/** Where a vector's match is: a region of the picture, a moment of a video, or neither. */
export interface Placement {
  readonly box: Box | null;
  readonly atMs: number | null;
}

interface BoxColumns {
  readonly box_x: number | null;
  readonly box_y: number | null;
  readonly box_w: number | null;
  readonly box_h: number | null;
}

interface VectorRow extends BoxColumns {
  readonly id: number;
  readonly content_id: number;
  readonly region: number;
  readonly dim: number;
  readonly data: Buffer;
}

/** A vector as search reads it. */
export interface VectorHit {
  readonly id: number;
  readonly item: number;
  readonly vector: Float32Array;
  readonly box: Box | null;
}

/** A picture the embedding stage still owes a space. */
export interface EmbedTodo {
  readonly hash: string;
  readonly path: string;
}

const BATCH = 4096;

function fromBlob(b: Buffer, dim: number): Float32Array {
  if (b.length !== dim * 4) throw new RangeError(`vector blob of ${b.length} bytes for dimension ${dim}`);
  return float32s(b);
}

export function boxOf(r: BoxColumns): Box | null {
  return r.box_x === null || r.box_y === null || r.box_w === null || r.box_h === null
    ? null
    : { x: r.box_x, y: r.box_y, w: r.box_w, h: r.box_h };
}

const json = (ids: Iterable<number>): string => JSON.stringify([...ids]);

/** Photos that are indexed and have no vector in the space, nor a recorded failure. */
const TODO = `p.state = 'ok' AND p.hash IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM contents c JOIN vectors v ON v.content_id = c.id WHERE c.hash = p.hash AND v.space = @space AND v.region = 0)
  AND NOT EXISTS (SELECT 1 FROM embed_failures f WHERE f.space = @space AND f.hash = p.hash)`;

export class VectorStore extends Repo implements VectorSources {
  /** The content id (index item) of a hash, created when new. */
  contentId(hash: string): number {
    this.run('INSERT INTO contents (hash) VALUES (?) ON CONFLICT (hash) DO NOTHING', hash);
    return this.one<{ id: number }>('SELECT id FROM contents WHERE hash = ?', hash)!.id;
  }

  hashOf(contentId: number): string | null {
    return this.one<{ hash: string }>('SELECT hash FROM contents WHERE id = ?', contentId)?.hash ?? null;
  }

  /**
   * Stores a picture's vectors in one space, replacing any it had (one transaction). Returns the
   * index entries to add; replaced vectors are deleted, which the deletion log records.
   */
  put(space: string, hash: string, vectors: readonly Omit<StoredVector, 'hash'>[]): IndexEntry[] {
    return this.transaction(() => {
      const item = this.contentId(hash);
      this.run('DELETE FROM vectors WHERE space = ? AND content_id = ?', space, item);
      return vectors.map((v) => {
        const { lastId } = this.run(
          `INSERT INTO vectors (space, content_id, region, box_x, box_y, box_w, box_h, at_ms, dim, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          space,
          item,
          v.region,
          v.box?.x ?? null,
          v.box?.y ?? null,
          v.box?.w ?? null,
          v.box?.h ?? null,
          v.atMs ?? null,
          v.vector.length,
          toBlob(v.vector),
          Date.now(),
        );
        return { id: lastId, item, region: v.region, vector: v.vector };
      });
    });
  }

  /** Deletes a picture content and all its vectors in every space. */
  deleteContent(hash: string): void {
    this.run('DELETE FROM contents WHERE hash = ?', hash);
  }

  /** Contents no photo row (present or missing) has any more, and their vectors; returns how many. */
  collectOrphans(): number {
    return this.run('DELETE FROM contents WHERE hash NOT IN (SELECT hash FROM photos WHERE hash IS NOT NULL)').changes;
  }

  box(space: string, item: number, region: number): RegionBox | null {
    const r = this.one<BoxColumns>('SELECT box_x, box_y, box_w, box_h FROM vectors WHERE space = ? AND content_id = ? AND region = ?', space, item, region);
    return r ? boxOf(r) : null;
  }

  count(space: string): number {
    return this.one<{ n: number }>('SELECT count(*) n FROM vectors WHERE space = ?', space)!.n;
  }

  /** Pictures (global vectors) a space holds. */
  pictures(space: string): number {
    return this.one<{ n: number }>('SELECT count(*) n FROM vectors WHERE space = ? AND region = 0', space)!.n;
  }

  /** The dimension of a space's vectors, or null while it holds none. */
  dimOf(space: string): number | null {
    return this.one<{ dim: number }>('SELECT dim FROM vectors WHERE space = ? LIMIT 1', space)?.dim ?? null;
  }

  /** Every space that holds vectors. */
  spaces(): string[] {
    return this.all<{ space: string }>('SELECT DISTINCT space FROM vectors').map((r) => r.space);
  }

  /** A picture's global vector in a space. */
  global(space: string, contentId: number): Float32Array | null {
    const r = this.one<{ data: Buffer }>('SELECT data FROM vectors WHERE space = ? AND content_id = ? AND region = 0', space, contentId);
    return r ? float32s(r.data) : null;
  }

  /** Global vectors of these pictures in a space. */
  globals(space: string, items: Iterable<number>): Map<number, Float32Array> {
    const rows = this.all<{ content_id: number; data: Buffer }>(
      'SELECT content_id, data FROM vectors WHERE space = ? AND region = 0 AND content_id IN (SELECT value FROM json_each(?))', space, json(items));
    return new Map(rows.map((r) => [r.content_id, float32s(r.data)]));
  }

  /** Every global vector of a space, one picture at a time. */
  *eachGlobal(space: string): Generator<{ item: number; vector: Float32Array }> {
    for (const r of this.iterate<{ item: number; data: Buffer }>('SELECT content_id AS item, data FROM vectors WHERE space = ? AND region = 0', space)) {
      yield { item: r.item, vector: float32s(r.data) };
    }
  }

  /** Every vector (global and regional) of these pictures in a space. */
  *ofItems(space: string, items: Iterable<number>): Generator<{ id: number; item: number; vector: Float32Array }> {
    const rows = this.iterate<{ id: number; item: number; data: Buffer }>(
      'SELECT id, content_id AS item, data FROM vectors WHERE space = ? AND content_id IN (SELECT value FROM json_each(?))', space, json(items));
    for (const r of rows) yield { id: r.id, item: r.item, vector: float32s(r.data) };
  }

  /** Every vector of a space (global and regional), all at once (the evaluation's exact scan). */
  allOf(space: string): { item: number; vector: Float32Array }[] {
    return this.all<{ item: number; data: Buffer }>('SELECT content_id AS item, data FROM vectors WHERE space = ?', space)
      .map((r) => ({ item: r.item, vector: float32s(r.data) }));
  }

  byIds(ids: readonly number[]): Map<number, VectorHit> {
    const rows = this.all<VectorRow>('SELECT id, content_id, region, dim, data, box_x, box_y, box_w, box_h FROM vectors WHERE id IN (SELECT value FROM json_each(?))', json(ids));
    return new Map(rows.map((r) => [r.id, { id: r.id, item: r.content_id, vector: float32s(r.data), box: boxOf(r) }]));
  }

  /** Where each vector's match is: its region box, and its moment in a video. */
  placements(ids: readonly number[]): Map<number, Placement> {
    if (ids.length === 0) return new Map();
    const rows = this.all<BoxColumns & { id: number; at_ms: number | null }>(
      'SELECT v.id, v.box_x, v.box_y, v.box_w, v.box_h, v.at_ms FROM json_each(?) j CROSS JOIN vectors v ON v.id = j.value', json(ids));
    return new Map(rows.map((r) => [r.id, { box: boxOf(r), atMs: r.at_ms }]));
  }

  /** The pictures (content ids) with a global vector in a space. */
  items(space: string): number[] {
    return this.all<{ content_id: number }>('SELECT content_id FROM vectors WHERE space = ? AND region = 0 ORDER BY content_id', space).map((r) => r.content_id);
  }

  /** Vector ids of a space, for sampling. */
  ids(space: string): number[] {
    return this.all<{ id: number }>('SELECT id FROM vectors WHERE space = ?', space).map((r) => r.id);
  }

  vector(id: number): Float32Array {
    const r = this.one<{ data: Buffer; dim: number }>('SELECT data, dim FROM vectors WHERE id = ?', id);
    if (!r) throw new RangeError(`no vector ${id}`);
    return fromBlob(r.data, r.dim);
  }

  /** A picture's vectors in a space, global first, with their boxes. */
  regions(space: string, contentId: number): Omit<StoredVector, 'hash'>[] {
    return this.all<VectorRow>('SELECT region, box_x, box_y, box_w, box_h, dim, data FROM vectors WHERE space = ? AND content_id = ? ORDER BY region', space, contentId)
      .map((r) => ({ region: r.region, box: boxOf(r), vector: fromBlob(r.data, r.dim) }));
  }

  /** Pictures with a global vector in `from` but none in `to` (a derived space catching up), a page at a time. */
  missingFrom(from: string, to: string, limit: number): { hash: string; id: number }[] {
    return this.all(`SELECT c.hash, c.id FROM contents c
      WHERE EXISTS (SELECT 1 FROM vectors v WHERE v.content_id = c.id AND v.space = ? AND v.region = 0)
        AND NOT EXISTS (SELECT 1 FROM vectors w WHERE w.content_id = c.id AND w.space = ? AND w.region = 0)
      LIMIT ?`, from, to, limit);
  }

  /** Deletes a space's vectors and the embedding failures recorded against it. */
  deleteSpace(space: string): void {
    this.transaction(() => {
      this.run('DELETE FROM vectors WHERE space = ?', space);
      this.run('DELETE FROM embed_failures WHERE space = ?', space);
    });
  }

  // ---- the embedding stage's queue ----

  /** Pictures the space still owes, in hash order after `after`. */
  todo(space: string, after: string, limit: number): EmbedTodo[] {
    return this.all<EmbedTodo>(`SELECT p.hash, min(p.path) AS path FROM photos p WHERE ${TODO} AND p.hash > @after GROUP BY p.hash ORDER BY p.hash LIMIT @limit`,
      { space, after, limit });
  }

  countTodo(space: string): number {
    return this.one<{ n: number }>(`SELECT count(DISTINCT p.hash) AS n FROM photos p WHERE ${TODO}`, { space })!.n;
  }

  /** How many pictures could not be embedded in a space, and the last reason. */
  failures(space: string): { count: number; last: string | null } {
    const n = this.one<{ n: number }>('SELECT count(*) AS n FROM embed_failures WHERE space = ?', space)!.n;
    const last = this.one<{ error: string }>('SELECT error FROM embed_failures WHERE space = ? ORDER BY at DESC, hash LIMIT 1', space);
    return { count: n, last: last?.error ?? null };
  }

  recordFailure(space: string, hash: string, error: string, now: number): void {
    this.run('INSERT OR REPLACE INTO embed_failures (space, hash, error, at) VALUES (?, ?, ?, ?)', space, hash, error, now);
  }

  // ---- what the index catches up from ----

  /** A VectorSource over one space, for VectorIndex.open. */
  source(space: string): VectorSource {
    return {
      entries: (afterId: number): Iterable<IndexEntry[]> => this.entries(space, afterId),
      deletions: (afterSeq: number): { ids: number[]; lastSeq: number } => {
        const rows = this.all<{ seq: number; vector_id: number }>('SELECT seq, vector_id FROM vector_deletions WHERE space = ? AND seq > ? ORDER BY seq', space, afterSeq);
        const lastSeq = this.one<{ s: number }>('SELECT coalesce(max(seq), 0) s FROM vector_deletions')!.s;
        return { ids: rows.map((r) => r.vector_id), lastSeq: Math.max(afterSeq, lastSeq) };
      },
    };
  }

  private *entries(space: string, afterId: number): Generator<IndexEntry[]> {
    let last = afterId;
    for (;;) {
      const rows = this.all<VectorRow>('SELECT id, content_id, region, dim, data FROM vectors WHERE space = ? AND id > ? ORDER BY id LIMIT ?', space, last, BATCH);
      if (rows.length === 0) return;
      last = rows[rows.length - 1]!.id;
      yield rows.map((r) => ({ id: r.id, item: r.content_id, region: r.region, vector: fromBlob(r.data, r.dim) }));
    }
  }

  /** Forgets a space's deletion-log entries its index has applied (other spaces keep theirs until their index opens). */
  pruneDeletions(space: string, appliedSeq: number): void {
    this.run('DELETE FROM vector_deletions WHERE space = ? AND seq <= ?', space, appliedSeq);
  }
}
