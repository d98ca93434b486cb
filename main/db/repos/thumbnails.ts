/** The thumbnails table: which renditions of a content are on disk, and at what length. */
import { Repo } from './repo.js';

export interface ThumbnailRecord {
  readonly size: number;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  readonly format: string;
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

  /** Drops records whose content no photo has any more; returns how many. */
  dropOrphans(): number {
    return this.run('DELETE FROM thumbnails WHERE hash NOT IN (SELECT hash FROM photos WHERE hash IS NOT NULL)').changes;
  }

  /** Every recorded rendition, as `hash-size` keys. */
  keys(): Set<string> {
    return new Set(this.all<{ hash: string; size: number }>('SELECT hash, size FROM thumbnails').map((r) => `${r.hash}-${r.size}`));
  }

  /** Forgets every rendition of these contents (their files are gone; indexing makes them again). */
  forget(hashes: readonly string[]): void {
    this.transaction(() => { for (const h of hashes) this.run('DELETE FROM thumbnails WHERE hash = ?', h); });
  }

  usage(): { files: number; bytes: number } {
    return this.one<{ files: number; bytes: number }>('SELECT COUNT(*) AS files, COALESCE(SUM(bytes), 0) AS bytes FROM thumbnails')!;
  }
}
