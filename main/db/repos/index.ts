/**
 * Every repository of one library database, made once when the library opens. The rest of the
 * engine reaches SQLite only through these.
 */
import type { Db } from '../database.js';
import { AlbumsRepo } from './albums.js';
import { CategoriesRepo } from './categories.js';
import { FacesRepo } from './faces.js';
import { FoldersRepo } from './folders.js';
import { JobsRepo } from './jobs.js';
import { LibraryQueries } from './library-queries.js';
import { MarksRepo } from './marks.js';
import { PhotosRepo } from './photos.js';
import { PlacesRepo } from './places.js';
import { TextsRepo } from './texts.js';
import { WordsRepo } from './words.js';
import { SettingsRepo } from './settings.js';
import { SidecarsRepo } from './sidecars.js';
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
  readonly sidecars: SidecarsRepo;
  readonly faces: FacesRepo;
  readonly places: PlacesRepo;
  readonly texts: TextsRepo;
  readonly words: WordsRepo;
  readonly marks: MarksRepo;

  /** @param readOnly the library's folder when it is open read-only (writes are refused, naming it). */
  constructor(private readonly db: Db, readonly readOnly: string | null = null) {
    this.photos = new PhotosRepo(db, readOnly);
    this.folders = new FoldersRepo(db, readOnly);
    this.albums = new AlbumsRepo(db, readOnly);
    this.jobs = new JobsRepo(db, readOnly);
    this.settings = new SettingsRepo(db, readOnly);
    this.categories = new CategoriesRepo(db, readOnly);
    this.vectors = new VectorStore(db, readOnly);
    this.whitenings = new WhiteningsRepo(db, readOnly);
    this.thumbnails = new ThumbnailsRepo(db, readOnly);
    this.queries = new LibraryQueries(db, readOnly);
    this.sidecars = new SidecarsRepo(db, readOnly);
    this.faces = new FacesRepo(db, readOnly);
    this.places = new PlacesRepo(db, readOnly);
    this.texts = new TextsRepo(db, readOnly);
    this.words = new WordsRepo(db, readOnly);
    this.marks = new MarksRepo(db, readOnly);
  }

  /** Runs `fn` in one transaction across repositories (nested calls join the outer one). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}
