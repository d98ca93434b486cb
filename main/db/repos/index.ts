/**
 * Every repository of one library database, made once when the library opens. The rest of the
 * engine reaches SQLite only through these.
 */
import type { Db } from '../database.js';
import { AlbumsRepo } from './albums.js';
import { CategoriesRepo } from './categories.js';
import { FoldersRepo } from './folders.js';
import { JobsRepo } from './jobs.js';
import { LibraryQueries } from './library-queries.js';
import { PhotosRepo } from './photos.js';
import { SettingsRepo } from './settings.js';
import { ThumbnailsRepo } from './thumbnails.js';
import { VectorStore } from './vectors.js';
import { WhiteningsRepo } from './whitenings.js';

export class Repos {
  readonly photos: PhotosRepo;
  readonly folders: FoldersRepo;
  readonly albums: AlbumsRepo;
  readonly jobs: JobsRepo;
  readonly settings: SettingsRepo;
  readonly categories: CategoriesRepo;
  readonly vectors: VectorStore;
  readonly whitenings: WhiteningsRepo;
  readonly thumbnails: ThumbnailsRepo;
  readonly queries: LibraryQueries;

  constructor(private readonly db: Db) {
    this.photos = new PhotosRepo(db);
    this.folders = new FoldersRepo(db);
    this.albums = new AlbumsRepo(db);
    this.jobs = new JobsRepo(db);
    this.settings = new SettingsRepo(db);
    this.categories = new CategoriesRepo(db);
    this.vectors = new VectorStore(db);
    this.whitenings = new WhiteningsRepo(db);
    this.thumbnails = new ThumbnailsRepo(db);
    this.queries = new LibraryQueries(db);
  }

  /** Runs `fn` in one transaction across repositories (nested calls join the outer one). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}
