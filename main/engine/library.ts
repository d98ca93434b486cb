/**
 * An open library folder: the database and its repositories, the thumbnail cache, the model
 * packs, the vector indexes, the encoders, the space registry and search — everything the
 * engine's facade works with, made once at open.
 */
import { SEARCH_LANGUAGE_SETTING, systemLanguage } from '../encoders/languages.js';
import { join } from 'node:path';
import type { EngineEvent } from '../contract/api.js';
import type { Device } from '../contract/api.js';
import { isDevice } from '../contract/devices.js';
import { Albums } from '../collections/albums.js';
import { openLibraryDatabase, type Db } from '../db/database.js';
import { Repos } from '../db/repos/index.js';
import { Backups, DatabaseDamagedError, quickCheck } from '../db/safety.js';
import { errorMessage } from '../util/errors.js';
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
  readonly file: string;
  /** Null when the library can be changed; else its folder, open read-only (on a read-only disk). */
  readonly readOnly: string | null;
  private readonly closeDb: () => void;
  readonly backups: Backups;
  /** quick_check's findings, run in a worker as the library opens ([] when whole). */
  readonly integrity: Promise<string[]>;
  private checked: string[] | null = null;
  private dailyCopy: Promise<unknown> = Promise.resolve();
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
    this.backups = new Backups(join(dir, 'backups'));
    this.file = join(dir, 'loupe.db');
    const opened = openLibraryDatabase(dir, this.backups);
    this.db = opened.db;
    this.closeDb = opened.close;
    this.readOnly = opened.readOnly;
    this.repos = new Repos(this.db, this.readOnly);
    this.thumbs = new ThumbnailStore(join(dir, 'thumbs'), this.repos.thumbnails);
    this.packs = new PackStore(join(dir, 'models'), trialRun);
    const log = (message: string): void => emit({ type: 'log', message });
    this.indexes = new IndexSet(join(dir, 'index'), this.repos.vectors, log, opts.flatLimit);
    const saved = this.repos.settings.get('device');
    const device = opts.device ?? (saved && isDevice(saved) ? saved : 'auto');
    // "auto" means use what is there: an accelerator it does not find is no warning (Settings and
    // status say what is used, from the encoders' notes); a device asked for by name that is missing is.
    const encoderLog = device === 'auto' ? undefined : log;
    const language = (): string => this.repos.settings.get(SEARCH_LANGUAGE_SETTING) ?? systemLanguage();
    this.encoders = new EncoderCache(this.packs, {
      device, threads: opts.threads, workers: opts.inferenceWorkers, log: encoderLog, language,
    });
    this.spaces = new SpaceRegistry(this.repos, this.indexes);
    this.searchContext = { repos: this.repos, indexes: this.indexes, encoders: this.encoders, thumbs: this.thumbs, spaces: this.spaces };
    this.searcher = new Searcher(this.searchContext);
    this.albums = new Albums(this.repos);
    // The file actually open (on a read-only disk, its copy).
    this.integrity = quickCheck(this.db.name).then((problems) => {
      this.checked = problems;
      if (problems.length > 0) emit({ type: 'log', message: this.damaged(problems).message });
      // A whole library with something in it gets its daily copy (a damaged one never overwrites good copies).
      else if (this.readOnly === null && this.repos.folders.list().length > 0 && this.backups.dailyDue()) {
        this.dailyCopy = this.backups.create(this.db, 'daily').catch((err: unknown) => emit({ type: 'log', message: errorMessage(err) }));
      }
      return problems;
    });
  }

  /** The integrity check's findings so far: null while it runs. */
  get integrityNow(): readonly string[] | null {
    return this.checked;
  }

  damaged(problems: readonly string[]): DatabaseDamagedError {
    return new DatabaseDamagedError(this.file, problems, this.backups.dir);
  }

  /** Throws when the check found the database damaged (writing to it would spread the damage). */
  async mustBeWhole(): Promise<void> {
    const problems = await this.integrity;
    if (problems.length > 0) throw this.damaged(problems);
  }

  async close(): Promise<void> {
    await this.integrity;
    await this.dailyCopy;
    await this.encoders.close();
    await this.indexes.close();
    this.closeDb();
  }
}
