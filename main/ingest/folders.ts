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

/**
 * Adds a watched folder. A folder inside one already watched is refused (it is covered); a folder
 * that contains watched folders absorbs them, and their photos keep their ids.
 */
export function addFolder(repos: Repos, input: string, now: number = Date.now()): FolderRow {
  const path = canonicalFolder(input);
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

/** Forgets a folder and every photo in it (their album entries and tags go with them). */
export function removeFolder(repos: Repos, input: string): number {
  const abs = resolve(input);
  let path = abs;
  try { path = realpathSync(abs); } catch { /* the folder may be gone already: match it as typed */ }
  return repos.transaction(() => {
    const row = repos.folders.byPath(path) ?? repos.folders.byPath(abs);
    if (!row) throw new FolderError(`Not a library folder: ${abs}`);
    return repos.folders.remove(row.id);
  });
}
