/**
 * The SQLite side of the vector index: vectors are stored here first (in float32, in the same
 * transaction as the rest of the library's state) and the index files follow. A VectorSource over
 * one space is what an index catches up from after a restart and rebuilds from after damage.
 */
import { float32s, toBlob } from '../blobs.js';
import type { Db } from '../database.js';
import type { IndexEntry, VectorSource } from '../../index/vector-index.js';

export interface RegionBox {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export interface StoredVector {
  readonly hash: string;
  readonly region: number;
  readonly box: RegionBox | null;
  readonly vector: Float32Array;
}

interface VectorRow {
  id: number;
  content_id: number;
  region: number;
  dim: number;
  data: Buffer;
}

const BATCH = 4096;

function fromBlob(b: Buffer, dim: number): Float32Array {
  if (b.length !== dim * 4) throw new RangeError(`vector blob of ${b.length} bytes for dimension ${dim}`);
  return float32s(b);
}

export class VectorStore {
  constructor(private readonly db: Db) {}

  /** The content id (index item) of a hash, created when new. */
  contentId(hash: string): number {
    this.db.prepare('INSERT INTO contents (hash) VALUES (?) ON CONFLICT (hash) DO NOTHING').run(hash);
    return (this.db.prepare('SELECT id FROM contents WHERE hash = ?').get(hash) as { id: number }).id;
  }

  hashOf(contentId: number): string | null {
    return (this.db.prepare('SELECT hash FROM contents WHERE id = ?').get(contentId) as { hash: string } | undefined)?.hash ?? null;
  }

  /**
   * Stores a picture's vectors in one space, replacing any it had (one transaction). Returns the
   * index entries to add; replaced vectors are deleted, which the deletion log records.
   */
  put(space: string, hash: string, vectors: readonly Omit<StoredVector, 'hash'>[]): IndexEntry[] {
    return this.db.transaction(() => {
      const item = this.contentId(hash);
      this.db.prepare('DELETE FROM vectors WHERE space = ? AND content_id = ?').run(space, item);
      const insert = this.db.prepare(
        `INSERT INTO vectors (space, content_id, region, box_x, box_y, box_w, box_h, dim, data, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      return vectors.map((v) => {
        const info = insert.run(space, item, v.region, v.box?.x ?? null, v.box?.y ?? null, v.box?.w ?? null, v.box?.h ?? null, v.vector.length, toBlob(v.vector), Date.now());
        return { id: Number(info.lastInsertRowid), item, region: v.region, vector: v.vector };
      });
    })();
  }

  /** Deletes a picture content and all its vectors in every space. */
  deleteContent(hash: string): void {
    this.db.prepare('DELETE FROM contents WHERE hash = ?').run(hash);
  }

  box(space: string, item: number, region: number): RegionBox | null {
    const r = this.db.prepare('SELECT box_x x, box_y y, box_w w, box_h h FROM vectors WHERE space = ? AND content_id = ? AND region = ?').get(space, item, region) as
      | { x: number | null; y: number | null; w: number | null; h: number | null }
      | undefined;
    return r && r.x !== null && r.y !== null && r.w !== null && r.h !== null ? { x: r.x, y: r.y, w: r.w, h: r.h } : null;
  }

  count(space: string): number {
    return (this.db.prepare('SELECT count(*) n FROM vectors WHERE space = ?').get(space) as { n: number }).n;
  }

  /** A VectorSource over one space, for VectorIndex.open. */
  source(space: string): VectorSource {
    const db = this.db;
    return {
      *entries(afterId: number): Iterable<IndexEntry[]> {
        const page = db.prepare('SELECT id, content_id, region, dim, data FROM vectors WHERE space = ? AND id > ? ORDER BY id LIMIT ?');
        let last = afterId;
        for (;;) {
          const rows = page.all(space, last, BATCH) as VectorRow[];
          if (rows.length === 0) return;
          last = rows[rows.length - 1]!.id;
          yield rows.map((r) => ({ id: r.id, item: r.content_id, region: r.region, vector: fromBlob(r.data, r.dim) }));
        }
      },
      deletions(afterSeq: number): { ids: number[]; lastSeq: number } {
        const rows = db.prepare('SELECT seq, vector_id FROM vector_deletions WHERE space = ? AND seq > ? ORDER BY seq').all(space, afterSeq) as { seq: number; vector_id: number }[];
        const lastSeq = (db.prepare('SELECT coalesce(max(seq), 0) s FROM vector_deletions').get() as { s: number }).s;
        return { ids: rows.map((r) => r.vector_id), lastSeq: Math.max(afterSeq, lastSeq) };
      },
    };
  }

  /** Forgets a space's deletion-log entries its index has applied (other spaces keep theirs until their index opens). */
  pruneDeletions(space: string, appliedSeq: number): void {
    this.db.prepare('DELETE FROM vector_deletions WHERE space = ? AND seq <= ?').run(space, appliedSeq);
  }
}
