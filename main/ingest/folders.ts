/** The folders the user added: canonical paths, and the rule that a folder is added once. */
import { realpathSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { UserError } from '../contract/errors.js';
import type { FolderRow } from '../db/repos/folders.js';
import type { Repos } from '../db/repos/index.js';

export type { FolderRow };

/** The user's to act on (see contract/errors.ts). */
export class FolderError extends UserError {}

function isInside(child: string, parent: string): boolean {
  const p = parent.endsWith(sep) ? parent : parent + sep;
  return child.startsWith(p);
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

/** File systems that are the kernel's, not files: never added, never walked into. */
export const VIRTUAL_FOLDERS: readonly string[] = process.platform === 'win32' ? [] : ['/proc', '/sys', '/dev'];

/** Folders that hold the operating system: adding one indexes the whole computer, so it is asked first. */
function isSystemFolder(path: string): boolean {
  if (/^[A-Za-z]:\\?$/.test(path) || path === '/') return true;
  return ['/bin', '/boot', '/etc', '/lib', '/lib64', '/opt', '/run', '/sbin', '/usr', '/var', '/System', '/Library', '/private'].includes(path);
}

const within = (path: string, dir: string): boolean => path === dir || isInside(path, dir);

export interface AddFolderOptions {
  /** Loupe's own library folder: never added. */
  readonly libraryDir: string;
  /** The user said yes to adding a folder of the operating system. */
  readonly confirm?: boolean;
  readonly now?: number;
}

/**
 * Adds a watched folder. A folder inside one already watched is refused (it is covered); a folder
 * that contains watched folders absorbs them, and their photos keep their ids. Loupe's own folder
 * and the kernel's file systems are refused; a system folder needs the user's yes.
 */
export function addFolder(repos: Repos, input: string, opts: AddFolderOptions): FolderRow {
  const path = canonicalFolder(input);
  const library = canonicalOrSelf(opts.libraryDir);
  if (within(path, library)) throw new FolderError(`${path} is Loupe's own library folder (its database and thumbnails), not a folder of photos`);
  const virtual = VIRTUAL_FOLDERS.find((v) => within(path, v));
  if (virtual) throw new FolderError(`${path} is part of ${virtual}, a file system of the operating system's, not of files: it cannot be added`);
  if (isSystemFolder(path) && !opts.confirm) {
    throw new FolderError(`${path} holds the operating system: adding it indexes every picture on this computer, the system's own included. ` +
      'If that is what you want, add it again and confirm (`loupe add-folder DIR --yes`)');
  }
  const now = opts.now ?? Date.now();
  const { folders } = repos;
  return repos.transaction(() => {
    const existing = folders.byPath(path);
    if (existing) return existing;
    const rows = folders.list();
    const parent = rows.find((r) => isInside(path, r.path));
    if (parent) throw new FolderError(`${path} is already in the library as part of ${parent.path}`);
    const id = folders.insert(path, now);
    for (const child of rows.filter((r) => isInside(r.path, path))) folders.absorb(id, child.id);
    return folders.byPath(path)!;
  });
}

function canonicalOrSelf(path: string): string {
  try {
    return realpathSync(resolve(path));
  } catch {
    return resolve(path);
  }
}

/** What a walk of `folder` must never enter: the library folder, the kernel's file systems, the other added folders. */
export function walkExclusions(repos: Repos, folder: FolderRow, libraryDir: string): string[] {
  return [canonicalOrSelf(libraryDir), ...VIRTUAL_FOLDERS, ...repos.folders.list().filter((f) => f.id !== folder.id).map((f) => f.path)];
}

/**
 * Forgets a folder and the photos in it (their album places wait for the same pictures to come
 * back). Folders it absorbed when it was added come back, with their photos.
 */
export function removeFolder(repos: Repos, input: string): { removed: number; restored: string[] } {
  const abs = resolve(input);
  let path = abs;
  try { path = realpathSync(abs); } catch { /* the folder may be gone already: match it as typed */ }
  return repos.transaction(() => {
    const row = repos.folders.byPath(path) ?? repos.folders.byPath(abs);
    if (!row) throw new FolderError(`Not a library folder: ${abs}`);
    return repos.folders.remove(row.id);
  });
}
