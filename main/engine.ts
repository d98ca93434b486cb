import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type {
  EngineEvent, FolderInfo, IndexProgress, IndexSummary, LibraryStatus, LoupeApi, PhotoRecord, PhotoState, ScanSummary,
} from './api.js';
import { openDatabase, schemaVersion, type Db } from './db/database.js';
import { addFolderRow, folderInfos, folderRowByPath, listFolderRows, removeFolderRow, type FolderRow } from './library/folders.js';
import { indexPending } from './library/indexer.js';
import { lastJob } from './library/jobs.js';
import { photoById, toRecord } from './library/photos.js';
import { scanFolder, type ScanCounts } from './library/scanner.js';
import { ThumbnailStore } from './library/thumbnails.js';
import { LibraryWatcher, type WatchOptions } from './library/watcher.js';

export interface EngineOptions {
  readonly libraryDir: string;
  /** Photos decoded at once; default: one more than the cores, so file reads overlap decoding. */
  readonly concurrency?: number;
}

export interface IndexRunOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: IndexProgress) => void;
}

type Listener = (e: EngineEvent) => void;

/** The Loupe engine: one library folder (SQLite database + thumbnail cache) and the work on it. */
export class Engine implements LoupeApi {
  readonly db: Db;
  readonly thumbs: ThumbnailStore;
  private readonly listeners = new Set<Listener>();
  private running: Promise<IndexSummary> | null = null;

  private constructor(readonly libraryDir: string, private readonly opts: EngineOptions) {
    mkdirSync(libraryDir, { recursive: true });
    this.db = openDatabase(join(libraryDir, 'loupe.db'));
    this.thumbs = new ThumbnailStore(join(libraryDir, 'thumbs'));
  }

  static open(opts: EngineOptions): Engine {
    return new Engine(opts.libraryDir, opts);
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(e: EngineEvent): void {
    for (const l of this.listeners) l(e);
  }

  async addFolder(path: string): Promise<FolderInfo> {
    const row = addFolderRow(this.db, path);
    return folderInfos(this.db).find((f) => f.id === row.id)!;
  }

  async removeFolder(path: string): Promise<{ removedPhotos: number }> {
    const removedPhotos = removeFolderRow(this.db, path);
    this.thumbs.collectGarbage(this.db);
    return { removedPhotos };
  }

  async listFolders(): Promise<readonly FolderInfo[]> {
    return folderInfos(this.db);
  }

  folderRows(): FolderRow[] {
    return listFolderRows(this.db);
  }

  /** Scans one folder, or a part of it; the watcher calls this with the folders its events touched. */
  scanOne(folder: FolderRow, dir?: string, recursive = true): ReturnType<typeof scanFolder> {
    const before = folderRowByPath(this.db, folder.path)?.state;
    const result = scanFolder(this.db, folder, { dir, recursive });
    const state = result.offline ? 'offline' : 'ok';
    if (before !== state) this.emit({ type: 'folder-state', folderId: folder.id, path: folder.path, state });
    return result;
  }

  async scan(): Promise<ScanSummary> {
    const started = Date.now();
    const total: ScanCounts = { seen: 0, added: 0, changed: 0, missing: 0, revived: 0, errors: 0 };
    const skipped: string[] = [];
    const folders = this.folderRows();
    for (const f of folders) {
      const r = this.scanOne(f);
      for (const k of Object.keys(total) as (keyof ScanCounts)[]) total[k] += r.counts[k];
      skipped.push(...r.skippedDirs);
      // Yield between folders so a long scan never starves the event loop.
      await new Promise((res) => setImmediate(res));
    }
    const summary: ScanSummary = { folders: folders.length, ...total, skippedDirs: skipped, ms: Date.now() - started };
    this.emit({ type: 'scan', summary });
    return summary;
  }

  /** Indexes every pending photo. Calls made while a run is under way share that run, then run once more. */
  async index(run: IndexRunOptions = {}): Promise<IndexSummary> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = indexPending({ db: this.db, thumbs: this.thumbs }, {
      concurrency: this.opts.concurrency ?? availableParallelism() + 1,
      signal: run.signal,
      onProgress: (p) => {
        run.onProgress?.(p);
        this.emit({ type: 'progress', progress: p });
      },
    });
    try {
      const summary = await this.running;
      this.emit({ type: 'indexed', summary });
      return summary;
    } finally {
      this.running = null;
    }
  }

  watch(opts: WatchOptions = {}): Promise<LibraryWatcher> {
    return LibraryWatcher.start(this, opts);
  }

  async status(opts: { errorLimit?: number } = {}): Promise<LibraryStatus> {
    const counts: Record<PhotoState, number> = { pending: 0, ok: 0, error: 0, missing: 0 };
    for (const r of this.db.prepare('SELECT state, COUNT(*) AS n FROM photos GROUP BY state').all() as { state: PhotoState; n: number }[]) {
      counts[r.state] = r.n;
    }
    const errors = this.db.prepare(`SELECT id, path, error FROM photos WHERE state = 'error' ORDER BY path LIMIT ?`)
      .all(opts.errorLimit ?? 1000) as { id: number; path: string; error: string }[];
    return {
      library: this.libraryDir,
      schemaVersion: schemaVersion(this.db),
      folders: folderInfos(this.db),
      counts,
      thumbnails: this.thumbs.usage(this.db),
      errors,
      lastJob: lastJob(this.db),
    };
  }

  async getPhoto(id: number): Promise<PhotoRecord | null> {
    const row = photoById(this.db, id);
    return row ? toRecord(row) : null;
  }

  close(): void {
    this.db.close();
  }
}
