import { readdirSync, statSync } from 'node:fs';
import { sep } from 'node:path';
import type { Db } from '../db/database.js';
import { setFolderState, type FolderRow } from './folders.js';
import { markMissing } from './photos.js';
import { walk, type FoundFile } from './walk.js';

export interface ScanCounts {
  seen: number;
  added: number;
  changed: number;
  missing: number;
  revived: number;
  errors: number;
}

export interface ScanResult {
  readonly counts: ScanCounts;
  readonly skippedDirs: readonly string[];
  /** The folder's root is gone or empty (unplugged disk, unmounted share): nothing was marked missing. */
  readonly offline: boolean;
}

export interface ScanOptions {
  /** A folder inside the library folder to scan instead of all of it (the watcher's case). */
  readonly dir?: string;
  readonly recursive?: boolean;
  readonly now?: number;
}

interface KnownRow {
  readonly id: number;
  readonly path: string;
  readonly size: number;
  readonly mtime_ms: number;
  readonly ctime_ms: number;
  readonly state: string;
  readonly hash: string | null;
  readonly added_at: number;
}

/** Whether a library folder's root can be scanned now, or should be taken for offline. */
export function rootAvailable(folder: FolderRow): boolean {
  try {
    const st = statSync(folder.path);
    if (!st.isDirectory()) return false;
    // The mount point of an unplugged disk is an empty folder on another device than the disk was:
    // offline, not "everything deleted". An emptied folder on its own device is just empty.
    if (folder.root_dev !== null && String(st.dev) !== folder.root_dev) return readdirSync(folder.path).length > 0;
    return true;
  } catch {
    return false;
  }
}

function rowsUnder(db: Db, folderId: number, dir: string, recursive: boolean): KnownRow[] {
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  // Range on the path index: every string that starts with prefix sorts in [prefix, prefix + U+10FFFF).
  const rows = db.prepare(`SELECT id, path, size, mtime_ms, ctime_ms, state, hash, added_at FROM photos
                           WHERE folder_id = ? AND path >= ? AND path < ?`)
    .all(folderId, prefix, prefix + '\u{10FFFF}') as KnownRow[];
  return recursive ? rows : rows.filter((r) => !r.path.slice(prefix.length).includes(sep));
}

function isUnder(path: string, dirs: readonly string[]): boolean {
  return dirs.some((d) => path === d || path.startsWith(d.endsWith(sep) ? d : d + sep));
}

/**
 * Brings the photos table in line with what is on disk under a library folder. Only stats files:
 * unchanged ones (same size and mtime) cost no write; new and changed ones become 'pending' for
 * the indexer; vanished ones become 'missing' (kept, so a file that comes back keeps its identity).
 */
export function scanFolder(db: Db, folder: FolderRow, opts: ScanOptions = {}): ScanResult {
  const now = opts.now ?? Date.now();
  const counts: ScanCounts = { seen: 0, added: 0, changed: 0, missing: 0, revived: 0, errors: 0 };
  if (!rootAvailable(folder)) {
    setFolderState(db, folder.id, 'offline');
    return { counts, skippedDirs: [], offline: true };
  }
  setFolderState(db, folder.id, 'ok');
  const dir = opts.dir ?? folder.path;
  const recursive = opts.recursive ?? true;
  let dirExists = true;
  try { dirExists = statSync(dir).isDirectory(); } catch { dirExists = false; }
  const { files, unreadableDirs } = dirExists
    ? walk({ text: dir, raw: null }, { recursive })
    : { files: [] as FoundFile[], unreadableDirs: [] };
  const skippedDirs = unreadableDirs.map((d) => d.path);
  const known = new Map(rowsUnder(db, folder.id, dir, recursive).map((r) => [r.path, r]));

  const insert = db.prepare(`INSERT INTO photos (folder_id, path, path_raw, size, mtime_ms, ctime_ms, state, error, added_at)
                             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                             ON CONFLICT(path) DO UPDATE SET folder_id = excluded.folder_id, path_raw = excluded.path_raw,
                               size = excluded.size, mtime_ms = excluded.mtime_ms, ctime_ms = excluded.ctime_ms,
                               state = excluded.state, error = excluded.error, missing_since = NULL`);
  const update = db.prepare(`UPDATE photos SET size = ?, mtime_ms = ?, ctime_ms = ?, state = ?, error = ?, missing_since = NULL
                             WHERE id = ?`);

  const apply = db.transaction((batch: FoundFile[]) => {
    for (const f of batch) {
      const state = f.error ? 'error' : 'pending';
      const row = known.get(f.path.text);
      known.delete(f.path.text);
      if (!row) {
        insert.run(folder.id, f.path.text, f.path.raw, f.size, f.mtimeMs, f.ctimeMs, state, f.error, now);
        counts.added++;
        if (f.error) counts.errors++;
        continue;
      }
      const same = row.size === f.size && row.mtime_ms === f.mtimeMs;
      // An error row is retried when anything about the inode changed (a chmod only moves ctime).
      const retry = row.state === 'error' && row.ctime_ms !== f.ctimeMs;
      if (row.state === 'missing') {
        update.run(f.size, f.mtimeMs, f.ctimeMs, state, f.error, row.id);
        counts.revived++;
      } else if (!same || retry) {
        update.run(f.size, f.mtimeMs, f.ctimeMs, state, f.error, row.id);
        counts.changed++;
      }
      if (f.error) counts.errors++;
    }
  });
  const CHUNK = 5000;
  for (let i = 0; i < files.length; i += CHUNK) apply(files.slice(i, i + CHUNK));
  counts.seen = files.length;

  const gone = [...known.values()].filter((r) => r.state !== 'missing' && !isUnder(r.path, skippedDirs));
  db.transaction(() => {
    for (const r of gone) {
      markMissing(db, r, now);
      counts.missing++;
    }
    if (dir === folder.path) {
      db.prepare('UPDATE folders SET last_scan_at = ?, root_dev = ? WHERE id = ?').run(now, String(statSync(folder.path).dev), folder.id);
    }
  })();
  return { counts, skippedDirs, offline: false };
}
