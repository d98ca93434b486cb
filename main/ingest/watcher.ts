import { watch, type FSWatcher } from 'chokidar';
import { basename, dirname, sep } from 'node:path';
import type { FolderRow } from './folders.js';
import { isSidecarName, isSkippedName, isSupportedName } from '../contract/formats.js';
import { REPLACEMENT_CHAR } from './fsnames.js';
import { rootAvailable } from './scanner.js';
import { errorMessage } from '../util/errors.js';

export interface WatchOptions {
  /** Quiet time after the last event before a batch is processed. */
  readonly debounceMs?: number;
  /** Longest a batch waits while events keep coming (a long copy still shows progress). */
  readonly maxWaitMs?: number;
  /** How often folder roots are checked for going offline or coming back. */
  readonly healthIntervalMs?: number;
  /** chokidar polling, for network shares whose events do not reach this machine. */
  readonly usePolling?: boolean;
}

/** What the watcher needs of whoever runs it (the engine): folders, scans, indexing, and where to report. */
export interface WatchHost {
  folderRows(): FolderRow[];
  /** Scans a folder, or a part of it; says whether its root is offline. */
  scanOne(folder: FolderRow, dir?: string, recursive?: boolean): Promise<{ readonly offline: boolean }>;
  index(): Promise<unknown>;
  /** Calls `listener` whenever folders are added or removed; returns the unsubscribe. */
  onFoldersChanged(listener: () => void): () => void;
  reportError(message: string): void;
}

interface Scope { readonly dir: string; readonly recursive: boolean }

function inside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/** Keeps the library in step with the disk: file events become rescans of the folders they touched. */
export class LibraryWatcher {
  private watcher: FSWatcher | null = null;
  private scopes: Scope[] = [];
  private quietTimer: NodeJS.Timeout | null = null;
  private firstEventAt = 0;
  private chain: Promise<void> = Promise.resolve();
  private healthTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly debounceMs: number;
  private readonly maxWaitMs: number;

  private constructor(private readonly host: WatchHost, private readonly opts: WatchOptions) {
    this.debounceMs = opts.debounceMs ?? 400;
    this.maxWaitMs = opts.maxWaitMs ?? 3000;
  }

  static async start(host: WatchHost, opts: WatchOptions): Promise<LibraryWatcher> {
    const w = new LibraryWatcher(host, opts);
    await w.open();
    return w;
  }

  private rootPaths = new Set<string>();

  private roots(): FolderRow[] {
    const rows = this.host.folderRows();
    this.rootPaths = new Set(rows.map((f) => f.path));
    return rows;
  }

  /** Roots handed to chokidar. */
  private watched = new Set<string>();
  private offFolders: (() => void) | null = null;

  private async open(): Promise<void> {
    const roots = this.roots().filter((f) => f.state === 'ok').map((f) => f.path);
    this.watched = new Set(roots);
    const watcher = watch(roots, {
      ignoreInitial: true,
      followSymlinks: true,
      usePolling: this.opts.usePolling ?? false,
      ignored: (path, stats) => {
        if (this.rootPaths.has(path)) return false;
        const name = basename(path);
        if (isSkippedName(name)) return true;
        return stats?.isFile() === true && !isSupportedName(name) && !isSidecarName(name);
      },
    });
    this.watcher = watcher;
    watcher.on('add', (p) => this.onFile(p));
    watcher.on('change', (p) => this.onFile(p));
    watcher.on('unlink', (p) => this.onFile(p));
    watcher.on('addDir', (p) => this.enqueue({ dir: p, recursive: true }));
    watcher.on('unlinkDir', (p) => {
      if (this.rootPaths.has(p)) void this.checkHealth();
      else this.enqueue({ dir: p, recursive: true });
    });
    watcher.on('error', (err) => this.host.reportError(errorMessage(err)));
    // chokidar reports ready only once it has something to watch.
    if (roots.length > 0) await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    // Folders added or removed while running are watched (or let go) at once.
    this.offFolders = this.host.onFoldersChanged(() => this.syncRoots());
    this.healthTimer = setInterval(() => void this.checkHealth(), this.opts.healthIntervalMs ?? 5000);
    this.healthTimer.unref();
  }

  private onFile(path: string): void {
    if (path.includes(REPLACEMENT_CHAR)) {
      // Not a real path (a non-UTF-8 name): rescan the folder it belongs to, which reads names as bytes.
      const root = this.roots().find((f) => inside(path, f.path));
      if (root) this.enqueue({ dir: root.path, recursive: true });
      return;
    }
    // A sidecar's change makes its photo's rescan see it changed (walk.ts takes the later time of the two).
    if (!isSupportedName(path) && !isSidecarName(path)) return;
    this.enqueue({ dir: dirname(path), recursive: false });
  }

  private enqueue(scope: Scope): void {
    if (this.closed) return;
    if (this.scopes.length === 0) this.firstEventAt = Date.now();
    this.scopes.push(scope);
    if (this.quietTimer) clearTimeout(this.quietTimer);
    const wait = Math.max(0, Math.min(this.debounceMs, this.firstEventAt + this.maxWaitMs - Date.now()));
    this.quietTimer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.quietTimer = null;
    const scopes = coalesce(this.scopes.splice(0));
    this.chain = this.chain.then(() => this.process(scopes)).catch((err: unknown) => {
      this.host.reportError(errorMessage(err));
    });
  }

  private async process(scopes: readonly Scope[]): Promise<void> {
    if (this.closed) return;
    const roots = this.roots();
    for (const s of scopes) {
      const folder = roots.find((f) => inside(s.dir, f.path));
      if (!folder) continue;
      await this.host.scanOne(folder, s.dir, s.recursive);
    }
    await this.host.index();
  }

  /** Watches roots added since, lets go of roots removed since. */
  private syncRoots(): void {
    if (this.closed) return;
    const rows = this.roots();
    for (const f of rows) {
      if (f.state !== 'ok' || this.watched.has(f.path)) continue;
      this.watchRoot(f.path);
      // What is already there is no event: a scan brings it in.
      this.enqueue({ dir: f.path, recursive: true });
    }
    for (const path of [...this.watched]) if (!this.rootPaths.has(path)) this.unwatchRoot(path);
  }

  private watchRoot(path: string): void {
    this.watched.add(path);
    this.watcher?.add(path);
  }

  private unwatchRoot(path: string): void {
    this.watched.delete(path);
    this.watcher?.unwatch(path);
  }

  /** Detects roots that went away (unmounted, renamed) and ones that came back; re-watches and rescans those. */
  async checkHealth(): Promise<void> {
    this.chain = this.chain.then(async () => {
      if (this.closed) return;
      let changed = false;
      for (const f of this.roots()) {
        // Cheap check first: only a root that changed state is rescanned.
        if ((rootAvailable(f) ? 'ok' : 'offline') === f.state) continue;
        const now = (await this.host.scanOne(f)).offline ? 'offline' : 'ok';
        if (now === f.state) continue;
        changed = true;
        if (now === 'ok') this.watchRoot(f.path);
        else this.unwatchRoot(f.path);
      }
      if (changed) await this.host.index();
    }).catch((err: unknown) => {
      this.host.reportError(errorMessage(err));
    });
    return this.chain;
  }

  /** Resolves once every event received so far has been scanned and indexed. */
  async idle(): Promise<void> {
    if (this.quietTimer) {
      clearTimeout(this.quietTimer);
      this.flush();
    }
    await this.chain;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.offFolders?.();
    if (this.quietTimer) clearTimeout(this.quietTimer);
    if (this.healthTimer) clearInterval(this.healthTimer);
    await this.watcher?.close();
    await this.chain;
  }
}

/** Drops scopes covered by a recursive one and repeats of the same folder. */
export function coalesce(scopes: readonly Scope[]): Scope[] {
  const recursive = scopes.filter((s) => s.recursive);
  const out: Scope[] = [];
  const seen = new Set<string>();
  for (const s of scopes) {
    const key = `${s.recursive ? 'r' : 'f'}:${s.dir}`;
    if (seen.has(key)) continue;
    if (recursive.some((r) => r !== s && inside(s.dir, r.dir) && (r.dir !== s.dir || !s.recursive))) continue;
    seen.add(key);
    out.push(s);
  }
  return out;
}
