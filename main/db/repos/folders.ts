/** The folders table: the folders the user added, with their state and per-state photo counts. */
import type { FolderInfo, FolderState } from '../../contract/api.js';
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

export class FoldersRepo extends Repo {
  list(): FolderRow[] {
    return this.all<FolderRow>(`SELECT ${COLUMNS} FROM folders ORDER BY path`);
  }

  byId(id: number): FolderRow | undefined {
    return this.one<FolderRow>(`SELECT ${COLUMNS} FROM folders WHERE id = ?`, id);
  }

  byPath(path: string): FolderRow | undefined {
    return this.one<FolderRow>(`SELECT ${COLUMNS} FROM folders WHERE path = ?`, path);
  }

  insert(path: string, now: number): number {
    return this.run('INSERT INTO folders (path, added_at) VALUES (?, ?)', path, now).lastId;
  }

  /** Moves a folder's photos to another folder and forgets the first (an absorbing add). */
  absorb(intoId: number, childId: number): void {
    this.run('UPDATE photos SET folder_id = ? WHERE folder_id = ?', intoId, childId);
    this.run('DELETE FROM folders WHERE id = ?', childId);
  }

  /** Forgets a folder and its photos; returns how many photos went. */
  remove(id: number): number {
    const removed = this.run('DELETE FROM photos WHERE folder_id = ?', id).changes;
    this.run('DELETE FROM folders WHERE id = ?', id);
    return removed;
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
      GROUP BY f.id ORDER BY f.path`);
    return rows.map((r) => ({
      id: r.id, path: r.path, state: r.state, addedAt: r.added_at, lastScanAt: r.last_scan_at,
      photos: r.ok, pending: r.pending, errors: r.errors, missing: r.missing,
    }));
  }
}
