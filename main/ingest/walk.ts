import { readdirSync, realpathSync, statSync, type Dirent, type Stats } from 'node:fs';
import { sep } from 'node:path';
import { isSidecarName, isSkippedName, isSupportedName, sidecarNames } from '../contract/formats.js';
import { displayName, fsArg, isValidUtf8, joinPath, REPLACEMENT_CHAR, type FsPath } from './fsnames.js';
import { errorMessage } from '../util/errors.js';

/** A photo file found on disk, or a name that looks like one but could not be examined. */
export interface FoundFile {
  readonly path: FsPath;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  /** Why the file cannot be used, when stat already tells (a symlink loop, a dangling link). */
  readonly error: string | null;
}

export interface WalkResult {
  readonly files: FoundFile[];
  /** Folders that could not be listed: rows under them must not be taken for deleted. */
  readonly unreadableDirs: { readonly path: string; readonly reason: string }[];
}

export interface WalkOptions {
  readonly recursive: boolean;
  /**
   * Folders never entered, however they are reached (directly or through a link): the library
   * folder, virtual file systems, folders added to the library on their own.
   */
  readonly exclude?: readonly string[];
}

export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'EACCES': case 'EPERM': return 'permission denied: Loupe cannot read it';
    case 'ELOOP': return 'symbolic link loop: the link never reaches a real file';
    case 'ENOENT': return 'not found: it was deleted or is a link to a missing file';
    case 'ENAMETOOLONG': return 'the path is longer than the system allows';
    case 'EISDIR': return 'it is a folder, not a file';
    case 'EIO': return 'input/output error: the disk could not read it';
    default: return errorMessage(err);
  }
}

interface Entry { readonly name: string; readonly raw: Buffer | null; readonly dirent: Dirent | Dirent<Buffer> }

function listDir(dir: FsPath): Entry[] {
  const plain = readdirSync(fsArg(dir), { withFileTypes: true, encoding: 'utf8' }) as Dirent[];
  if (!plain.some((d) => d.name.includes(REPLACEMENT_CHAR))) {
    return plain.map((d) => ({ name: d.name, raw: null, dirent: d }));
  }
  // Some name is not valid UTF-8: list again as bytes so those files can be opened.
  const bytes = readdirSync(fsArg(dir), { withFileTypes: true, encoding: 'buffer' }) as Dirent<Buffer>[];
  return bytes.map((d) => isValidUtf8(d.name)
    ? { name: d.name.toString('utf8'), raw: null, dirent: d }
    : { name: displayName(d.name), raw: d.name, dirent: d });
}

function dirKey(st: Stats): string {
  return `${st.dev}:${st.ino}`;
}

/** How long the walk holds the event loop before it lets other work (API calls, events) run. */
const SLICE_MS = 8;

/**
 * Lists the photo files under `root`. Follows symbolic links to folders but never enters a folder
 * twice, so a link to an ancestor cannot loop. Synchronous per folder (on a warm cache one stat is
 * a few microseconds, several times cheaper than the promise API), in slices of a few
 * milliseconds: between slices the event loop answers whatever else is waiting.
 */
export async function walk(root: FsPath, opts: WalkOptions): Promise<WalkResult> {
  const files: FoundFile[] = [];
  const unreadableDirs: { path: string; reason: string }[] = [];
  const visited = new Set<string>();
  const stack: FsPath[] = [root];
  let rootReal: string;
  try {
    const rootKey = dirKey(statSync(fsArg(root)));
    rootReal = realpathSync(fsArg(root)).toString();
    // Excluded folders count as visited: no path, link or loop leads into them.
    for (const dir of opts.exclude ?? []) {
      try {
        const key = dirKey(statSync(dir));
        if (key !== rootKey) visited.add(key);
      } catch { /* not there: nothing to keep out */ }
    }
    visited.add(rootKey);
  } catch (err) {
    unreadableDirs.push({ path: root.text, reason: describeFsError(err) });
    return { files, unreadableDirs };
  }
  let sliceStart = performance.now();
  while (stack.length > 0) {
    if (performance.now() - sliceStart > SLICE_MS) {
      await new Promise((r) => setImmediate(r));
      sliceStart = performance.now();
    }
    const dir = stack.pop()!;
    let entries: Entry[];
    try {
      entries = listDir(dir);
    } catch (err) {
      unreadableDirs.push({ path: dir.text, reason: describeFsError(err) });
      continue;
    }
    const sidecars = sidecarsOf(entries);
    const found = (p: FsPath, st: Stats, name: string): FoundFile => withSidecar(fileOf(p, st), dir, name, sidecars);
    for (const e of entries) {
      if (isSkippedName(e.name)) continue;
      const p = joinPath(dir, e.name, e.raw);
      const d = e.dirent;
      if (d.isDirectory()) {
        if (!opts.recursive) continue;
        try {
          const key = dirKey(statSync(fsArg(p)));
          if (!visited.has(key)) { visited.add(key); stack.push(p); }
        } catch (err) {
          unreadableDirs.push({ path: p.text, reason: describeFsError(err) });
        }
        continue;
      }
      if (d.isSymbolicLink()) {
        let st: Stats;
        try {
          st = statSync(fsArg(p));
        } catch (err) {
          if (isSupportedName(e.name)) files.push({ path: p, size: 0, mtimeMs: 0, ctimeMs: 0, error: describeFsError(err) });
          continue;
        }
        if (st.isDirectory()) {
          const key = dirKey(st);
          // A link to a folder that holds this one (the system root, the home folder) leads everywhere: not followed.
          if (opts.recursive && !visited.has(key) && !holds(p, rootReal)) { visited.add(key); stack.push(p); }
          continue;
        }
        if (isSupportedName(e.name)) files.push(found(p, st, e.name));
        continue;
      }
      if (!isSupportedName(e.name)) continue;
      try {
        files.push(found(p, statSync(fsArg(p)), e.name));
      } catch (err) {
        files.push({ path: p, size: 0, mtimeMs: 0, ctimeMs: 0, error: describeFsError(err) });
      }
    }
  }
  return { files, unreadableDirs };
}

/** Whether the folder a link leads to holds `real` (is it or one of its ancestors). */
function holds(link: FsPath, real: string): boolean {
  let target: string;
  try {
    target = realpathSync(fsArg(link)).toString();
  } catch {
    return false;
  }
  return real === target || real.startsWith(target.endsWith(sep) ? target : target + sep);
}

/** A folder's XMP sidecars, by lower-case name. */
function sidecarsOf(entries: readonly Entry[]): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const e of entries) if (isSidecarName(e.name)) out.set(e.name.toLowerCase(), e);
  return out;
}

/**
 * A photo with a sidecar beside it counts as changed when either changes: its modification time
 * is the later of the two, so a rescan re-reads keywords a user edited in Lightroom or digiKam.
 * Only sidecars the folder listing shows are looked at: no extra call for a photo without one.
 */
function withSidecar(file: FoundFile, dir: FsPath, name: string, sidecars: ReadonlyMap<string, Entry>): FoundFile {
  if (sidecars.size === 0 || file.error) return file;
  for (const candidate of sidecarNames(name.toLowerCase())) {
    const e = sidecars.get(candidate);
    if (!e) continue;
    try {
      const st = statSync(fsArg(joinPath(dir, e.name, e.raw)));
      return { ...file, mtimeMs: Math.max(file.mtimeMs, st.mtimeMs) };
    } catch {
      return file;
    }
  }
  return file;
}

function fileOf(p: FsPath, st: Stats): FoundFile {
  const error = st.isFile() ? null : 'not a regular file';
  return { path: p, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, error };
}
