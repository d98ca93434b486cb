import { realpathSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import type { FolderInfo, FolderState } from '../contract/api.js';
import type { Db } from '../db/database.js';
import { UserError } from '../contract/errors.js';

export interface FolderRow {
  readonly id: number;
  readonly path: string;
  readonly state: FolderState;
  readonly added_at: number;
  readonly last_scan_at: number | null;
  readonly root_dev: string | null;
}

/** The user's to act on (see contract/errors.ts). */
export class FolderError extends UserError {}

function isInside(child: string, parent: string): boolean {
  const p = parent.endsWith(sep) ? parent : parent + sep;
  return child.startsWith(p);
}

export function listFolderRows(db: Db): FolderRow[] {
  return db.prepare('SELECT id, path, state, added_at, last_scan_at, root_dev FROM folders ORDER BY path').all() as FolderRow[];
}

export function folderRowByPath(db: Db, path: string): FolderRow | undefined {
  return db.prepare('SELECT id, path, state, added_at, last_scan_at, root_dev FROM folders WHERE path = ?').get(path) as FolderRow | undefined;
}

/** The canonical form under which a folder is stored: absolute, symlinks resolved. */
export function canonicalFolder(input: string): string {
  const abs = resolve(input);
  let st;
  try {
    st = statSync(abs);
  } catch {
    throw new FolderError(`Folder not found: ${abs}`);
  }
  if (!st.isDirectory()) throw new FolderError(`Not a folder: ${abs}`);
  return realpathSync(abs);
}

/**
 * Adds a watched folder. A folder inside one already watched is refused (it is covered); a folder
 * that contains watched folders absorbs them, and their photos keep their ids.
 */
export function addFolderRow(db: Db, input: string, now: number = Date.now()): FolderRow {
  const path = canonicalFolder(input);
  return db.transaction(() => {
    const existing = folderRowByPath(db, path);
    if (existing) return existing;
    const rows = listFolderRows(db);
    const parent = rows.find((r) => isInside(path, r.path));
    if (parent) throw new FolderError(`${path} is already in the library as part of ${parent.path}`);
    const info = db.prepare('INSERT INTO folders (path, added_at) VALUES (?, ?)').run(path, now);
    const id = Number(info.lastInsertRowid);
    for (const child of rows.filter((r) => isInside(r.path, path))) {
      db.prepare('UPDATE photos SET folder_id = ? WHERE folder_id = ?').run(id, child.id);
      db.prepare('DELETE FROM folders WHERE id = ?').run(child.id);
    }
    return folderRowByPath(db, path)!;
  })();
}

/** Forgets a folder and every photo in it (their album entries and tags go with them). */
export function removeFolderRow(db: Db, input: string): number {
  const abs = resolve(input);
  let path = abs;
  try { path = realpathSync(abs); } catch { /* the folder may be gone already: match it as typed */ }
  return db.transaction(() => {
    const row = folderRowByPath(db, path) ?? folderRowByPath(db, abs);
    if (!row) throw new FolderError(`Not a library folder: ${abs}`);
    const removed = db.prepare('DELETE FROM photos WHERE folder_id = ?').run(row.id).changes;
    db.prepare('DELETE FROM folders WHERE id = ?').run(row.id);
    return removed;
  })();
}

export function setFolderState(db: Db, id: number, state: FolderState): boolean {
  return db.prepare('UPDATE folders SET state = ? WHERE id = ? AND state != ?').run(state, id, state).changes > 0;
}

export function folderInfos(db: Db): FolderInfo[] {
  const rows = db.prepare(`
    SELECT f.id, f.path, f.state, f.added_at, f.last_scan_at,
      COALESCE(SUM(p.state = 'ok'), 0)      AS ok,
      COALESCE(SUM(p.state = 'pending'), 0) AS pending,
      COALESCE(SUM(p.state = 'error'), 0)   AS errors,
      COALESCE(SUM(p.state = 'missing'), 0) AS missing
    FROM folders f LEFT JOIN photos p ON p.folder_id = f.id
    GROUP BY f.id ORDER BY f.path`).all() as (FolderRow & { ok: number; pending: number; errors: number; missing: number })[];
  return rows.map((r) => ({
    id: r.id, path: r.path, state: r.state, addedAt: r.added_at, lastScanAt: r.last_scan_at,
    photos: r.ok, pending: r.pending, errors: r.errors, missing: r.missing,
  }));
}
