import type { PhotoRecord, PhotoState } from '../contract/api.js';
import type { Db } from '../db/database.js';
import { basename } from 'node:path';

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
}

export function toRecord(r: PhotoRow): PhotoRecord {
  return {
    id: r.id, folderId: r.folder_id, path: r.path, size: r.size, mtimeMs: r.mtime_ms, hash: r.hash,
    format: r.format, width: r.width, height: r.height, orientation: r.orientation,
    takenAt: r.taken_at, takenAtMs: r.taken_at_ms, takenAtSource: r.taken_at_source,
    cameraMake: r.camera_make, cameraModel: r.camera_model, lens: r.lens,
    gpsLat: r.gps_lat, gpsLon: r.gps_lon, gpsAlt: r.gps_alt, state: r.state, error: r.error,
  };
}

export function photoById(db: Db, id: number): PhotoRow | undefined {
  return db.prepare('SELECT * FROM photos WHERE id = ?').get(id) as PhotoRow | undefined;
}

/**
 * Picks, among missing photos with this content, the one a new file most likely is: same file
 * name first (a move), then the oldest (a rename).
 */
export function missingTwin(db: Db, hash: string, excludeId: number, path: string): PhotoRow | undefined {
  // Only rows that were decoded: a merge keeps the kept row's derived fields (size, date, camera).
  const rows = db.prepare(`SELECT * FROM photos WHERE hash = ? AND state = 'missing' AND width IS NOT NULL AND id != ? ORDER BY id`)
    .all(hash, excludeId) as PhotoRow[];
  const name = basename(path);
  return rows.find((r) => basename(r.path) === name) ?? rows[0];
}

/**
 * Moves the file location of photo `fromId` onto photo `keepId` and deletes `fromId`; album
 * entries and tags of both end up on `keepId`. This is how a moved or renamed file keeps its
 * identity. Must run inside a transaction.
 */
export function mergeInto(db: Db, keepId: number, fromId: number): void {
  const from = photoById(db, fromId);
  if (!from) return;
  db.prepare(`INSERT OR IGNORE INTO album_items (album_id, photo_id, position, added_at)
              SELECT album_id, ?, position, added_at FROM album_items WHERE photo_id = ?`).run(keepId, fromId);
  db.prepare(`INSERT OR IGNORE INTO tags (photo_id, name, added_at)
              SELECT ?, name, added_at FROM tags WHERE photo_id = ?`).run(keepId, fromId);
  db.prepare('DELETE FROM photos WHERE id = ?').run(fromId);
  db.prepare(`UPDATE photos SET folder_id = ?, path = ?, path_raw = ?, size = ?, mtime_ms = ?, ctime_ms = ?,
                state = 'ok', error = NULL, missing_since = NULL WHERE id = ?`)
    .run(from.folder_id, from.path, from.path_raw, from.size, from.mtime_ms, from.ctime_ms, keepId);
}

/**
 * Marks a photo whose file is gone as missing. When the same content is already indexed under a
 * newer row (the file was moved and its new place was seen first), the newer location folds into
 * this older identity instead, so nothing attached to it is lost.
 */
export function markMissing(db: Db, row: Pick<PhotoRow, 'id' | 'hash' | 'added_at'>, now: number): 'missing' | 'merged' {
  if (row.hash) {
    const twin = db.prepare(`SELECT id FROM photos WHERE hash = ? AND id != ? AND state = 'ok' AND added_at >= ?
                             ORDER BY added_at DESC LIMIT 1`).get(row.hash, row.id, row.added_at) as { id: number } | undefined;
    if (twin) {
      mergeInto(db, row.id, twin.id);
      return 'merged';
    }
  }
  db.prepare(`UPDATE photos SET state = 'missing', missing_since = ? WHERE id = ?`).run(now, row.id);
  return 'missing';
}
