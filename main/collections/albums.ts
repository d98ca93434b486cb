/**
 * Albums: named, ordered sets of photos (by photo id, so they follow files through moves and
 * renames), and smart albums defined by a saved query that is run when the album is opened.
 */
import type { AlbumInfo, SearchRequest } from '../contract/api.js';
import { UserError } from '../contract/errors.js';
import { parseSearchRequest } from '../contract/search-request.js';
import type { AlbumRow } from '../db/repos/albums.js';
import type { Repos } from '../db/repos/index.js';

/** The user's to act on (see contract/errors.ts). */
export class AlbumError extends UserError {}

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

const queryJson = (query: SearchRequest | null | undefined): string | null =>
  query == null ? null : JSON.stringify(parseSearchRequest(query));

export class Albums {
  constructor(private readonly repos: Repos) {}

  list(): AlbumInfo[] {
    return this.repos.albums.list().map(toInfo);
  }

  get(id: number): AlbumInfo {
    const r = this.repos.albums.byId(id);
    if (!r) throw new AlbumError(`no album with id ${id}`);
    return toInfo(r);
  }

  /** An album by id, or by its exact name (case-insensitive) — the CLI takes either. */
  find(ref: string | number): AlbumInfo {
    if (typeof ref === 'number' || /^\d+$/.test(ref)) return this.get(Number(ref));
    const ids = this.repos.albums.idsNamed(ref.trim());
    if (ids.length === 0) throw new AlbumError(`no album named ${JSON.stringify(ref)}`);
    if (ids.length > 1) throw new AlbumError(`several albums are named ${JSON.stringify(ref)}; use the id (${ids.join(', ')})`);
    return this.get(ids[0]!);
  }

  create(name: string, query?: SearchRequest): AlbumInfo {
    return this.get(this.repos.albums.insert(cleanName(name), queryJson(query), Date.now()));
  }

  rename(id: number, name: string): AlbumInfo {
    this.get(id);
    this.repos.albums.rename(id, cleanName(name), Date.now());
    return this.get(id);
  }

  setQuery(id: number, query: SearchRequest | null): AlbumInfo {
    this.get(id);
    this.repos.albums.setQuery(id, queryJson(query), Date.now());
    return this.get(id);
  }

  delete(id: number): void {
    if (!this.repos.albums.delete(id)) throw new AlbumError(`no album with id ${id}`);
  }

  private plain(id: number): AlbumInfo {
    const a = this.get(id);
    if (a.query !== null) throw new AlbumError(`album ${a.name} is a smart album: its photos come from its query`);
    return a;
  }

  /**
   * Adds photos, at the end or before `beforePhotoId`, in the order given; photos already in the
   * album move to the new place. One transaction: all or nothing.
   */
  add(id: number, photoIds: readonly number[], beforePhotoId?: number): AlbumInfo {
    this.plain(id);
    this.repos.transaction(() => {
      for (const p of photoIds) if (!this.repos.photos.exists(p)) throw new AlbumError(`no photo with id ${p}`);
      const items = this.photoIds(id).filter((p) => !photoIds.includes(p));
      const at = beforePhotoId === undefined ? items.length : Math.max(0, items.indexOf(beforePhotoId));
      this.repos.albums.writeOrder(id, [...items.slice(0, at), ...new Set(photoIds), ...items.slice(at)], Date.now());
    });
    return this.get(id);
  }

  remove(id: number, photoIds: readonly number[]): AlbumInfo {
    this.plain(id);
    this.repos.transaction(() => {
      for (const p of photoIds) this.repos.albums.removeItem(id, p);
      this.repos.albums.touch(id, Date.now());
    });
    return this.get(id);
  }

  /** Sets the album's order: the photos given first, in that order, then the rest as they were. */
  reorder(id: number, photoIds: readonly number[]): AlbumInfo {
    this.plain(id);
    this.repos.transaction(() => {
      const items = this.photoIds(id);
      const given = photoIds.filter((p) => items.includes(p));
      this.repos.albums.writeOrder(id, [...new Set(given), ...items.filter((p) => !given.includes(p))], Date.now());
    });
    return this.get(id);
  }

  /** A plain album's photo ids in album order (missing files included: they may come back). */
  photoIds(id: number): number[] {
    return this.repos.albums.photoIds(id);
  }
}
