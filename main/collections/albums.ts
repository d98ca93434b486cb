/**
 * Albums: named, ordered sets of photos (by photo id, so they follow files through moves and
 * renames), and smart albums defined by a saved query that is run when the album is opened.
 */
import type { AlbumInfo, SearchRequest } from '../contract/api.js';
import type { Db } from '../db/database.js';
import { parseSearchRequest } from '../contract/search-request.js';
import { UserError } from '../contract/errors.js';

/** The user's to act on (see contract/errors.ts). */
export class AlbumError extends UserError {}

interface AlbumRow {
  id: number;
  name: string;
  query: string | null;
  created_at: number;
  updated_at: number;
  count: number;
  cover: number | null;
}

const SELECT = `SELECT a.id, a.name, a.query, a.created_at, a.updated_at,
  (SELECT count(*) FROM album_items i JOIN photos p ON p.id = i.photo_id AND p.state != 'error' WHERE i.album_id = a.id) AS count,
  (SELECT i.photo_id FROM album_items i JOIN photos p ON p.id = i.photo_id AND p.state = 'ok' WHERE i.album_id = a.id ORDER BY i.position, i.photo_id LIMIT 1) AS cover
  FROM albums a`;

function toInfo(r: AlbumRow): AlbumInfo {
  return {
    id: r.id, name: r.name, query: r.query === null ? null : parseSearchRequest(JSON.parse(r.query)),
    count: r.count, coverPhotoId: r.cover, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

function cleanName(name: string): string {
  const n = name.trim().replace(/\s+/g, ' ');
  if (n.length === 0 || n.length > 200) throw new AlbumError('an album needs a name of 1 to 200 characters');
  return n;
}

export function listAlbums(db: Db): AlbumInfo[] {
  return (db.prepare(`${SELECT} ORDER BY a.position, a.id`).all() as AlbumRow[]).map(toInfo);
}

export function getAlbum(db: Db, id: number): AlbumInfo {
  const r = db.prepare(`${SELECT} WHERE a.id = ?`).get(id) as AlbumRow | undefined;
  if (!r) throw new AlbumError(`no album with id ${id}`);
  return toInfo(r);
}

/** An album by id, or by its exact name (case-insensitive) — the CLI takes either. */
export function findAlbum(db: Db, ref: string | number): AlbumInfo {
  if (typeof ref === 'number' || /^\d+$/.test(ref)) return getAlbum(db, Number(ref));
  const r = db.prepare('SELECT id FROM albums WHERE lower(name) = lower(?) ORDER BY id').all(ref.trim()) as { id: number }[];
  if (r.length === 0) throw new AlbumError(`no album named ${JSON.stringify(ref)}`);
  if (r.length > 1) throw new AlbumError(`several albums are named ${JSON.stringify(ref)}; use the id (${r.map((x) => x.id).join(', ')})`);
  return getAlbum(db, r[0]!.id);
}

export function createAlbum(db: Db, name: string, query?: SearchRequest): AlbumInfo {
  const now = Date.now();
  const q = query === undefined ? null : JSON.stringify(parseSearchRequest(query));
  const pos = (db.prepare('SELECT coalesce(max(position), 0) + 1 AS p FROM albums').get() as { p: number }).p;
  const id = Number(db.prepare('INSERT INTO albums (name, query, position, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(cleanName(name), q, pos, now, now).lastInsertRowid);
  return getAlbum(db, id);
}

export function renameAlbum(db: Db, id: number, name: string): AlbumInfo {
  getAlbum(db, id);
  db.prepare('UPDATE albums SET name = ?, updated_at = ? WHERE id = ?').run(cleanName(name), Date.now(), id);
  return getAlbum(db, id);
}

export function setAlbumQuery(db: Db, id: number, query: SearchRequest | null): AlbumInfo {
  getAlbum(db, id);
  db.prepare('UPDATE albums SET query = ?, updated_at = ? WHERE id = ?').run(query === null ? null : JSON.stringify(parseSearchRequest(query)), Date.now(), id);
  return getAlbum(db, id);
}

export function deleteAlbum(db: Db, id: number): void {
  if (db.prepare('DELETE FROM albums WHERE id = ?').run(id).changes === 0) throw new AlbumError(`no album with id ${id}`);
}

function plain(db: Db, id: number): AlbumInfo {
  const a = getAlbum(db, id);
  if (a.query !== null) throw new AlbumError(`album ${a.name} is a smart album: its photos come from its query`);
  return a;
}

/**
 * Adds photos, at the end or before `beforePhotoId`, in the order given; photos already in the
 * album move to the new place. One transaction: all or nothing.
 */
export function addToAlbum(db: Db, id: number, photoIds: readonly number[], beforePhotoId?: number): AlbumInfo {
  plain(db, id);
  db.transaction(() => {
    const exists = db.prepare('SELECT 1 FROM photos WHERE id = ?');
    for (const p of photoIds) if (!exists.get(p)) throw new AlbumError(`no photo with id ${p}`);
    const items = albumPhotoIds(db, id).filter((p) => !photoIds.includes(p));
    const at = beforePhotoId === undefined ? items.length : Math.max(0, items.indexOf(beforePhotoId));
    const order = [...items.slice(0, at), ...new Set(photoIds), ...items.slice(at)];
    writeOrder(db, id, order);
  })();
  return getAlbum(db, id);
}

export function removeFromAlbum(db: Db, id: number, photoIds: readonly number[]): AlbumInfo {
  plain(db, id);
  const del = db.prepare('DELETE FROM album_items WHERE album_id = ? AND photo_id = ?');
  db.transaction(() => {
    for (const p of photoIds) del.run(id, p);
    db.prepare('UPDATE albums SET updated_at = ? WHERE id = ?').run(Date.now(), id);
  })();
  return getAlbum(db, id);
}

/** Sets the album's order: the photos given first, in that order, then the rest as they were. */
export function reorderAlbum(db: Db, id: number, photoIds: readonly number[]): AlbumInfo {
  plain(db, id);
  db.transaction(() => {
    const items = albumPhotoIds(db, id);
    const given = photoIds.filter((p) => items.includes(p));
    writeOrder(db, id, [...new Set(given), ...items.filter((p) => !given.includes(p))]);
  })();
  return getAlbum(db, id);
}

function writeOrder(db: Db, id: number, order: readonly number[]): void {
  const now = Date.now();
  const keep = db.prepare('SELECT added_at FROM album_items WHERE album_id = ? AND photo_id = ?');
  const added = new Map(order.map((p) => [p, (keep.get(id, p) as { added_at: number } | undefined)?.added_at ?? now]));
  db.prepare('DELETE FROM album_items WHERE album_id = ?').run(id);
  const ins = db.prepare('INSERT INTO album_items (album_id, photo_id, position, added_at) VALUES (?, ?, ?, ?)');
  order.forEach((p, i) => ins.run(id, p, i + 1, added.get(p)!));
  db.prepare('UPDATE albums SET updated_at = ? WHERE id = ?').run(now, id);
}

/** A plain album's photo ids in album order (missing files included: they may come back). */
export function albumPhotoIds(db: Db, id: number): number[] {
  return (db.prepare('SELECT photo_id FROM album_items WHERE album_id = ? ORDER BY position, photo_id').all(id) as { photo_id: number }[]).map((r) => r.photo_id);
}
