/**
 * The Loupe engine's facade: one library folder and the work on it, as the LoupeApi every
 * transport (IPC, HTTP bridge, CLI, evaluation) calls. It holds no logic of its own beyond
 * wiring: each call goes to the room that does it.
 */
import { dirname } from 'node:path';
import type {
  AlbumInfo, CategoryCount, DatabaseHealth, Device, DeviceInfo, DuplicateGroup, EngineEvent, FolderInfo, IndexingState, IndexSummary,
  FaceInfo, FaceSuggestion, LibraryStatus, LoupeApi, ModelKind, ModelPackInfo, PersonInfo, PhotoDetails, PhotoLocations, PlaceCount,
  Preferences, SameGroup, ScanSummary, SearchFilters, SearchRequest, SearchResponse, SidecarReport, TaxonomyInfo, TeachResult,
  UserCategoryInfo,
} from '../contract/api.js';
import { UserError } from '../contract/errors.js';
import { parseMediaPath, type Media } from '../contract/media.js';
import { parseSearchRequest } from '../contract/search-request.js';
import { OCR_MODEL } from '../encoders/ocr.js';
import type { ExportSummary } from '../collections/export.js';
import { Backups, restoreDatabase, type BackupInfo } from '../db/safety.js';
import { toRecord } from '../db/repos/photos.js';
import { addFolder, removeFolder, type FolderRow } from '../ingest/folders.js';
import { collectGarbage, collectGarbageLocked } from '../ingest/indexer.js';
import type { ScanResult } from '../ingest/scanner.js';
import { LibraryWatcher, type WatchOptions } from '../ingest/watcher.js';
import type { ImportOptions, InstallOptions, VerifyReport } from '../models/packs.js';
import type { PackManifest } from '../models/manifest.js';
import type { IndexAgreement } from '../search/inspect.js';
import { AlbumViews, type ExportOptions } from './album-views.js';
import { LibraryCare } from './care.js';
import { inspection, type Inspection } from './inspection.js';
import { Categories } from './categories.js';
import { Library } from './library.js';
import type { EngineOptions } from './options.js';
import { resolveMedia } from './media.js';
import { installedPackDir, Models } from './models.js';
import { Scanning } from './scanning.js';
import { SidecarWriting } from './sidecar-writing.js';
import { People } from './people.js';
import { IndexingRuns, type IndexRunOptions } from './runs.js';

export type { BackupInfo, EngineOptions, IndexAgreement, IndexRunOptions, Inspection };

/** The copies kept in a backups folder, newest first. */
export function listBackups(dir: string): BackupInfo[] {
  return new Backups(dir).list();
}

/** The most photos the map is sent at once (the most recent). */
const MAP_POINTS = 200_000;

type Listener = (e: EngineEvent) => void;
type VerifyListener = (pack: string, file: string) => void;
type CountsProgress = (done: number, total: number) => void;

export class Engine implements LoupeApi {
  private readonly listeners = new Set<Listener>();
  private readonly lib: Library;
  private readonly runs: IndexingRuns;
  private readonly models: Models;
  private readonly categories: Categories;
  private readonly scanning: Scanning;
  private readonly albumViews: AlbumViews;
  private readonly care: LibraryCare;
  private readonly sidecars: SidecarWriting;
  private readonly people: People;

  private constructor(readonly libraryDir: string, opts: EngineOptions) {
    const emit = (e: EngineEvent): void => this.emit(e);
    this.lib = new Library(libraryDir, opts, emit);
    this.runs = new IndexingRuns(this.lib, opts, emit);
    this.models = new Models(this.lib, this.runs, emit);
    this.categories = new Categories(this.lib);
    this.scanning = new Scanning(this.lib.repos, libraryDir, emit);
    this.albumViews = new AlbumViews(this.lib);
    this.care = new LibraryCare(this.lib);
    this.sidecars = new SidecarWriting(this.lib.repos, emit);
    this.people = new People(this.lib.repos, (pack) => {
      // That pack's manifest alone (listing every pack would read them all); the defaults where it is gone or damaged.
      let m: PackManifest;
      try {
        m = this.lib.packs.get(pack).manifest;
      } catch {
        return undefined;
      }
      return m.kind === 'face' ? m.grouping : undefined;
    });
  }

  static open(opts: EngineOptions): Engine {
    return new Engine(opts.libraryDir, opts);
  }

  /** The folder of a pack installed in a library, found without opening (or migrating) that library. */
  static installedPack(libraryDir: string, name: string): string | null {
    return installedPackDir(libraryDir, name);
  }

  /** The engine's parts, for tests and benchmarks only (lint keeps transports off it). */
  get internals(): Library {
    return this.lib;
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(e: EngineEvent): void {
    for (const l of this.listeners) l(e);
  }

  // ---- folders and scanning ----

  async addFolder(path: string, options: { readonly confirm?: boolean } = {}): Promise<FolderInfo> {
    const row = addFolder(this.lib.repos, path, { libraryDir: this.libraryDir, confirm: options.confirm });
    const folders = this.lib.repos.folders.infos();
    this.emit({ type: 'folders', folders });
    return folders.find((f) => f.id === row.id)!;
  }

  async removeFolder(path: string): Promise<{ removedPhotos: number; restoredFolders: string[] }> {
    const { removed: removedPhotos, restored: restoredFolders } = removeFolder(this.lib.repos, path);
    // A run under way (this process's or another's) has files written but not committed yet: only it may sweep them.
    if (this.runs.state().running) collectGarbage(this.lib, false);
    else collectGarbageLocked(this.lib);
    this.emit({ type: 'folders', folders: this.lib.repos.folders.infos() });
    return { removedPhotos, restoredFolders };
  }

  async listFolders(): Promise<readonly FolderInfo[]> {
    return this.lib.repos.folders.infos();
  }

  folderRows(): FolderRow[] {
    return this.lib.repos.folders.list();
  }

  /** Scans one folder, or a part of it (the watcher's case). */
  scanOne(folder: FolderRow, dir?: string, recursive = true): Promise<ScanResult> {
    return this.scanning.scanOne(folder, dir, recursive);
  }

  scan(): Promise<ScanSummary> {
    return this.scanning.scanAll();
  }

  watch(opts: WatchOptions = {}): Promise<LibraryWatcher> {
    return LibraryWatcher.start({
      folderRows: () => this.folderRows(),
      scanOne: (folder, dir, recursive) => this.scanOne(folder, dir, recursive),
      index: () => this.index(),
      onFoldersChanged: (listener) => this.on((e) => { if (e.type === 'folders') listener(); }),
      reportError: (message) => this.emit({ type: 'watch-error', message }),
    }, opts);
  }

  // ---- indexing runs ----

  index(run: IndexRunOptions = {}): Promise<IndexSummary> {
    return this.runs.index(run);
  }

  embed(run: IndexRunOptions = {}): ReturnType<IndexingRuns['embed']> {
    return this.runs.embed(run);
  }

  indexingState(): IndexingState {
    return this.runs.state();
  }

  async pauseIndexing(): Promise<IndexingState> {
    return this.runs.pause();
  }

  async resumeIndexing(): Promise<IndexingState> {
    return this.runs.resume();
  }

  /** Scans every folder and indexes what changed while Loupe was not running, in the background. */
  catchUp(): void {
    this.runs.inBackground(() => this.scan());
  }

  // ---- the library ----

  async status(opts: { errorLimit?: number } = {}): Promise<LibraryStatus> {
    const s = await this.care.status(opts.errorLimit ?? 1000, this.runs.state());
    return { ...s, models: this.models.packStatus(), device: this.models.device() };
  }
  /** The database's health once the integrity check made at open has finished. */
  checkDatabase(): Promise<DatabaseHealth> { return this.care.checkDatabase(); }
  /** A copy of the database now (into the library's backups folder, or to `dest`); returns where. */
  backup(dest?: string): Promise<string> { return this.care.backup(dest); }

  /** Puts a copy back as a library's database (the library must not be open); see db/safety.ts. */
  static restore(libraryDir: string, copy: string): { replacedBy: string; keptAs: string | null } {
    return restoreDatabase(libraryDir, copy);
  }

  async getPhoto(id: number): Promise<PhotoDetails | null> {
    const row = this.lib.repos.photos.byId(id);
    const { photos } = this.lib.repos;
    if (!row) return null;
    const faces = row.hash ? this.lib.repos.faces.ofPicture(row.hash) : [];
    const at = this.lib.repos.places.ofPhoto(id);
    const place = at && {
      name: at.name, region: at.region, country: at.country, countryCode: at.countryCode, distanceKm: at.distanceKm, inferred: at.inferred,
    };
    const companions = photos.companions(id);
    const lines = row.hash ? this.lib.repos.texts.lines(row.hash, OCR_MODEL) : [];
    const text = lines.map((l) => ({ text: l.text, confidence: l.confidence, quad: l.quad }));
    return { ...toRecord(row), keywords: photos.keywords(id), regions: photos.regions(id), faces, place, text, companions };
  }

  /** A picture for the UI: `thumb/<id>/<size>` or `photo/<id>`, by photo id only. */
  async media(path: string): Promise<Media> {
    const { repos, thumbs } = this.lib;
    const stale = (row: { folder_id: number; path: string }): void => this.recheck(row.folder_id, row.path);
    return resolveMedia({ photos: repos.photos, folders: repos.folders, thumbs, stale }, parseMediaPath(path));
  }

  /** A photo's file changed under it: its folder is scanned again and what changed indexed, in the background. */
  private recheck(folderId: number, path: string): void {
    const folder = this.lib.repos.folders.byId(folderId);
    if (folder) this.runs.inBackground(async () => this.scanOne(folder, dirname(path), false));
  }

  // ---- models ----

  listModels(): Promise<readonly ModelPackInfo[]> { return this.models.list(); }
  useModel(name: string): Promise<ModelPackInfo> { return this.models.use(name); }
  installModel(name: string, opts: InstallOptions = {}): Promise<ModelPackInfo> { return this.models.install(name, opts); }
  cancelInstall(name: string): Promise<boolean> { return Promise.resolve(this.models.cancelInstall(name)); }
  importModel(dir: string, opts: ImportOptions = {}): Promise<ModelPackInfo> { return this.models.import(dir, opts); }
  verifyModels(name?: string, onFile?: VerifyListener): Promise<VerifyReport[]> { return this.models.verify(name, onFile); }
  removeModel(name: string): Promise<void> { return this.models.remove(name); }
  activeModel(kind: ModelKind): string | null { return this.models.active(kind); }
  async device(): Promise<DeviceInfo> { return this.models.device(); }
  setDevice(device: Device): Promise<DeviceInfo> { return this.models.setDevice(device); }

  // ---- search ----

  search(request: SearchRequest): Promise<SearchResponse> { return this.lib.searcher.search(request); }
  duplicates(filters?: SearchFilters): Promise<readonly DuplicateGroup[]> { return this.lib.searcher.duplicates({ filters }); }

  /** The serving space of a kind (what search reads), or null before anything is embedded in it. */
  servingSpace(kind: ModelKind): { space: string; pack: string; dim: number } | null {
    const s = this.lib.spaces.info(kind);
    return s ? { space: s.space, pack: s.pack, dim: s.dim } : null;
  }

  /** The library's own quality checks (the evaluation harness): vectors, embedded sentences, index agreement. */
  get inspect(): Inspection {
    return inspection(this.lib.searchContext);
  }

  // ---- albums ----

  async listAlbums(): Promise<readonly AlbumInfo[]> { return this.lib.albums.list(); }
  async findAlbum(ref: string | number): Promise<AlbumInfo> { return this.lib.albums.find(ref); }
  async createAlbum(name: string, query?: SearchRequest): Promise<AlbumInfo> { return this.lib.albums.create(name, query); }
  async renameAlbum(id: number, name: string): Promise<AlbumInfo> { return this.touching(this.lib.albums.rename(id, name)); }
  async deleteAlbum(id: number): Promise<void> { this.touching(this.lib.albums.delete(id)); }
  async addToAlbum(id: number, photoIds: readonly number[], before?: number): Promise<AlbumInfo> {
    return this.touching(this.lib.albums.add(id, photoIds, before));
  }
  async removeFromAlbum(id: number, photoIds: readonly number[]): Promise<AlbumInfo> {
    return this.touching(this.lib.albums.remove(id, photoIds));
  }
  async reorderAlbum(id: number, photoIds: readonly number[]): Promise<AlbumInfo> { return this.lib.albums.reorder(id, photoIds); }

  /** An album's photos in album order (a smart album: its query's order). */
  albumPhotos(id: number, offset = 0, limit = 100): Promise<SearchResponse> { return this.albumViews.photos(id, offset, limit); }

  /** Copies an album's photos (a smart album: all its query's results) to a folder, in album order. */
  exportAlbum(id: number, dest: string, opts: ExportOptions = {}): Promise<ExportSummary> { return this.albumViews.export(id, dest, opts); }

  // ---- categories ----

  async listTaxonomies(): Promise<readonly TaxonomyInfo[]> { return this.categories.taxonomies(); }
  categoryCounts(taxonomy: string, threshold?: number, onProgress?: CountsProgress): Promise<readonly CategoryCount[]> {
    return this.categories.counts(taxonomy, threshold, onProgress);
  }
  async listCategories(): Promise<readonly UserCategoryInfo[]> { return this.categories.list(); }
  async teachCategory(name: string, positives: readonly number[], negatives: readonly number[] = [], limit = 50): Promise<TeachResult> {
    return this.touching(this.categories.teach(name, positives, negatives, limit));
  }
  async deleteCategory(name: string): Promise<void> { this.touching(this.categories.delete(name)); }

  // ---- same object or place ----

  async markSame(photoIds: readonly number[]): Promise<SameGroup> {
    const ids = [...new Set(photoIds)];
    if (ids.length < 2) throw new UserError('mark at least two photos as the same object or place');
    const missing = ids.filter((id) => !this.lib.repos.photos.byId(id));
    if (missing.length) throw new UserError(`there is no photo ${missing.join(', ')}`, 404);
    const group = this.lib.repos.marks.mark(ids, Date.now());
    // The app learns from it in the background; elsewhere the next indexing run does.
    this.runs.whenIdle();
    return group;
  }
  async unmarkSame(photoIds: readonly number[]): Promise<{ readonly removed: number }> {
    const removed = this.lib.repos.marks.unmark(photoIds);
    if (removed) this.runs.whenIdle();
    return { removed };
  }
  async listSameGroups(): Promise<readonly SameGroup[]> { return this.lib.repos.marks.groups(); }

  // ---- people ----

  async listPeople(options: { readonly includeHidden?: boolean } = {}): Promise<readonly PersonInfo[]> {
    return this.people.list(options.includeHidden ?? false);
  }
  async personFaces(id: number): Promise<readonly FaceInfo[]> { return this.people.faces(id); }
  /** A person by id or name (the CLI's way). */
  async findPerson(ref: string | number): Promise<PersonInfo> { return this.people.find(ref); }
  async namePerson(id: number, name: string): Promise<PersonInfo> { return this.people.name(id, name); }
  async mergePeople(into: number, others: readonly number[]): Promise<PersonInfo> { return this.people.merge(into, others); }
  async splitFaces(faceIds: readonly number[]): Promise<PersonInfo> { return this.people.split(faceIds); }
  async moveFace(faceId: number, personId: number | null): Promise<void> { this.people.move(faceId, personId); }
  async notThisPerson(faceId: number, personId: number): Promise<void> { this.people.notThis(faceId, personId); }
  async hidePerson(id: number, hidden: boolean): Promise<PersonInfo> { return this.people.hide(id, hidden); }
  async forgetFaces(): Promise<{ readonly faces: number }> { return this.people.forgetAll(); }
  async faceSuggestions(limit?: number): Promise<readonly FaceSuggestion[]> { return this.people.suggestions(limit); }

  // ---- places ----

  async photoLocations(filters: SearchFilters = {}): Promise<PhotoLocations> {
    const rows = this.lib.repos.queries.located(parseSearchRequest({ filters }).filters ?? {}, MAP_POINTS + 1);
    const shown = rows.slice(0, MAP_POINTS);
    const truncated = rows.length > MAP_POINTS;
    return { ids: shown.map((r) => r.id), lats: shown.map((r) => r.lat), lons: shown.map((r) => r.lon), truncated };
  }

  async listPlaces(countryCode?: string): Promise<readonly PlaceCount[]> {
    const { places } = this.lib.repos;
    return countryCode === undefined ? places.countries() : places.cities(countryCode.toUpperCase());
  }

  // ---- preferences, and the sidecars they may ask for ----

  async preferences(): Promise<Preferences> { return this.sidecars.preferences(); }
  async setPreferences(changes: Partial<Omit<Preferences, 'mapTiles'>>): Promise<Preferences> { return this.sidecars.set(changes); }
  /** Writes the sidecars due now (when the preference is on) and says what was done. */
  syncSidecars(): Promise<SidecarReport> { return this.sidecars.settle(); }

  /** An album or category changed: the sidecars it touches are written, if the user turned that on. */
  private touching<T>(result: T): T {
    this.sidecars.changed();
    return result;
  }

  async close(): Promise<void> {
    await this.runs.stop();
    await this.sidecars.idle();
    await this.lib.close();
  }
}
