/** The folders table: the folders the user added, with their state and per-state photo counts. */
import type { FolderInfo, FolderState } from '../../contract/api.js';
import { sep } from 'node:path';
import { Repo } from './repo.js';

export interface FolderRow {
  readonly id: number;
  readonly path: string;
  readonly state: FolderState;
  readonly added_at: number;
  readonly last_scan_at: number | null;
  readonly root_dev: string | null;
}

const COLUMNS = 'id, path, state, added_at, last_scan_at, root_dev';
/** Folders in the library now (not absorbed by one above them). */
const ACTIVE = 'absorbed_into IS NULL';

export class FoldersRepo extends Repo {
  list(): FolderRow[] {
    return this.all<FolderRow>(`SELECT ${COLUMNS} FROM folders WHERE ${ACTIVE} ORDER BY path`);
  }

  byId(id: number): FolderRow | undefined {
    return this.one<FolderRow>(`SELECT ${COLUMNS} FROM folders WHERE id = ? AND ${ACTIVE}`, id);
  }

  byPath(path: string): FolderRow | undefined {
    return this.one<FolderRow>(`SELECT ${COLUMNS} FROM folders WHERE path = ? AND ${ACTIVE}`, path);
  }

  /** A folder absorbed by another at this path, if any. */
  absorbedAt(path: string): (FolderRow & { absorbed_into: number }) | undefined {
    return this.one(`SELECT ${COLUMNS}, absorbed_into FROM folders WHERE path = ? AND absorbed_into IS NOT NULL`, path);
  }

  insert(path: string, now: number): number {
    return this.run('INSERT INTO folders (path, added_at) VALUES (?, ?)', path, now).lastId;
  }

  /** Moves a folder's photos to the folder above it, which keeps the folder to give back (an absorbing add). */
  absorb(intoId: number, childId: number): void {
    this.run('UPDATE photos SET folder_id = ? WHERE folder_id = ?', intoId, childId);
    this.run('UPDATE folders SET absorbed_into = ? WHERE id = ?', intoId, childId);
  }

  /**
   * Forgets a folder. The folders it absorbed come back with their photos (the ones under their
   * paths); its other photos are forgotten. Returns the photos forgotten and the folders given back.
   */
  remove(id: number): { removed: number; restored: string[] } {
    const children = this.all<{ id: number; path: string }>('SELECT id, path FROM folders WHERE absorbed_into = ? ORDER BY path', id);
    for (const c of children) {
      this.run('UPDATE folders SET absorbed_into = NULL WHERE id = ?', c.id);
      const prefix = c.path.endsWith(sep) ? c.path : c.path + sep;
      this.run('UPDATE photos SET folder_id = ? WHERE folder_id = ? AND path >= ? AND path < ?', c.id, id, prefix, prefix + '\u{10FFFF}');
    }
    const removed = this.run('DELETE FROM photos WHERE folder_id = ?', id).changes;
    this.run('DELETE FROM folders WHERE id = ?', id);
    return { removed, restored: children.map((c) => c.path) };
  }

  setState(id: number, state: FolderState): boolean {
    return this.run('UPDATE folders SET state = ? WHERE id = ? AND state != ?', state, id, state).changes > 0;
  }

  markScanned(id: number, now: number, rootDev: string): void {
    this.run('UPDATE folders SET last_scan_at = ?, root_dev = ? WHERE id = ?', now, rootDev, id);
  }

  infos(): FolderInfo[] {
    const rows = this.all<FolderRow & { ok: number; pending: number; errors: number; missing: number }>(`
      SELECT f.id, f.path, f.state, f.added_at, f.last_scan_at,
        COALESCE(SUM(p.state = 'ok'), 0)      AS ok,
        COALESCE(SUM(p.state = 'pending'), 0) AS pending,
        COALESCE(SUM(p.state = 'error'), 0)   AS errors,
        COALESCE(SUM(p.state = 'missing'), 0) AS missing
      FROM folders f LEFT JOIN photos p ON p.folder_id = f.id
      WHERE f.absorbed_into IS NULL
      GROUP BY f.id ORDER BY f.path`);
    return rows.map((r) => ({
      id: r.id, path: r.path, state: r.state, addedAt: r.added_at, lastScanAt: r.last_scan_at,
      photos: r.ok, pending: r.pending, errors: r.errors, missing: r.missing,
    }));
  }
}
