/**
 * An open library folder: the database and its repositories, the thumbnail cache, the model
 * packs, the vector indexes, the encoders, the space registry and search — everything the
 * engine's facade works with, made once at open.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineEvent } from '../contract/api.js';
import type { Device } from '../contract/api.js';
import { isDevice } from '../contract/devices.js';
import { Albums } from '../collections/albums.js';
import { openDatabase, type Db } from '../db/database.js';
import { Repos } from '../db/repos/index.js';
import { SpaceRegistry } from '../embed/spaces.js';
import { EncoderCache } from '../encoders/cache.js';
import { trialRun } from '../encoders/trial.js';
import { IndexSet } from '../index/spaces.js';
import { ThumbnailStore } from '../ingest/thumbnails.js';
import { PackStore } from '../models/packs.js';
import type { SearchContext } from '../search/context.js';
import { Searcher } from '../search/search.js';

export interface LibraryOptions {
  readonly device?: Device;
  readonly threads?: number;
  readonly inferenceWorkers?: number;
  readonly flatLimit?: number;
}

export class Library {
  readonly db: Db;
  readonly repos: Repos;
  readonly thumbs: ThumbnailStore;
  readonly packs: PackStore;
  readonly indexes: IndexSet;
  readonly encoders: EncoderCache;
  readonly spaces: SpaceRegistry;
  readonly searchContext: SearchContext;
  readonly searcher: Searcher;
  readonly albums: Albums;

  constructor(readonly dir: string, opts: LibraryOptions, emit: (e: EngineEvent) => void) {
    mkdirSync(dir, { recursive: true });
    this.db = openDatabase(join(dir, 'loupe.db'));
    this.repos = new Repos(this.db);
    this.thumbs = new ThumbnailStore(join(dir, 'thumbs'), this.repos.thumbnails);
    this.packs = new PackStore(join(dir, 'models'), trialRun);
    const log = (message: string): void => emit({ type: 'log', message });
    this.indexes = new IndexSet(join(dir, 'index'), this.repos.vectors, log, opts.flatLimit);
    const saved = this.repos.settings.get('device');
    const device = opts.device ?? (saved && isDevice(saved) ? saved : 'auto');
    this.encoders = new EncoderCache(this.packs, { device, threads: opts.threads, workers: opts.inferenceWorkers, log });
    this.spaces = new SpaceRegistry(this.repos, this.indexes);
    this.searchContext = { repos: this.repos, indexes: this.indexes, encoders: this.encoders, thumbs: this.thumbs, spaces: this.spaces };
    this.searcher = new Searcher(this.searchContext);
    this.albums = new Albums(this.repos);
  }

  async close(): Promise<void> {
    await this.encoders.close();
    await this.indexes.close();
    this.db.close();
  }
}
