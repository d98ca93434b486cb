import { readdirSync, statSync } from 'node:fs';
import { sep } from 'node:path';
import { linkPairs } from './pairs.js';
import type { Repos } from '../db/repos/index.js';
import { pathKey, type FoundRow, type KnownFile } from '../db/repos/photos.js';
import type { FolderRow } from './folders.js';
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
  /** Folders the walk never enters (see WalkOptions.exclude). */
  readonly exclude?: readonly string[];
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

function rowsUnder(repos: Repos, folderId: number, dir: string, recursive: boolean): KnownFile[] {
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  const rows = repos.photos.under(folderId, prefix);
  return recursive ? rows : rows.filter((r) => !r.path.slice(prefix.length).includes(sep));
}

function asRow(f: FoundFile): FoundRow {
  return { path: f.path.text, pathRaw: f.path.raw, size: f.size, mtimeMs: f.mtimeMs, ctimeMs: f.ctimeMs, state: f.error ? 'error' : 'pending', error: f.error };
}

function isUnder(path: string, dirs: readonly string[]): boolean {
  return dirs.some((d) => path === d || path.startsWith(d.endsWith(sep) ? d : d + sep));
}

/**
 * Brings the photos table in line with what is on disk under a library folder. Only stats files:
 * unchanged ones (same size and mtime) cost no write; new and changed ones become 'pending' for
 * the indexer; vanished ones become 'missing' (kept, so a file that comes back keeps its identity).
 */
export async function scanFolder(repos: Repos, folder: FolderRow, opts: ScanOptions = {}): Promise<ScanResult> {
  const { photos, folders } = repos;
  const now = opts.now ?? Date.now();
  const counts: ScanCounts = { seen: 0, added: 0, changed: 0, missing: 0, revived: 0, errors: 0 };
  if (!rootAvailable(folder)) {
    folders.setState(folder.id, 'offline');
    return { counts, skippedDirs: [], offline: true };
  }
  folders.setState(folder.id, 'ok');
  const dir = opts.dir ?? folder.path;
  const recursive = opts.recursive ?? true;
  let dirExists = true;
  try { dirExists = statSync(dir).isDirectory(); } catch { dirExists = false; }
  const { files, unreadableDirs } = dirExists
    ? await walk({ text: dir, raw: null }, { recursive, exclude: opts.exclude })
    : { files: [] as FoundFile[], unreadableDirs: [] };
  const skippedDirs = unreadableDirs.map((d) => d.path);
  // By the path's bytes: two names can read the same as text.
  const known = new Map(rowsUnder(repos, folder.id, dir, recursive).map((r) => [pathKey(r.path, r.path_raw), r]));


  const apply = (batch: FoundFile[]): void => repos.transaction(() => {
    for (const f of batch) {
      const found = asRow(f);
      const key = pathKey(f.path.text, f.path.raw);
      const row = known.get(key);
      known.delete(key);
      if (!row) {
        photos.insertFound(folder.id, found, now);
        counts.added++;
        if (f.error) counts.errors++;
        continue;
      }
      const same = row.size === f.size && row.mtime_ms === f.mtimeMs;
      // An error row is retried when anything about the inode changed (a chmod only moves ctime).
      const retry = row.state === 'error' && row.ctime_ms !== f.ctimeMs;
      if (row.state === 'missing') {
        photos.updateFound(row.id, found);
        counts.revived++;
      } else if (!same || retry) {
        photos.updateFound(row.id, found);
        counts.changed++;
      }
      if (f.error) counts.errors++;
    }
  });
  // Small enough that one transaction holds the event loop for a few milliseconds only.
  const CHUNK = 500;
  for (let i = 0; i < files.length; i += CHUNK) {
    apply(files.slice(i, i + CHUNK));
    // Between chunks, the event loop answers other work.
    await new Promise((r) => setImmediate(r));
  }
  counts.seen = files.length;

  const gone = [...known.values()].filter((r) => r.state !== 'missing' && !isUnder(r.path, skippedDirs));
  repos.transaction(() => {
    for (const r of gone) {
      photos.markMissing(r, now);
      counts.missing++;
    }
    if (dir === folder.path) folders.markScanned(folder.id, now, String(statSync(folder.path).dev));
  });
  // A pair's picture that went makes its RAW the photo again (and one that came back, the reverse).
  linkPairs(repos, [{ folderId: folder.id, dir, recursive }]);
  return { counts, skippedDirs, offline: false };
}
