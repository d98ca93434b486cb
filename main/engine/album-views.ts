/** Albums as the user opens them: a plain album's photos in its order, a smart album's by its query; and export. */
import type { SearchResponse } from '../contract/api.js';
import { exportFiles, type ExportProgress, type ExportSummary } from '../collections/export.js';
import { toRecord, type PhotoRow } from '../db/repos/photos.js';
import type { Library } from './library.js';

export interface ExportOptions {
  readonly onProgress?: (p: ExportProgress) => void;
  readonly signal?: AbortSignal;
}

export class AlbumViews {
  constructor(private readonly lib: Library) {}

  private rows(id: number): PhotoRow[] {
    return this.lib.albums.photoIds(id).map((pid) => this.lib.repos.photos.byId(pid)).filter((r): r is PhotoRow => r !== undefined);
  }

  async photos(id: number, offset: number, limit: number): Promise<SearchResponse> {
    const started = performance.now();
    const album = this.lib.albums.get(id);
    if (album.query) return this.lib.searcher.search({ ...album.query, offset, limit });
    const ids = this.lib.albums.photoIds(id);
    const hits = ids.slice(offset, offset + limit).map((pid) => this.lib.repos.photos.byId(pid))
      .filter((r): r is PhotoRow => r !== undefined)
      .map((r) => ({ photo: toRecord(r), score: 0, box: null, atMs: null, matchedName: false }));
    return { hits, total: ids.length, offset, space: null, tookMs: performance.now() - started, notes: [] };
  }

  async export(id: number, dest: string, opts: ExportOptions): Promise<ExportSummary> {
    const album = this.lib.albums.get(id);
    const photos = album.query
      ? (await this.lib.searcher.search({ ...album.query, offset: 0, limit: 10_000 })).hits.map((h) => h.photo.path)
      : this.rows(id).filter((r) => r.state !== 'error').map((r) => r.path);
    return exportFiles(photos, dest, { ...opts, prefixOrder: album.query === null });
  }
}
