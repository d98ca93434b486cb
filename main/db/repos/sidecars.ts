/**
 * What Loupe writes into photos' XMP sidecars when the user turns it on: the keywords each photo
 * should carry (its albums and the categories it was taught as an example of), and what was
 * written last, so a change writes only the sidecars that differ and takes back only its own words.
 */
import { Repo } from './repo.js';

/** The hierarchical keyword roots Loupe writes under (Lightroom's and digiKam's `|` separator). */
export const ALBUMS_ROOT = 'Loupe|Albums|';
export const CATEGORIES_ROOT = 'Loupe|Categories|';

/** What Loupe wrote into one sidecar. */
export interface Written {
  /** Hierarchical keywords (lr:hierarchicalSubject), each under ALBUMS_ROOT or CATEGORIES_ROOT. */
  readonly hierarchical: readonly string[];
  /** Plain keywords (dc:subject) Loupe added — the ones the sidecar did not have already. */
  readonly added: readonly string[];
}

export interface SidecarState {
  readonly photoId: number;
  readonly path: string;
  /** The hierarchical keywords it should carry now (sorted). */
  readonly wanted: readonly string[];
  /** What was written last, and where (null: never). */
  readonly last: { readonly sidecar: string; readonly written: Written } | null;
}

export class SidecarsRepo extends Repo {
  /**
   * Every photo that has Loupe keywords now or had them written: manual albums (a smart album is
   * a query, not a choice of photos) and the positive examples of taught categories. A `|` in a
   * name would split the hierarchy, so it is written as `/`.
   */
  states(): SidecarState[] {
    const rows = this.all<{ photo_id: number; path: string; keyword: string | null; sidecar: string | null; written: string | null }>(`
      WITH wanted AS (
        SELECT i.photo_id, '${ALBUMS_ROOT}' || replace(a.name, '|', '/') AS keyword
          FROM album_items i JOIN albums a ON a.id = i.album_id WHERE a.query IS NULL
        UNION
        SELECT e.photo_id, '${CATEGORIES_ROOT}' || replace(c.name, '|', '/')
          FROM user_category_examples e JOIN user_categories c ON c.id = e.category_id WHERE e.positive = 1
      ), touched AS (SELECT photo_id FROM wanted UNION SELECT photo_id FROM sidecar_writes)
      SELECT p.id AS photo_id, p.path, w.keyword, s.sidecar, s.written
        FROM touched t JOIN photos p ON p.id = t.photo_id
        LEFT JOIN wanted w ON w.photo_id = p.id LEFT JOIN sidecar_writes s ON s.photo_id = p.id
       WHERE p.state = 'ok' AND p.path_raw IS NULL
       ORDER BY p.id, w.keyword`);
    const out = new Map<number, { photoId: number; path: string; wanted: string[]; last: SidecarState['last'] }>();
    for (const r of rows) {
      let s = out.get(r.photo_id);
      if (!s) {
        const last = r.sidecar && r.written ? { sidecar: r.sidecar, written: JSON.parse(r.written) as Written } : null;
        s = { photoId: r.photo_id, path: r.path, wanted: [], last };
        out.set(r.photo_id, s);
      }
      if (r.keyword !== null) s.wanted.push(r.keyword);
    }
    return [...out.values()];
  }

  record(photoId: number, sidecar: string, written: Written, now: number): void {
    if (written.hierarchical.length === 0) {
      this.run('DELETE FROM sidecar_writes WHERE photo_id = ?', photoId);
      return;
    }
    this.run(`INSERT INTO sidecar_writes (photo_id, sidecar, written, written_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (photo_id) DO UPDATE SET sidecar = excluded.sidecar, written = excluded.written, written_at = excluded.written_at`,
    photoId, sidecar, JSON.stringify(written), now);
  }
}
