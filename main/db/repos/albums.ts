/** The albums and album_items tables. */
import { Repo } from './repo.js';

export interface AlbumRow {
  readonly id: number;
  readonly name: string;
  /** A smart album's saved request, as JSON. */
  readonly query: string | null;
  readonly created_at: number;
  readonly updated_at: number;
  /** Photos in it that are not in error. */
  readonly count: number;
  /** The first indexed photo in album order. */
  readonly cover: number | null;
}

const SELECT = `SELECT a.id, a.name, a.query, a.created_at, a.updated_at,
  (SELECT count(*) FROM album_items i JOIN photos p ON p.id = i.photo_id AND p.state != 'error' WHERE i.album_id = a.id) AS count,
  (SELECT i.photo_id FROM album_items i JOIN photos p ON p.id = i.photo_id AND p.state = 'ok' WHERE i.album_id = a.id
   ORDER BY i.position, i.photo_id LIMIT 1) AS cover
  FROM albums a`;

export class AlbumsRepo extends Repo {
  list(): AlbumRow[] {
    return this.all<AlbumRow>(`${SELECT} ORDER BY a.position, a.id`);
  }

  byId(id: number): AlbumRow | undefined {
    return this.one<AlbumRow>(`${SELECT} WHERE a.id = ?`, id);
  }

  /** Ids of the albums with this name (case-insensitive). */
  idsNamed(name: string): number[] {
    return this.all<{ id: number }>('SELECT id FROM albums WHERE lower(name) = lower(?) ORDER BY id', name).map((r) => r.id);
  }

  insert(name: string, query: string | null, now: number): number {
    const pos = this.one<{ p: number }>('SELECT coalesce(max(position), 0) + 1 AS p FROM albums')!.p;
    return this.run('INSERT INTO albums (name, query, position, created_at, updated_at) VALUES (?, ?, ?, ?, ?)', name, query, pos, now, now).lastId;
  }

  rename(id: number, name: string, now: number): void {
    this.run('UPDATE albums SET name = ?, updated_at = ? WHERE id = ?', name, now, id);
  }

  setQuery(id: number, query: string | null, now: number): void {
    this.run('UPDATE albums SET query = ?, updated_at = ? WHERE id = ?', query, now, id);
  }

  delete(id: number): boolean {
    return this.run('DELETE FROM albums WHERE id = ?', id).changes > 0;
  }

  touch(id: number, now: number): void {
    this.run('UPDATE albums SET updated_at = ? WHERE id = ?', now, id);
  }

  /** A plain album's photo ids in album order. */
  photoIds(id: number): number[] {
    return this.all<{ photo_id: number }>('SELECT photo_id FROM album_items WHERE album_id = ? ORDER BY position, photo_id', id).map((r) => r.photo_id);
  }

  removeItem(id: number, photoId: number): void {
    this.run('DELETE FROM album_items WHERE album_id = ? AND photo_id = ?', id, photoId);
  }

  /** Rewrites the album's items in this order, keeping when each was first added. */
  writeOrder(id: number, order: readonly number[], now: number): void {
    this.transaction(() => {
      const added = new Map(order.map((p) => [p, this.one<{ added_at: number }>('SELECT added_at FROM album_items WHERE album_id = ? AND photo_id = ?', id, p)?.added_at ?? now]));
      this.run('DELETE FROM album_items WHERE album_id = ?', id);
      order.forEach((p, i) => this.run('INSERT INTO album_items (album_id, photo_id, position, added_at) VALUES (?, ?, ?, ?)', id, p, i + 1, added.get(p)!));
      this.touch(id, now);
    });
  }
}
