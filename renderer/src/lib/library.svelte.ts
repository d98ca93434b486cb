/**
 * The library as the app knows it: folders, albums, categories, status and the indexing run,
 * kept up to date from the engine's answers and its events (the reducer below).
 */
import type {
  AlbumInfo, EmbedProgress, EngineEvent, FolderInfo, IndexingState, IndexProgress, LibraryStatus, TaxonomyInfo, UserCategoryInfo,
} from '../../../main/contract/api.js';
import { api } from './client.js';
import { failures } from './errors.svelte.js';

/** What an event asks of the app beyond the library's own state. */
export interface EventEffect {
  /** The library changed: reload folders, albums, categories and status. */
  readonly refresh: boolean;
  /** New vectors: what is on screen may change. */
  readonly reloadView: boolean;
}

export class LibraryState {
  folders = $state<FolderInfo[]>([]);
  albums = $state<AlbumInfo[]>([]);
  taxonomies = $state<TaxonomyInfo[]>([]);
  categories = $state<UserCategoryInfo[]>([]);
  status = $state<LibraryStatus | null>(null);
  ready = $state(false);
  indexing = $state<IndexProgress | null>(null);
  embedding = $state<EmbedProgress | null>(null);
  /** The face stage's progress (after embedding), with when it started, for its rate. */
  faces = $state<{ done: number; total: number; since: number } | null>(null);
  /** The text stage at work: pictures read of how many. */
  reading = $state<{ done: number; total: number; since: number } | null>(null);
  /** A scan and index the user asked for is under way. */
  checking = $state(false);
  run = $state<IndexingState>({ paused: false, running: false });
  readonly busy = $derived(this.checking || this.run.running);

  async refresh(): Promise<void> {
    await failures.attempt(async () => {
      const [folders, albums, categories, status] = await Promise.all([
        api.listFolders(), api.listAlbums(), api.listCategories(), api.status({ errorLimit: 200 }),
      ]);
      this.folders = [...folders];
      this.albums = [...albums];
      this.categories = [...categories];
      this.status = status;
      this.run = status.indexing;
    });
  }

  async loadTaxonomies(): Promise<void> {
    await failures.attempt(async () => {
      this.taxonomies = [...(await api.listTaxonomies())];
    });
  }

  /** The event reducer: applies an engine event to the library's state and says what else it needs. */
  reduce(e: EngineEvent): EventEffect {
    const none = { refresh: false, reloadView: false };
    switch (e.type) {
      case 'progress':
        this.indexing = e.progress;
        return none;
      case 'embed-progress':
        this.embedding = e.progress;
        return none;
      case 'faces-progress':
        this.embedding = null;
        this.faces = { done: e.done, total: e.total, since: this.faces?.since ?? Date.now() };
        return none;
      case 'faces':
        this.faces = null;
        return { refresh: true, reloadView: false };
      case 'text-progress':
        this.faces = null;
        this.reading = { done: e.done, total: e.total, since: this.reading?.since ?? Date.now() };
        return none;
      case 'text':
        this.reading = null;
        return { refresh: true, reloadView: false };
      case 'indexing':
        this.run = e.state;
        if (e.state.running) return none;
        this.indexing = null;
        this.embedding = null;
        this.faces = null;
        this.reading = null;
        return { refresh: true, reloadView: false };
      case 'indexed':
        this.indexing = null;
        return { refresh: true, reloadView: false };
      case 'embedded':
        this.embedding = null;
        return { refresh: true, reloadView: true };
      case 'scan':
      case 'folder-state':
      case 'folders':
        return { refresh: true, reloadView: false };
      default:
        return none;
    }
  }

  /** Scans every folder and indexes what changed (the status bar's button). */
  async scanAndIndex(): Promise<void> {
    this.checking = true;
    try {
      await failures.attempt(async () => {
        await api.scan();
        await api.index();
      });
    } finally {
      this.checking = false;
      this.indexing = null;
      this.embedding = null;
      await this.refresh();
    }
  }

  async setPaused(paused: boolean): Promise<void> {
    const state = await failures.attempt(() => (paused ? api.pauseIndexing() : api.resumeIndexing()));
    if (state) this.run = state;
  }
}
