/**
 * The photos table: one row per identity (a moved or renamed file keeps its row), its file's
 * place and stat, what was derived from its content, and its state in the indexing pipeline.
 */
import { basename } from 'node:path';
import type { PhotoRecord, PhotoRegion, PhotoState } from '../../contract/api.js';
import { Repo } from './repo.js';


export interface PhotoRow {
  readonly id: number;
  readonly folder_id: number;
  readonly path: string;
  readonly path_raw: Buffer | null;
  readonly size: number;
  readonly mtime_ms: number;
  readonly ctime_ms: number;
  readonly hash: string | null;
  readonly format: string | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly orientation: number | null;
  readonly taken_at: string | null;
  readonly taken_at_ms: number | null;
  readonly taken_at_source: 'exif' | 'file' | null;
  readonly camera_make: string | null;
  readonly camera_model: string | null;
  readonly lens: string | null;
  readonly gps_lat: number | null;
  readonly gps_lon: number | null;
  readonly gps_alt: number | null;
  readonly state: PhotoState;
  readonly error: string | null;
  readonly missing_since: number | null;
  readonly added_at: number;
  readonly indexed_at: number | null;
  readonly title: string | null;
  readonly description: string | null;
  readonly rating: number | null;
  readonly label: string | null;
  readonly meta_problem: string | null;
  readonly companion_of: number | null;
  readonly duration_ms: number | null;
  readonly content_identifier: string | null;
}

/** A photo row with the id of its content (the vector index's item). */
export type PhotoWithContent = PhotoRow & { readonly content_id: number };

/** What the scanner knows of a file it has seen before. */
export type KnownFile = Pick<PhotoRow, 'id' | 'path' | 'path_raw' | 'size' | 'mtime_ms' | 'ctime_ms' | 'state' | 'hash' | 'added_at'>;

/** A path's identity: its exact bytes (two names may read the same as text). */
export function pathKey(text: string, raw: Buffer | null): string {
  return raw ? `\u0000${raw.toString('hex')}` : text;
}

/** What the indexer derives from a photo's content: identical for identical bytes. */
export type DerivedColumns = Pick<PhotoRecord,
  'takenAt' | 'takenAtMs' | 'takenAtSource' | 'cameraMake' | 'cameraModel' | 'lens' | 'gpsLat' | 'gpsLon' | 'gpsAlt'> & {
  readonly format: string;
  readonly width: number;
  readonly height: number;
  readonly orientation: number;
  /** A video's length; null for a picture. */
  readonly durationMs: number | null;
  /** Apple's Live Photo content identifier (the picture's and the video's are the same). */
  readonly contentIdentifier: string | null;
};

/** What people wrote about a photo (its XMP, IPTC, sidecar), as the indexer read it. */
export interface Descriptors {
  readonly title: string | null;
  readonly description: string | null;
  /** 0–5 stars; -1 is "rejected" in Lightroom. */
  readonly rating: number | null;
  readonly label: string | null;
  /** Keywords, hierarchical ones as their full path ("Places|Portugal|Lisbon") and as each level, and people named on regions. */
  readonly keywords: readonly string[];
  /** Regions drawn on it (MWG and Microsoft schemas), boxes as fractions of the picture as displayed. */
  readonly regions: readonly PhotoRegion[];
  /** Why the sidecar could not be read, when it could not (the photo is indexed all the same). */
  readonly problem: string | null;
}

/** A file the scanner found, as the photos table stores it. */
export interface FoundRow {
  readonly path: string;
  readonly pathRaw: Buffer | null;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly state: 'pending' | 'error';
  readonly error: string | null;
}

export function toRecord(r: PhotoRow): PhotoRecord {
  return {
    id: r.id, folderId: r.folder_id, path: r.path, size: r.size, mtimeMs: r.mtime_ms, hash: r.hash,
    format: r.format, width: r.width, height: r.height, orientation: r.orientation,
    takenAt: r.taken_at, takenAtMs: r.taken_at_ms, takenAtSource: r.taken_at_source,
    cameraMake: r.camera_make, cameraModel: r.camera_model, lens: r.lens,
    gpsLat: r.gps_lat, gpsLon: r.gps_lon, gpsAlt: r.gps_alt, state: r.state, error: r.error,
    title: r.title ?? null, description: r.description ?? null, rating: r.rating ?? null, label: r.label ?? null,
    durationMs: r.duration_ms ?? null,
  };
}

export function derivedFromRow(r: PhotoRow): DerivedColumns {
  return {
    format: r.format ?? 'unknown', width: r.width ?? 0, height: r.height ?? 0, orientation: r.orientation ?? 1,
    takenAt: r.taken_at, takenAtMs: r.taken_at_ms, takenAtSource: r.taken_at_source,
    cameraMake: r.camera_make, cameraModel: r.camera_model, lens: r.lens, gpsLat: r.gps_lat, gpsLon: r.gps_lon, gpsAlt: r.gps_alt,
    durationMs: r.duration_ms ?? null, contentIdentifier: r.content_identifier ?? null,
  };
}

const UNCHANGED = 'id = ? AND state = \'pending\' AND size = ? AND mtime_ms = ?';

/** A file that may be one of a pair (pairs.ts). */
export interface PairCandidate {
  readonly id: number;
  readonly path: string;
  readonly state: PhotoState;
  readonly companion_of: number | null;
  readonly content_identifier: string | null;
}

export class PhotosRepo extends Repo {
  byId(id: number): PhotoRow | undefined {
    return this.one<PhotoRow>('SELECT * FROM photos WHERE id = ?', id);
  }

  exists(id: number): boolean {
    return this.one('SELECT 1 FROM photos WHERE id = ?', id) !== undefined;
  }

  /** Indexed photos of a content, by id. */
  okByContent(contentId: number): PhotoRow[] {
    return this.all<PhotoRow>(`SELECT p.* FROM photos p JOIN contents c ON c.hash = p.hash WHERE c.id = ? AND p.state = 'ok' ORDER BY p.id`, contentId);
  }

  /** A photo's content (its id, hash and the file's path), when it has been indexed. */
  contentOf(photoId: number): { contentId: number; hash: string; path: string } | undefined {
    return this.one('SELECT c.id AS contentId, p.hash, p.path FROM photos p JOIN contents c ON c.hash = p.hash WHERE p.id = ?', photoId);
  }

  stateCounts(): Record<PhotoState, number> {
    const counts: Record<PhotoState, number> = { pending: 0, ok: 0, error: 0, missing: 0 };
    for (const r of this.all<{ state: PhotoState; n: number }>('SELECT state, COUNT(*) AS n FROM photos GROUP BY state')) counts[r.state] = r.n;
    return counts;
  }

  errors(limit: number): { id: number; path: string; error: string }[] {
    return this.all(`SELECT id, path, error FROM photos WHERE state = 'error' ORDER BY path LIMIT ?`, limit);
  }

  // ---- the scanner's side ----

  /** Known files of a folder whose path starts with `prefix` (a range on the path index). */
  under(folderId: number, prefix: string): KnownFile[] {
    // Every string that starts with prefix sorts in [prefix, prefix + U+10FFFF).
    return this.all<KnownFile>(`SELECT id, path, path_raw, size, mtime_ms, ctime_ms, state, hash, added_at FROM photos
                                WHERE folder_id = ? AND path >= ? AND path < ?`, folderId, prefix, prefix + '\u{10FFFF}');
  }

  insertFound(folderId: number, f: FoundRow, now: number): void {
    this.run(`INSERT INTO photos (folder_id, path, path_raw, size, mtime_ms, ctime_ms, state, error, added_at)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
              ON CONFLICT(path_key) DO UPDATE SET folder_id = excluded.folder_id, path = excluded.path, path_raw = excluded.path_raw,
                size = excluded.size, mtime_ms = excluded.mtime_ms, ctime_ms = excluded.ctime_ms,
                state = excluded.state, error = excluded.error, missing_since = NULL`,
    folderId, f.path, f.pathRaw, f.size, f.mtimeMs, f.ctimeMs, f.state, f.error, now);
  }

  updateFound(id: number, f: FoundRow): void {
    this.run('UPDATE photos SET size = ?, mtime_ms = ?, ctime_ms = ?, state = ?, error = ?, missing_since = NULL WHERE id = ?',
      f.size, f.mtimeMs, f.ctimeMs, f.state, f.error, id);
  }

  // ---- the indexer's side ----

  countPending(): number {
    return this.one<{ n: number }>(`SELECT COUNT(*) AS n FROM photos WHERE state = 'pending'`)!.n;
  }

  pendingAfter(afterId: number, limit: number): PhotoRow[] {
    return this.all<PhotoRow>(`SELECT * FROM photos WHERE state = 'pending' AND id > ? ORDER BY id LIMIT ?`, afterId, limit);
  }

  /** A decoded photo with this content, whose derived fields a copy can reuse. */
  donor(hash: string): PhotoRow | undefined {
    return this.one<PhotoRow>(`SELECT * FROM photos WHERE hash = ? AND width IS NOT NULL AND state != 'error' LIMIT 1`, hash);
  }

  /** Records an indexed photo, unless the scanner changed its row meanwhile: false then, and nothing is written. */
  setOk(row: Pick<PhotoRow, 'id' | 'size' | 'mtime_ms'>, hash: string, d: DerivedColumns, now: number): boolean {
    return this.run(`UPDATE photos SET hash = ?, (format, width, height, orientation, taken_at, taken_at_ms, taken_at_source,
        camera_make, camera_model, lens, gps_lat, gps_lon, gps_alt, duration_ms, content_identifier) = (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),
        state = 'ok', error = NULL, missing_since = NULL, indexed_at = ?
      WHERE ${UNCHANGED}`,
    hash, d.format, d.width, d.height, d.orientation, d.takenAt, d.takenAtMs, d.takenAtSource,
    d.cameraMake, d.cameraModel, d.lens, d.gpsLat, d.gpsLon, d.gpsAlt, d.durationMs, d.contentIdentifier,
    now, row.id, row.size, row.mtime_ms).changes > 0;
  }

  /** What the photo's file and sidecar say about it (keywords replaced as a whole). */
  setDescriptors(id: number, d: Descriptors): void {
    this.run('UPDATE photos SET title = ?, description = ?, rating = ?, label = ?, meta_problem = ? WHERE id = ?',
      d.title, d.description, d.rating, d.label, d.problem, id);
    this.run('DELETE FROM photo_keywords WHERE photo_id = ?', id);
    for (const k of d.keywords) this.run('INSERT OR IGNORE INTO photo_keywords (photo_id, keyword) VALUES (?, ?)', id, k);
    this.run('DELETE FROM photo_regions WHERE photo_id = ?', id);
    d.regions.forEach((r, i) => this.run('INSERT INTO photo_regions (photo_id, idx, name, kind, x, y, w, h) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      id, i, r.name, r.kind, r.box.x, r.box.y, r.box.w, r.box.h));
  }

  regions(id: number): PhotoRegion[] {
    return this.all<{ name: string | null; kind: string | null; x: number; y: number; w: number; h: number }>(
      'SELECT name, kind, x, y, w, h FROM photo_regions WHERE photo_id = ? ORDER BY idx', id)
      .map((r) => ({ name: r.name, kind: r.kind, box: { x: r.x, y: r.y, w: r.w, h: r.h } }));
  }

  keywords(id: number): string[] {
    return this.all<{ keyword: string }>('SELECT keyword FROM photo_keywords WHERE photo_id = ? ORDER BY keyword', id).map((r) => r.keyword);
  }

  /** The places and states of a folder's photos whose path starts with `prefix`, for finding pairs (pairs.ts). */
  pairCandidates(folderId: number, prefix: string): PairCandidate[] {
    // The same range on the path index as `under`.
    return this.all('SELECT id, path, state, companion_of, content_identifier FROM photos WHERE folder_id = ? AND path >= ? AND path < ?',
      folderId, prefix, prefix + '\u{10FFFF}');
  }

  setCompanion(id: number, of: number | null): void {
    this.run('UPDATE photos SET companion_of = ? WHERE id = ?', of, id);
  }

  /** A pair's picture is gone: its companion takes its places in albums, so the photo stays in them. */
  takeAlbumPlaces(from: number, to: number): void {
    this.run(`INSERT OR IGNORE INTO album_items (album_id, photo_id, position, added_at)
              SELECT album_id, ?, position, added_at FROM album_items WHERE photo_id = ?`, to, from);
  }

  /** The files that are one photo with this one (a RAW beside its JPEG). */
  companions(id: number): { id: number; path: string; format: string | null }[] {
    return this.all(`SELECT id, path, format FROM photos WHERE companion_of = ? AND state != 'missing' ORDER BY path`, id);
  }

  /** Photos whose sidecar could not be read, with why. */
  metaProblems(limit: number): { id: number; path: string; problem: string }[] {
    return this.all(`SELECT id, path, meta_problem AS problem FROM photos WHERE meta_problem IS NOT NULL ORDER BY path LIMIT ?`, limit);
  }

  /** Records why a photo could not be indexed, unless the scanner changed its row meanwhile. */
  setError(row: Pick<PhotoRow, 'id' | 'size' | 'mtime_ms'>, hash: string | null, reason: string, now: number): void {
    this.run(`UPDATE photos SET hash = ?, state = 'error', error = ?, indexed_at = ? WHERE ${UNCHANGED}`, hash, reason, now, row.id, row.size, row.mtime_ms);
  }

  stillPending(row: Pick<PhotoRow, 'id' | 'size' | 'mtime_ms'>): boolean {
    return this.one(`SELECT 1 FROM photos WHERE ${UNCHANGED}`, row.id, row.size, row.mtime_ms) !== undefined;
  }

  /** Puts photos whose recorded error starts with `prefix` back to pending; returns how many. */
  retryFailures(prefix: string): number {
    return this.run(`UPDATE photos SET state = 'pending', error = NULL WHERE state = 'error' AND substr(error, 1, ?) = ?`, prefix.length, prefix).changes;
  }

  /** Indexed photos of these contents go back to pending (their thumbnails are to be made again); returns how many. */
  requeue(hashes: readonly string[]): number {
    return this.transaction(() => hashes.reduce((n, h) => n + this.run(`UPDATE photos SET state = 'pending' WHERE hash = ? AND state = 'ok'`, h).changes, 0));
  }

  isMissing(id: number): boolean {
    return this.one(`SELECT 1 FROM photos WHERE id = ? AND state = 'missing'`, id) !== undefined;
  }

  // ---- identity across moves ----

  /**
   * Picks, among missing photos with this content, the one a new file most likely is: same file
   * name first (a move), then the oldest (a rename).
   */
  missingTwin(hash: string, excludeId: number, path: string): PhotoRow | undefined {
    // Only rows that were decoded: a merge keeps the kept row's derived fields (size, date, camera).
    const rows = this.all<PhotoRow>(`SELECT * FROM photos WHERE hash = ? AND state = 'missing' AND width IS NOT NULL AND id != ? ORDER BY id`, hash, excludeId);
    const name = basename(path);
    return rows.find((r) => basename(r.path) === name) ?? rows[0];
  }

  /**
   * Moves the file location of photo `fromId` onto photo `keepId` and deletes `fromId`; album
   * entries and tags of both end up on `keepId`. This is how a moved or renamed file keeps its
   * identity.
   */
  mergeInto(keepId: number, fromId: number): void {
    this.transaction(() => {
      const from = this.byId(fromId);
      if (!from) return;
      this.run(`INSERT OR IGNORE INTO album_items (album_id, photo_id, position, added_at)
                SELECT album_id, ?, position, added_at FROM album_items WHERE photo_id = ?`, keepId, fromId);
      this.run(`INSERT OR IGNORE INTO tags (photo_id, name, added_at) SELECT ?, name, added_at FROM tags WHERE photo_id = ?`, keepId, fromId);
      this.run('DELETE FROM photos WHERE id = ?', fromId);
      this.run(`UPDATE photos SET folder_id = ?, path = ?, path_raw = ?, size = ?, mtime_ms = ?, ctime_ms = ?,
                  state = 'ok', error = NULL, missing_since = NULL WHERE id = ?`,
      from.folder_id, from.path, from.path_raw, from.size, from.mtime_ms, from.ctime_ms, keepId);
    });
  }

  /**
   * Marks a photo whose file is gone as missing. When the same content is already indexed under a
   * newer row (the file was moved and its new place was seen first), the newer location folds into
   * this older identity instead, so nothing attached to it is lost.
   */
  markMissing(row: Pick<PhotoRow, 'id' | 'hash' | 'added_at'>, now: number): 'missing' | 'merged' {
    if (row.hash) {
      const twin = this.one<{ id: number }>(`SELECT id FROM photos WHERE hash = ? AND id != ? AND state = 'ok' AND added_at >= ?
                                             ORDER BY added_at DESC LIMIT 1`, row.hash, row.id, row.added_at);
      if (twin) {
        this.mergeInto(row.id, twin.id);
        return 'merged';
      }
    }
    this.run(`UPDATE photos SET state = 'missing', missing_since = ? WHERE id = ?`, now, row.id);
    return 'missing';
  }
}
