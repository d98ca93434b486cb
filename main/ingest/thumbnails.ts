import { existsSync, mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { StorageError } from '../contract/errors.js';
import { THUMBNAIL_SIZES } from '../contract/media.js';
import type { FrameRecord, ThumbnailsRepo } from '../db/repos/thumbnails.js';
import { TMP_SUFFIX, writeFileAtomic } from '../util/atomic.js';
import type { Encoded } from './decoder.js';

/** Renditions made from each photo's decoded pixels, keyed by their size in the thumbnails table. */
export interface Rendition {
  readonly size: number;
  /** inside: the longest side is `size` (what the UI shows); outside: the shortest side is. */
  readonly fit: 'inside' | 'outside';
  readonly quality: number;
}


/**
 * The picture image encoders read: shortest side 224, the input of the CLIP ViT-B packs, so their
 * preprocessing only crops it. Decoding and resampling the 1024-px thumbnail instead cost about a
 * tenth of the model's time per picture, and on a CPU that is time taken from the model (they
 * share the cores). Packs with a larger input read the 1024-px thumbnail.
 */
export const MODEL_INPUT_SIZE = 224;

export const RENDITIONS: readonly Rendition[] = [
  ...THUMBNAIL_SIZES.map((size): Rendition => ({ size, fit: 'inside', quality: size <= 256 ? 80 : 85 })),
  { size: MODEL_INPUT_SIZE, fit: 'outside', quality: 92 },
];

/** A rendition (`<hash>-<size>.jpg`) or a video's frame (`<hash>-f<idx>.jpg`). */
const NAME = /^([0-9a-f]{64})-(\d+|f\d+)\.jpg$/;

/** A video's frame to store: its time, why it was taken, and its JPEG at the model's input size. */
export interface FrameFile {
  readonly atMs: number;
  readonly scene: boolean;
  readonly jpeg: Buffer;
  readonly width: number;
  readonly height: number;
}

/** A stored frame and where its file is. */
export interface StoredFrame extends FrameRecord {
  readonly path: string;
}

/** Thumbnails on disk, named by content hash and size, so copies and moved files share them. */
export class ThumbnailStore {
  constructor(readonly dir: string, private readonly records: ThumbnailsRepo) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      // A read-only library may have no thumbnails yet: nothing to show, nothing to write.
      if (!existsSync(dir) && records.writable) throw new StorageError(dir, err);
    }
  }

  pathFor(hash: string, size: number): string {
    return join(this.dir, hash.slice(0, 2), `${hash}-${size}.jpg`);
  }

  /**
   * The picture an encoder reads: the smallest stored one it does not have to enlarge (the
   * model-input picture for inputs up to its size, else the 1024-px thumbnail), or the original
   * file for pictures indexed before either existed.
   */
  encoderInput(hash: string, original: string, need: number): string {
    for (const size of need <= MODEL_INPUT_SIZE ? [MODEL_INPUT_SIZE, 1024] : [1024]) {
      const path = this.pathFor(hash, size);
      if (existsSync(path)) return path;
    }
    return original;
  }

  framePath(hash: string, idx: number): string {
    return join(this.dir, hash.slice(0, 2), `${hash}-f${idx}.jpg`);
  }

  /** Writes a video's frames (recorded with recordFrames in the photo's transaction, as renditions are). */
  async writeFrames(hash: string, frames: readonly FrameFile[]): Promise<void> {
    const shard = join(this.dir, hash.slice(0, 2));
    try {
      mkdirSync(shard, { recursive: true });
      await Promise.all(frames.map((f, i) => writeFileAtomic(this.framePath(hash, i), f.jpeg, { durable: false })));
    } catch (err) {
      throw new StorageError(shard, err);
    }
  }

  recordFrames(hash: string, frames: readonly FrameFile[]): void {
    this.records.recordFrames(hash, frames.map((f, idx) => ({
      idx, atMs: f.atMs, scene: f.scene, width: f.width, height: f.height, bytes: f.jpeg.length,
    })));
  }

  /** A video's stored frames, in time order (none for a picture, or a video indexed before frames were sampled). */
  frames(hash: string): StoredFrame[] {
    return this.records.frames(hash).map((f) => ({ ...f, path: this.framePath(hash, f.idx) }));
  }

  frameExists(frame: StoredFrame): boolean {
    return existsSync(frame.path);
  }

  /** Whether one rendition's file is on disk. */
  hasFile(hash: string, size: number): boolean {
    return existsSync(this.pathFor(hash, size));
  }

  /** True when every rendition is recorded and on disk at its recorded length. */
  has(hash: string): boolean {
    const rows = this.records.ofHash(hash);
    if (rows.length < RENDITIONS.length) return false;
    return rows.every((r) => {
      try { return statSync(this.pathFor(hash, r.size)).size === r.bytes; } catch { return false; }
    });
  }

  /**
   * Writes the files; the caller records them in the same transaction as the photo. Written new
   * and renamed, never fsynced: this is a cache, and has() finds and the indexer remakes a file
   * that a power cut truncated. fsyncs would hold the thread pool that decoding runs on.
   */
  async write(hash: string, thumbs: readonly Encoded[]): Promise<void> {
    const shard = join(this.dir, hash.slice(0, 2));
    try {
      mkdirSync(shard, { recursive: true });
      await Promise.all(thumbs.map((t) => writeFileAtomic(this.pathFor(hash, t.size), t.data, { durable: false })));
    } catch (err) {
      // The library's own folder failed, not the photo.
      throw new StorageError(shard, err);
    }
  }

  record(hash: string, thumbs: readonly Encoded[]): void {
    this.records.record(
      hash,
      thumbs.map((t) => ({ size: t.size, width: t.width, height: t.height, bytes: t.data.length, format: t.format })),
    );
  }

  /**
   * Makes disk and database agree. Drops records whose content no photo has any more; with
   * `sweep`, also deletes files no record names (left by a crash between writing a file and
   * committing its row) and repairs records whose file is gone, returning the contents that need
   * their thumbnails made again. Sweeping is only safe while no other process is indexing: its
   * written but not yet committed files look exactly like a crash's leftovers.
   */
  collectGarbage(opts: { sweep: boolean }): { removedFiles: number; removedRows: number; missing: string[] } {
    const removedRows = this.records.dropOrphans();
    if (!opts.sweep) return { removedFiles: 0, removedRows, missing: [] };
    const known = this.records.keys();
    const present = new Set<string>();
    let removedFiles = 0;
    for (const sub of readdirSync(this.dir)) {
      const subdir = join(this.dir, sub);
      if (!statSync(subdir).isDirectory()) continue;
      for (const name of readdirSync(subdir)) {
        const m = NAME.exec(name);
        if (m && known.has(`${m[1]}-${m[2]}`)) {
          present.add(`${m[1]}-${m[2]}`);
          continue;
        }
        if (!m && !name.endsWith(TMP_SUFFIX)) continue; // not ours: leave it alone
        try { unlinkSync(join(subdir, name)); removedFiles++; } catch { /* raced with another sweep */ }
      }
    }
    const gone = [...known].filter((k) => !present.has(k));
    const missing = [...new Set(gone.map((k) => k.slice(0, k.lastIndexOf('-'))))];
    this.records.forget(missing);
    return { removedFiles, removedRows, missing };
  }

  usage(): { files: number; bytes: number } {
    return this.records.usage();
  }
}
