import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type {
  AlbumInfo, CategoryCount, DeviceInfo, DuplicateGroup, EmbedProgress, EmbedSummary, EngineEvent, FolderInfo, IndexingState, IndexProgress,
  IndexSummary, LibraryStatus, LoupeApi, ModelKind, ModelPackInfo, PhotoRecord, PhotoState, ScanSummary, SearchFilters, SearchRequest,
  SearchResponse, TaxonomyInfo, TeachResult, UserCategoryInfo,
} from '../contract/api.js';
import {
  addToAlbum, albumPhotoIds, createAlbum, deleteAlbum, getAlbum, listAlbums, removeFromAlbum, renameAlbum, reorderAlbum,
} from '../collections/albums.js';
import { exportFiles, type ExportProgress, type ExportSummary } from '../collections/export.js';
import {
  addExamples, classCounts, CategoryError, deleteUserCategory, exampleItems, listTaxonomies, listUserCategories, loadTaxonomy,
  scoreAll, trainCategory,
} from '../search/categories.js';
import { Searcher } from '../search/search.js';
import { EncoderCache } from '../encoders/cache.js';
import { deviceChoices, isDevice, type Device } from '../encoders/device.js';
import { IndexSet } from '../index/spaces.js';
import { VectorStore } from '../db/repos/vectors.js';
import { getSetting, setSetting } from '../db/settings.js';
import { activeModel, dropSpace, embedPending, servingSpace, setActiveModel, spaceOf } from '../embed/embedder.js';
import type { WhitenOptions } from '../embed/whitener.js';
import { loadCatalog, type PackManifest } from '../models/manifest.js';
import { PackError, PackStore, type ImportOptions, type InstallOptions, type VerifyReport } from '../models/packs.js';
import { openDatabase, schemaVersion, type Db } from '../db/database.js';
import { addFolderRow, folderInfos, folderRowByPath, listFolderRows, removeFolderRow, type FolderRow } from '../ingest/folders.js';
import { indexPending } from '../ingest/indexer.js';
import { lastJob } from '../ingest/jobs.js';
import { photoById, toRecord } from '../ingest/photos.js';
import { scanFolder, type ScanCounts } from '../ingest/scanner.js';
import { ThumbnailStore } from '../ingest/thumbnails.js';
import { LibraryWatcher, type WatchOptions } from '../ingest/watcher.js';
import { errorMessage } from '../util/errors.js';
import { trialRun } from '../encoders/trial.js';

export interface EngineOptions {
  readonly libraryDir: string;
  /** Photos decoded at once; default: one more than the cores, so file reads overlap decoding. */
  readonly concurrency?: number;
  /** Where models run (default: the choice saved in the library, else auto: the best accelerator present, else the CPU). */
  readonly device?: Device;
  /** onnxruntime threads per image-model worker (default: the cores shared among the workers). */
  readonly threads?: number;
  /** Image-model workers running side by side on the CPU (default 2 where there are 2+ cores). */
  readonly inferenceWorkers?: number;
  /** Pictures per CLIP inference batch. */
  readonly batchSize?: number;
  /**
   * Start indexing by itself when new work appears (a pack installed or chosen); the app sets
   * this, the CLI does not (its commands do one thing and exit).
   */
  readonly autoIndex?: boolean;
  /** When CNN descriptors get their PCA-whitening (default: once 1,000 pictures have them). */
  readonly whiten?: WhitenOptions;
  /** Vectors searched exactly before an index trains IVF-PQ (default 4,096; the evaluation sets 0 or Infinity). */
  readonly flatLimit?: number;
}

export interface IndexRunOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: IndexProgress) => void;
  readonly onEmbedProgress?: (p: EmbedProgress) => void;
  readonly onEmbedded?: (s: EmbedSummary) => void;
  /** Overrides the engine's CLIP batch size for this run. */
  readonly batchSize?: number;
}

const KINDS: readonly ModelKind[] = ['clip', 'cnn'];

type Listener = (e: EngineEvent) => void;

/** The Loupe engine: one library folder (SQLite database + thumbnail cache) and the work on it. */
export class Engine implements LoupeApi {
  readonly db: Db;
  readonly thumbs: ThumbnailStore;
  readonly packs: PackStore;
  readonly vectors: VectorStore;
  readonly indexes: IndexSet;
  readonly encoders: EncoderCache;
  readonly searcher: Searcher;
  private readonly listeners = new Set<Listener>();
  /** The indexing run under way (indexing, then embedding) and what stops it. */
  private running: Promise<IndexSummary> | null = null;
  private stopRun: AbortController | null = null;
  private paused = false;
  private readonly installing = new Set<string>();

  private constructor(readonly libraryDir: string, private readonly opts: EngineOptions) {
    mkdirSync(libraryDir, { recursive: true });
    this.db = openDatabase(join(libraryDir, 'loupe.db'));
    this.thumbs = new ThumbnailStore(join(libraryDir, 'thumbs'));
    this.packs = new PackStore(join(libraryDir, 'models'), trialRun);
    this.vectors = new VectorStore(this.db);
    const log = (message: string): void => this.emit({ type: 'log', message });
    this.indexes = new IndexSet(join(libraryDir, 'index'), this.vectors, log, opts.flatLimit);
    const saved = getSetting(this.db, 'device');
    const device = opts.device ?? (saved && isDevice(saved) ? saved : 'auto');
    this.encoders = new EncoderCache(this.packs, { device, threads: opts.threads, workers: opts.inferenceWorkers, log });
    this.searcher = new Searcher({ db: this.db, indexes: this.indexes, encoders: this.encoders, thumbs: this.thumbs });
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
    const folders = folderInfos(this.db);
    this.emit({ type: 'folders', folders });
    return folders.find((f) => f.id === row.id)!;
  }

  async removeFolder(path: string): Promise<{ removedPhotos: number }> {
    const removedPhotos = removeFolderRow(this.db, path);
    this.thumbs.collectGarbage(this.db);
    this.emit({ type: 'folders', folders: folderInfos(this.db) });
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

  /**
   * Indexes every pending photo, then embeds what the active models still owe. A call made while
   * a run is under way waits for it, then runs once more (for what arrived meanwhile). While
   * indexing is paused nothing runs and the summary says so.
   */
  async index(run: IndexRunOptions = {}): Promise<IndexSummary> {
    await this.runEnded();
    if (this.paused) return { jobId: 0, processed: 0, ok: 0, failed: 0, moved: 0, missing: 0, ms: 0, paused: true };
    const stop = new AbortController();
    const signal = run.signal ? AbortSignal.any([run.signal, stop.signal]) : stop.signal;
    this.stopRun = stop;
    this.running = this.runIndexing({ ...run, signal });
    this.emitIndexing();
    try {
      const summary = await this.running;
      return stop.signal.aborted ? { ...summary, paused: true } : summary;
    } finally {
      this.running = null;
      this.stopRun = null;
      this.emitIndexing();
    }
  }

  private async runIndexing(run: IndexRunOptions): Promise<IndexSummary> {
    const summary = await indexPending({ db: this.db, thumbs: this.thumbs }, {
      concurrency: this.opts.concurrency ?? availableParallelism() + 1,
      signal: run.signal,
      onProgress: (p) => {
        run.onProgress?.(p);
        this.emit({ type: 'progress', progress: p });
      },
    });
    this.emit({ type: 'indexed', summary });
    await this.embed(run);
    return summary;
  }

  indexingState(): IndexingState {
    return { paused: this.paused, running: this.running !== null };
  }

  private emitIndexing(): void {
    this.emit({ type: 'indexing', state: this.indexingState() });
  }

  async pauseIndexing(): Promise<IndexingState> {
    if (!this.paused) {
      this.paused = true;
      this.stopRun?.abort();
      this.emitIndexing();
    }
    return this.indexingState();
  }

  async resumeIndexing(): Promise<IndexingState> {
    if (this.paused) {
      this.paused = false;
      this.emitIndexing();
      this.indexInBackground();
    }
    return this.indexingState();
  }

  /** Scans every folder and indexes what changed while Loupe was not running, in the background. */
  catchUp(): void {
    this.scan().then(() => this.index()).catch(this.logIndexingFailure);
  }

  private indexInBackground(): void {
    this.index().catch(this.logIndexingFailure);
  }

  /** A background run has no caller to answer: its failure goes to the log. */
  private readonly logIndexingFailure = (err: unknown): void => {
    this.emit({ type: 'log', message: `indexing failed: ${errorMessage(err)}` });
  };

  /** A new pack owes the library its vectors: in the app, embedding starts in the background. */
  private indexWhenIdle(): void {
    if (this.opts.autoIndex && !this.paused && !this.running) this.indexInBackground();
  }

  /** Resolves once no run is under way (a run's failure is its caller's to report). */
  private async runEnded(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }

  /** Stops the run under way, if any, and waits for it to end; says whether there was one. */
  private async stopRunning(): Promise<boolean> {
    const wasRunning = this.running !== null;
    this.stopRun?.abort();
    await this.runEnded();
    return wasRunning;
  }

  /** Stops the run under way (if any), does `work`, and starts indexing again if it was running. */
  private async betweenRuns(work: () => Promise<void>): Promise<void> {
    const wasRunning = await this.stopRunning();
    await work();
    if (wasRunning && !this.paused) this.indexInBackground();
  }

  /** Computes the vectors every active model still owes the library (the indexing run calls this). */
  async embed(run: IndexRunOptions = {}): Promise<EmbedSummary[]> {
    const out: EmbedSummary[] = [];
    for (const kind of KINDS) {
      if (run.signal?.aborted) break;
      const summary = await embedPending({ db: this.db, thumbs: this.thumbs, store: this.vectors, indexes: this.indexes, encoders: this.encoders }, kind, {
        batchSize: run.batchSize ?? this.opts.batchSize,
        whiten: this.opts.whiten,
        signal: run.signal,
        onProgress: (p) => {
          run.onEmbedProgress?.(p);
          this.emit({ type: 'embed-progress', progress: p });
        },
      });
      if (summary) {
        out.push(summary);
        run.onEmbedded?.(summary);
        this.emit({ type: 'embedded', summary });
      }
    }
    return out;
  }

  async listModels(): Promise<readonly ModelPackInfo[]> {
    const installed = this.packs.list();
    const catalog = loadCatalog();
    const info = (m: PackManifest): Pick<ModelPackInfo, 'active' | 'serving'> => {
      const serving = servingSpace(this.db, m.kind);
      const space = spaceOf(m.kind, m.name);
      return { active: activeModel(this.db, m.kind) === m.name, serving: serving === space || serving?.startsWith(`${space}.w`) === true };
    };
    const out: ModelPackInfo[] = installed.map((p) => ({
      name: p.name, kind: p.manifest?.kind ?? null, title: p.manifest?.title ?? p.name, installed: true,
      ...(p.manifest ? info(p.manifest) : { active: false, serving: false }),
      embeddingDim: p.manifest?.embeddingDim ?? null,
      bytes: p.manifest ? p.manifest.files.reduce((a, f) => a + f.size, 0) : null,
      licence: p.manifest?.licence ?? '', source: p.manifest?.source ?? '',
      description: catalog.find((c) => c.name === p.name)?.description ?? null, problem: p.problem,
    }));
    for (const c of catalog) {
      if (installed.some((p) => p.name === c.name)) continue;
      out.push({
        name: c.name, kind: c.kind, title: c.title, installed: false, active: false, serving: false, embeddingDim: null,
        bytes: c.files.every((f) => f.size !== undefined) ? c.files.reduce((a, f) => a + (f.size ?? 0), 0) : null,
        licence: c.licence, source: `https://huggingface.co/${c.repo}`, description: c.description, problem: null,
      });
    }
    return out;
  }

  private modelInfo(name: string): Promise<ModelPackInfo> {
    return this.listModels().then((all) => all.find((m) => m.name === name)!);
  }

  async useModel(name: string): Promise<ModelPackInfo> {
    const { manifest } = this.packs.get(name);
    setActiveModel(this.db, manifest.kind, name);
    this.indexWhenIdle();
    return this.modelInfo(name);
  }

  /** The first pack of a kind becomes active by itself. */
  private activateIfFirst(m: PackManifest): void {
    if (!activeModel(this.db, m.kind)) setActiveModel(this.db, m.kind, m.name);
  }

  /** Downloads a catalog pack; progress goes to `opts.onProgress` and to listeners, as events. */
  async installModel(name: string, opts: InstallOptions = {}): Promise<ModelPackInfo> {
    const entry = loadCatalog().find((c) => c.name === name);
    if (!entry) throw new PackError(`no model pack named ${name} in the catalog (see \`loupe models list\`)`);
    if (this.installing.has(name)) throw new PackError(`model pack ${name} is already being installed`);
    this.installing.add(name);
    try {
      const m = await this.packs.install(entry, {
        ...opts,
        onProgress: (p) => {
          opts.onProgress?.(p);
          this.emit({ type: 'install-progress', progress: { pack: name, ...p } });
        },
      });
      this.activateIfFirst(m);
      this.emit({ type: 'installed', pack: name, error: null });
      this.indexWhenIdle();
      return await this.modelInfo(name);
    } catch (err) {
      this.emit({ type: 'installed', pack: name, error: errorMessage(err) });
      throw err;
    } finally {
      this.installing.delete(name);
    }
  }

  async device(): Promise<DeviceInfo> {
    return { requested: this.encoders.device, choices: deviceChoices(), ...this.encoders.usage() };
  }

  async setDevice(device: Device): Promise<DeviceInfo> {
    if (!deviceChoices().includes(device)) throw new PackError(`${device} is not a device on this computer (choices: ${deviceChoices().join(', ')})`);
    setSetting(this.db, 'device', device);
    if (device !== this.encoders.device) await this.betweenRuns(() => this.encoders.setDevice(device));
    return this.device();
  }

  async importModel(dir: string, opts: ImportOptions = {}): Promise<ModelPackInfo> {
    const m = await this.packs.import(dir, opts);
    this.activateIfFirst(m);
    return this.modelInfo(m.name);
  }

  verifyModels(name?: string, onFile?: (pack: string, file: string) => void): Promise<VerifyReport[]> {
    return this.packs.verify(name, onFile);
  }

  /** Removes a pack that is not active; its vectors go with it. */
  async removeModel(name: string): Promise<void> {
    const { manifest } = this.packs.get(name);
    if (activeModel(this.db, manifest.kind) === name) {
      throw new PackError(`model pack ${name} is the active ${manifest.kind} model; make another one active first (\`loupe models use NAME\`)`);
    }
    const space = spaceOf(manifest.kind, name);
    await dropSpace(this.db, this.indexes, space);
    for (const key of [`serving.${manifest.kind}`]) {
      const serving = getSetting(this.db, key);
      if (serving === space || serving?.startsWith(`${space}.w`)) setSetting(this.db, key, null);
    }
    await this.packs.remove(name);
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
      indexing: this.indexingState(),
    };
  }

  async getPhoto(id: number): Promise<PhotoRecord | null> {
    const row = photoById(this.db, id);
    return row ? toRecord(row) : null;
  }

  search(request: SearchRequest): Promise<SearchResponse> {
    return this.searcher.search(request);
  }

  duplicates(filters?: SearchFilters): Promise<readonly DuplicateGroup[]> {
    return this.searcher.duplicates({ filters });
  }

  async listAlbums(): Promise<readonly AlbumInfo[]> {
    return listAlbums(this.db);
  }

  async createAlbum(name: string, query?: SearchRequest): Promise<AlbumInfo> {
    return createAlbum(this.db, name, query);
  }

  async renameAlbum(id: number, name: string): Promise<AlbumInfo> {
    return renameAlbum(this.db, id, name);
  }

  async deleteAlbum(id: number): Promise<void> {
    deleteAlbum(this.db, id);
  }

  async addToAlbum(id: number, photoIds: readonly number[], beforePhotoId?: number): Promise<AlbumInfo> {
    return addToAlbum(this.db, id, photoIds, beforePhotoId);
  }

  async removeFromAlbum(id: number, photoIds: readonly number[]): Promise<AlbumInfo> {
    return removeFromAlbum(this.db, id, photoIds);
  }

  async reorderAlbum(id: number, photoIds: readonly number[]): Promise<AlbumInfo> {
    return reorderAlbum(this.db, id, photoIds);
  }

  async albumPhotos(id: number, offset = 0, limit = 100): Promise<SearchResponse> {
    const started = performance.now();
    const album = getAlbum(this.db, id);
    if (album.query) return this.search({ ...album.query, offset, limit });
    const ids = albumPhotoIds(this.db, id);
    const hits = ids.slice(offset, offset + limit).map((pid) => photoById(this.db, pid)).filter((r) => r !== undefined)
      .map((r) => ({ photo: toRecord(r), score: 0, box: null, matchedName: false }));
    return { hits, total: ids.length, offset, space: null, tookMs: performance.now() - started, notes: [] };
  }

  /** Copies an album's photos (a smart album: all its query's results) to a folder, in album order. */
  async exportAlbum(id: number, dest: string, opts: { onProgress?: (p: ExportProgress) => void; signal?: AbortSignal } = {}): Promise<ExportSummary> {
    const album = getAlbum(this.db, id);
    const photos = album.query
      ? (await this.search({ ...album.query, offset: 0, limit: 10_000 })).hits.map((h) => h.photo.path)
      : albumPhotoIds(this.db, id).map((pid) => photoById(this.db, pid)).filter((r) => r !== undefined && r.state !== 'error').map((r) => r!.path);
    return exportFiles(photos, dest, { ...opts, prefixOrder: album.query === null });
  }

  async listTaxonomies(): Promise<readonly TaxonomyInfo[]> {
    return listTaxonomies();
  }

  async categoryCounts(taxonomy: string, threshold = 0.2, onProgress?: (done: number, total: number) => void): Promise<readonly CategoryCount[]> {
    const { space } = await this.searcher.prepareTaxonomy(taxonomy, onProgress);
    return classCounts(this.db, space.space, loadTaxonomy(taxonomy), threshold);
  }

  async listCategories(): Promise<readonly UserCategoryInfo[]> {
    return listUserCategories(this.db, this.searcher.space('clip')?.space ?? null);
  }

  async teachCategory(name: string, positives: readonly number[], negatives: readonly number[] = [], limit = 50): Promise<TeachResult> {
    const s = this.searcher.clipSpace('Teaching a category');
    const cat = addExamples(this.db, name, positives, negatives);
    const t = performance.now();
    const model = trainCategory(this.db, cat.name, s.space);
    const trainMs = performance.now() - t;
    const suggestions = this.contentsToPhotos(scoreAll(this.db, s.space, model, exampleItems(this.db, cat.id)).slice(0, limit));
    const info = listUserCategories(this.db, s.space).find((c) => c.id === cat.id)!;
    return { category: info, trainMs, suggestions };
  }

  private contentsToPhotos(items: readonly { item: number; prob: number }[]): TeachResult['suggestions'] {
    const byContent = this.db.prepare(`SELECT p.* FROM photos p JOIN contents c ON c.hash = p.hash WHERE c.id = ? AND p.state = 'ok' ORDER BY p.id`);
    return items.flatMap((s) => (byContent.all(s.item) as Parameters<typeof toRecord>[0][]).map((p) => ({ photo: toRecord(p), probability: s.prob })));
  }

  async deleteCategory(name: string): Promise<void> {
    if (!deleteUserCategory(this.db, name)) throw new CategoryError(`no category named ${name}`);
  }

  async close(): Promise<void> {
    await this.stopRunning();
    await this.encoders.close();
    await this.indexes.close();
    this.db.close();
  }
}
