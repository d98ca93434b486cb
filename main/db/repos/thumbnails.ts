/** The thumbnails table: which renditions of a content are on disk, and at what length. */
import { Repo } from './repo.js';

export interface ThumbnailRecord {
  readonly size: number;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  readonly format: string;
}

/** A frame sampled from a video (its file: `<hash>-f<idx>.jpg`). */
export interface FrameRecord {
  readonly idx: number;
  readonly atMs: number;
  readonly scene: boolean;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
}

export class ThumbnailsRepo extends Repo {
  ofHash(hash: string): { size: number; bytes: number }[] {
    return this.all('SELECT size, bytes FROM thumbnails WHERE hash = ?', hash);
  }

  record(hash: string, thumbs: readonly ThumbnailRecord[]): void {
    for (const t of thumbs) {
      this.run('INSERT OR REPLACE INTO thumbnails (hash, size, width, height, bytes, format) VALUES (?, ?, ?, ?, ?, ?)',
        hash, t.size, t.width, t.height, t.bytes, t.format);
    }
  }

  /** A video's frames, replacing any it had. */
  recordFrames(hash: string, frames: readonly FrameRecord[]): void {
    this.run('DELETE FROM video_frames WHERE hash = ?', hash);
    for (const f of frames) {
      this.run('INSERT INTO video_frames (hash, idx, at_ms, scene, width, height, bytes) VALUES (?, ?, ?, ?, ?, ?, ?)',
        hash, f.idx, f.atMs, f.scene ? 1 : 0, f.width, f.height, f.bytes);
    }
  }

  /** A video's frames in time order (none for a picture). */
  frames(hash: string): FrameRecord[] {
    return this.all<{ idx: number; at_ms: number; scene: number; width: number; height: number; bytes: number }>(
      'SELECT idx, at_ms, scene, width, height, bytes FROM video_frames WHERE hash = ? ORDER BY at_ms, idx', hash)
      .map((r) => ({ idx: r.idx, atMs: r.at_ms, scene: r.scene === 1, width: r.width, height: r.height, bytes: r.bytes }));
  }

  /** Drops records whose content no photo has any more; returns how many. */
  dropOrphans(): number {
    const orphan = 'hash NOT IN (SELECT hash FROM photos WHERE hash IS NOT NULL)';
    return this.run(`DELETE FROM thumbnails WHERE ${orphan}`).changes + this.run(`DELETE FROM video_frames WHERE ${orphan}`).changes;
  }

  /** Every recorded file: renditions as `hash-size`, frames as `hash-f<idx>` (their file names without .jpg). */
  keys(): Set<string> {
    const renditions = this.all<{ hash: string; size: number }>('SELECT hash, size FROM thumbnails').map((r) => `${r.hash}-${r.size}`);
    const frames = this.all<{ hash: string; idx: number }>('SELECT hash, idx FROM video_frames').map((r) => `${r.hash}-f${r.idx}`);
    return new Set([...renditions, ...frames]);
  }

  /** Forgets every rendition and frame of these contents (their files are gone; indexing makes them again). */
  forget(hashes: readonly string[]): void {
    this.transaction(() => {
      for (const h of hashes) {
        this.run('DELETE FROM thumbnails WHERE hash = ?', h);
        this.run('DELETE FROM video_frames WHERE hash = ?', h);
      }
    });
  }

  usage(): { files: number; bytes: number } {
    return this.one<{ files: number; bytes: number }>(`SELECT COUNT(*) AS files, COALESCE(SUM(bytes), 0) AS bytes
      FROM (SELECT bytes FROM thumbnails UNION ALL SELECT bytes FROM video_frames)`)!;
  }
}
