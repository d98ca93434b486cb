/**
 * The engine's public contract: what the CLI, the IPC layer, the HTTP bridge and the renderer share.
 * Plain data only (no classes, no Buffers), so every value crosses a process boundary as JSON.
 */

export type PhotoState = 'pending' | 'ok' | 'error' | 'missing';
export type FolderState = 'ok' | 'offline';
export type JobState = 'running' | 'done' | 'failed' | 'interrupted';

export interface FolderInfo {
  readonly id: number;
  readonly path: string;
  readonly state: FolderState;
  readonly addedAt: number;
  readonly lastScanAt: number | null;
  readonly photos: number;
  readonly pending: number;
  readonly errors: number;
  readonly missing: number;
}

export interface PhotoError {
  readonly id: number;
  readonly path: string;
  readonly error: string;
}

export interface JobInfo {
  readonly id: number;
  readonly kind: string;
  readonly state: JobState;
  readonly startedAt: number;
  readonly updatedAt: number;
  readonly finishedAt: number | null;
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly message: string | null;
}

/** Whether indexing runs: `paused` holds until resumed (for this session of the engine). */
export interface IndexingState {
  readonly paused: boolean;
  readonly running: boolean;
}

/** Where models run: an execution provider of onnxruntime. */
export type Provider = 'cpu' | 'cuda' | 'dml' | 'coreml';
/** What the user may ask for: `auto` is the best accelerator present, else the CPU. */
export type Device = 'auto' | Provider;

export interface DeviceInfo {
  /** The user's choice (saved in the library). */
  readonly requested: Device;
  /** The choices that mean something on this platform. */
  readonly choices: readonly Device[];
  /** The provider each loaded model actually runs on; empty until a model is first used. */
  readonly used: readonly { readonly pack: string; readonly model: string; readonly provider: Provider }[];
  /** Why an accelerator was not used (a fallback to the CPU), as logged. */
  readonly notes: readonly string[];
}

export interface InstallProgress {
  readonly pack: string;
  readonly file: string;
  readonly fileIndex: number;
  readonly files: number;
  /** Bytes of this file so far. */
  readonly done: number;
  readonly total: number | null;
}

export interface LibraryStatus {
  readonly library: string;
  readonly schemaVersion: number;
  readonly folders: readonly FolderInfo[];
  readonly counts: Readonly<Record<PhotoState, number>>;
  readonly thumbnails: { readonly files: number; readonly bytes: number };
  readonly errors: readonly PhotoError[];
  readonly lastJob: JobInfo | null;
  readonly indexing: IndexingState;
  readonly database: DatabaseHealth;
  /** Null when the library can be changed; else why it is open read-only (search works, changes do not). */
  readonly readOnly: string | null;
  /** The kinds of file this installation reads, how, or why not. */
  readonly formats: readonly FormatSupport[];
  /** Photos indexed whose sidecar could not be read, with why. */
  readonly metadataProblems: readonly { readonly path: string; readonly problem: string }[];
  /** Each installed pack: how far it has read the library, what search answers from, what failed. */
  readonly models: readonly PackStatus[];
  /** Where the models run: what was asked for, what each loaded model uses, and why an accelerator was not. */
  readonly device: DeviceInfo;
}

/** An installed pack's part in the library (`loupe status`, Settings). */
export interface PackStatus {
  readonly name: string;
  readonly kind: PackKind;
  /** New pictures are embedded (or, faces, looked at) with it. */
  readonly active: boolean;
  /** Pictures it has embedded (faces: looked at) of the pictures the library has. */
  readonly embedded: number;
  readonly total: number;
  /** The space search answers from with it (raw, or whitened: `cnn.<pack>.wN`), null when it does not serve. */
  readonly serving: string | null;
  /** Pictures it could not embed, with the last reason. */
  readonly failures: number;
  readonly lastFailure: string | null;
  /** A CNN space's whitening and adaptation; a dual encoder's scoring (how its results are cut). */
  readonly state: string | null;
}

export interface FormatSupport {
  readonly name: string;
  /** File name extensions, lower case, without the dot. */
  readonly extensions: readonly string[];
  readonly supported: boolean;
  /** How they are read, or why they are not. */
  readonly how: string;
}

/** The library's database file: whether it is whole, and the copies kept of it. */
export interface DatabaseHealth {
  readonly file: string;
  /** quick_check at open: still running, whole, or damaged (then `problems` says where, `advice` what to do). */
  readonly integrity: 'checking' | 'ok' | 'damaged';
  readonly problems: readonly string[];
  readonly advice: string | null;
  /** The folder of rotated copies (daily, before each migration, and the ones asked for). */
  readonly backups: string;
  readonly lastBackupAt: number | null;
}

export interface PhotoRecord {
  readonly id: number;
  readonly folderId: number;
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly hash: string | null;
  readonly format: string | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly orientation: number | null;
  readonly takenAt: string | null;
  readonly takenAtMs: number | null;
  readonly takenAtSource: 'exif' | 'file' | null;
  readonly cameraMake: string | null;
  readonly cameraModel: string | null;
  /** What people wrote about it (XMP, IPTC, a sidecar). */
  readonly title: string | null;
  readonly description: string | null;
  /** 0–5 stars; -1 rejected. */
  readonly rating: number | null;
  readonly label: string | null;
  /** A video's length (its poster frame is its picture); null for a photo. */
  readonly durationMs: number | null;
  readonly lens: string | null;
  readonly gpsLat: number | null;
  readonly gpsLon: number | null;
  readonly gpsAlt: number | null;
  readonly state: PhotoState;
  readonly error: string | null;
}

export interface ScanSummary {
  readonly folders: number;
  readonly seen: number;
  readonly added: number;
  readonly changed: number;
  readonly missing: number;
  readonly revived: number;
  readonly errors: number;
  readonly skippedDirs: readonly string[];
  readonly ms: number;
}

export interface IndexProgress {
  readonly jobId: number;
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly ratePerSec: number;
  readonly etaSec: number | null;
  readonly current: string | null;
}

export interface IndexSummary {
  readonly jobId: number;
  readonly processed: number;
  readonly ok: number;
  readonly failed: number;
  readonly moved: number;
  readonly missing: number;
  readonly ms: number;
  /** The run stopped early because indexing was paused (or nothing ran: it already was). */
  readonly paused?: boolean;
}

export type ThumbnailSize = 256 | 1024;

/** clip: cross-modal embeddings (sentence and similar-photo search); cnn: instance and region descriptors. */
export type ModelKind = 'clip' | 'cnn';

/** Every kind of model pack: the embedding kinds, and face packs (a detector and an embedder, for people). */
export type PackKind = ModelKind | 'face';

export interface EmbedProgress {
  readonly space: string;
  readonly pack: string;
  readonly kind: ModelKind;
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly ratePerSec: number;
  readonly etaSec: number | null;
}

export interface EmbedSummary {
  readonly space: string;
  readonly pack: string;
  readonly kind: ModelKind;
  readonly embedded: number;
  readonly failed: number;
  readonly ms: number;
  /** Every indexed picture has vectors in this space (search now serves it). */
  readonly complete: boolean;
}

export interface ModelPackInfo {
  readonly name: string;
  readonly kind: PackKind | null;
  readonly title: string;
  readonly installed: boolean;
  /** Active for its kind (new pictures are embedded with it). */
  readonly active: boolean;
  /** Search currently answers from this pack's vectors. */
  readonly serving: boolean;
  readonly embeddingDim: number | null;
  readonly bytes: number | null;
  readonly licence: string;
  readonly source: string;
  readonly description: string | null;
  /** The catalog's choice for its kind, offered on first run. */
  readonly recommended: boolean;
  /** Why the pack cannot be used (a damaged manifest) or installed (a catalog entry not pinned), else null. */
  readonly problem: string | null;
  /** What the user should know about using it (a CNN with a fixed input size: coarser region search), else null. */
  readonly note: string | null;
  /** What search has learned from this library for the pack's space (a CNN's whitening and adaptation), else null. */
  readonly learned: string | null;
  /** A dual encoder's family (clip, mobileclip, siglip, siglip2, xlm-roberta, nllb-siglip), else null. */
  readonly family: string | null;
  /** How its scores become relevance: sigmoid (the model's own probability) or cosine (calibrated on the library). */
  readonly scoring: 'cosine' | 'sigmoid' | null;
  /** Sentences in many languages. */
  readonly multilingual: boolean;
  /** Published quality (percent) and where it was published, for the catalog's table. */
  readonly quality: { readonly imagenet?: number; readonly flickrT2I?: number; readonly cocoT2I?: number; readonly source: string } | null;
  /** Measured cost on a 2-core laptop-class CPU (bench:encode), for the catalog's table. */
  readonly cost: { readonly imagesPerSec: number; readonly sentenceMs: number; readonly measured: string } | null;
  readonly ramMB: number | null;
  /** The catalog's estimate of the download (from the parameter count), where the exact size is not pinned yet. */
  readonly downloadMB: number | null;
}

/** Events the engine emits while it works; the UI and the CLI render them. */
/** A person: a named (or not yet named) set of faces. */
export interface PersonInfo {
  readonly id: number;
  readonly name: string | null;
  readonly hidden: boolean;
  readonly faces: number;
  readonly photos: number;
  /** Their best face: the photo (with its size as displayed, to crop the face square) and where in it. */
  readonly cover: { readonly photoId: number; readonly box: Box; readonly width: number; readonly height: number } | null;
}

/** "Is this Ana?": a face of no one that is clearly someone. */
export interface FaceSuggestion {
  readonly faceId: number;
  readonly photoId: number;
  /** The photo's size as displayed, to crop the face square. */
  readonly width: number;
  readonly height: number;
  readonly box: Box;
  readonly personId: number;
  readonly personName: string | null;
  readonly similarity: number;
}

/** A face on a photo, for the viewer. */
export interface PhotoFace {
  readonly id: number;
  readonly box: Box;
  readonly personId: number | null;
  readonly name: string | null;
}

/** One face, in the photo it is in. */
export interface FaceInfo {
  readonly id: number;
  readonly photoId: number;
  readonly path: string;
  readonly box: Box;
  readonly quality: number;
  readonly personId: number | null;
  /** Who put it there: clustering, or the user (whose word clustering never undoes). */
  readonly assignedBy: 'cluster' | 'user' | null;
}

/** What a pass of the face stage did. */
export interface FacesSummary {
  readonly pictures: number;
  readonly faces: number;
  readonly failed: number;
  /** People started by this pass (faces that were no one yet). */
  readonly newPeople: number;
  readonly ms: number;
}

/** What the user chose for the library. */
export interface Preferences {
  /**
   * Write albums and taught categories as XMP keywords into the photos' sidecars, for other
   * photo apps to read. Off by default: Loupe never writes beside the user's photos otherwise.
   */
  readonly writeSidecars: boolean;
  /** Read the text in photos (signs, receipts, screenshots) while indexing, on this computer. On by default. */
  readonly readText: boolean;
  /**
   * Draw street maps under the photos from online tiles. Off by default: then the map is drawn
   * from outlines kept on this computer and nothing is fetched. On, the tile server (`mapTiles`)
   * is sent the tile numbers of the area shown, with this computer's address.
   */
  readonly onlineMap: boolean;
  /** Where street tiles come from when `onlineMap` is on (set by the installation, not by a window). */
  readonly mapTiles: string;
  /**
   * The language searches are written in (BCP-47; this computer's until chosen): a multilingual
   * NLLB pack is told it before each sentence. Other packs read any language as it comes.
   */
  readonly language: string;
}

/** What a pass of reading text in photos did. */
export interface TextSummary {
  readonly pictures: number;
  /** Pictures with text, and lines read. */
  readonly withText: number;
  readonly lines: number;
  readonly failed: number;
  readonly ms: number;
}

/** A line of text read in a photo. */
export interface PhotoTextLine {
  readonly text: string;
  readonly confidence: number;
  /** Its four corners (top-left, top-right, bottom-right, bottom-left along the text), as fractions of the picture. */
  readonly quad: readonly (readonly [number, number])[];
}

/** What a pass of writing sidecars did. */
export interface SidecarReport {
  readonly written: number;
  readonly unchanged: number;
  readonly failed: readonly { readonly path: string; readonly error: string }[];
}

export type EngineEvent =
  | { readonly type: 'scan'; readonly summary: ScanSummary }
  | { readonly type: 'sidecars'; readonly report: SidecarReport }
  | { readonly type: 'progress'; readonly progress: IndexProgress }
  | { readonly type: 'indexed'; readonly summary: IndexSummary }
  | { readonly type: 'embed-progress'; readonly progress: EmbedProgress }
  | { readonly type: 'faces-progress'; readonly pack: string; readonly done: number; readonly total: number }
  | { readonly type: 'faces'; readonly pack: string; readonly summary: FacesSummary }
  | { readonly type: 'text-progress'; readonly done: number; readonly total: number }
  | { readonly type: 'text'; readonly summary: TextSummary }
  | { readonly type: 'embedded'; readonly summary: EmbedSummary }
  | { readonly type: 'log'; readonly message: string }
  | { readonly type: 'folder-state'; readonly folderId: number; readonly path: string; readonly state: FolderState }
  | { readonly type: 'watch-error'; readonly message: string }
  | { readonly type: 'indexing'; readonly state: IndexingState }
  /** A folder was added or removed. */
  | { readonly type: 'folders'; readonly folders: readonly FolderInfo[] }
  | { readonly type: 'install-progress'; readonly progress: InstallProgress }
  | { readonly type: 'installed'; readonly pack: string; readonly error: string | null };

/** The engine's operations. Implemented by main/engine.ts; proxied over IPC and HTTP. */
export interface LoupeApi {
  /** Adds a folder; one that holds the operating system is refused unless `confirm` says the user agreed. */
  addFolder(path: string, options?: { readonly confirm?: boolean }): Promise<FolderInfo>;
  /** Forgets a folder and its photos; folders it absorbed when added come back (`restoredFolders`). */
  removeFolder(path: string): Promise<{ readonly removedPhotos: number; readonly restoredFolders: readonly string[] }>;
  listFolders(): Promise<readonly FolderInfo[]>;
  scan(): Promise<ScanSummary>;
  index(): Promise<IndexSummary>;
  /** Stops the run under way (the photos it had not reached stay pending) and any new one until resumed. */
  pauseIndexing(): Promise<IndexingState>;
  /** Lets indexing run again and starts a run for whatever is pending. */
  resumeIndexing(): Promise<IndexingState>;
  status(opts?: { readonly errorLimit?: number }): Promise<LibraryStatus>;
  /** One photo, with its keywords (for the viewer). */
  getPhoto(id: number): Promise<PhotoDetails | null>;
  listModels(): Promise<readonly ModelPackInfo[]>;
  /** Makes an installed pack the active one of its kind; its vectors are computed in the background. */
  useModel(name: string): Promise<ModelPackInfo>;
  /** Downloads a catalog pack (progress as `install-progress` events, then `installed`). */
  installModel(name: string): Promise<ModelPackInfo>;
  /** Stops a download under way (its `installed` event says so); what arrived is kept, so installing again resumes. */
  cancelInstall(name: string): Promise<boolean>;
  device(): Promise<DeviceInfo>;
  /** Saves the choice and reloads the models on it; an indexing run under way restarts on the new device. */
  setDevice(device: Device): Promise<DeviceInfo>;
  preferences(): Promise<Preferences>;
  /** Saves what changed; turning sidecar writing on writes every sidecar due (a `sidecars` event says what it did). */
  setPreferences(changes: Partial<Omit<Preferences, 'mapTiles'>>): Promise<Preferences>;

  /** Every query type, one entry point: sentence, photo, region, category, combined, or filters alone. */
  search(request: SearchRequest): Promise<SearchResponse>;
  /** Groups of near-identical photos and bursts. */
  duplicates(filters?: SearchFilters): Promise<readonly DuplicateGroup[]>;

  listAlbums(): Promise<readonly AlbumInfo[]>;
  /** With a query, a smart album: its photos are the query's results, updated as the library changes. */
  createAlbum(name: string, query?: SearchRequest): Promise<AlbumInfo>;
  renameAlbum(id: number, name: string): Promise<AlbumInfo>;
  deleteAlbum(id: number): Promise<void>;
  addToAlbum(id: number, photoIds: readonly number[], beforePhotoId?: number): Promise<AlbumInfo>;
  removeFromAlbum(id: number, photoIds: readonly number[]): Promise<AlbumInfo>;
  reorderAlbum(id: number, photoIds: readonly number[]): Promise<AlbumInfo>;
  /** An album's photos in album order (a smart album: its query's order). */
  albumPhotos(id: number, offset?: number, limit?: number): Promise<SearchResponse>;

  listTaxonomies(): Promise<readonly TaxonomyInfo[]>;
  /** Which classes of a taxonomy the library has, with counts, at a confidence threshold (0–1). */
  categoryCounts(taxonomy: string, threshold?: number): Promise<readonly CategoryCount[]>;
  listCategories(): Promise<readonly UserCategoryInfo[]>;
  /** Adds examples (and counter-examples) to a user category, creating it when new, and retrains it. */
  teachCategory(name: string, positives: readonly number[], negatives?: readonly number[]): Promise<TeachResult>;
  deleteCategory(name: string): Promise<void>;
  /**
   * Marks photos as showing the same object or place (joining any group one of them is already in).
   * "Same object" search learns from the marks at the next indexing run: the CNN space's adapted
   * projection is trained again with them (no other space changes).
   */
  markSame(photoIds: readonly number[]): Promise<SameGroup>;
  /** Takes photos out of their same-object group (a group left with one photo goes); says how many photos left a group. */
  unmarkSame(photoIds: readonly number[]): Promise<{ readonly removed: number }>;
  /** The groups of photos marked as the same object or place. */
  listSameGroups(): Promise<readonly SameGroup[]>;

  /** People found in the library, most photos first (hidden ones only when asked). */
  listPeople(options?: { readonly includeHidden?: boolean }): Promise<readonly PersonInfo[]>;
  /** A person's faces, best first. */
  personFaces(id: number): Promise<readonly FaceInfo[]>;
  namePerson(id: number, name: string): Promise<PersonInfo>;
  /** Makes several people one (the first keeps its id and name). */
  mergePeople(into: number, others: readonly number[]): Promise<PersonInfo>;
  /** Takes faces off into a new person. */
  splitFaces(faceIds: readonly number[]): Promise<PersonInfo>;
  /** Gives a face to a person, or to no one. */
  moveFace(faceId: number, personId: number | null): Promise<void>;
  /** "Not this person": remembered, never suggested again. */
  notThisPerson(faceId: number, personId: number): Promise<void>;
  hidePerson(id: number, hidden: boolean): Promise<PersonInfo>;
  /** Deletes every face and person (the face stage finds faces again only if a face pack stays active). */
  forgetFaces(): Promise<{ readonly faces: number }>;
  /** Faces of no one that are clearly someone, best first, for a quick yes / no. */
  faceSuggestions(limit?: number): Promise<readonly FaceSuggestion[]>;

  /** The Places browser: countries with photos (no code), or one country's places, most photos first. */
  listPlaces(countryCode?: string): Promise<readonly PlaceCount[]>;
  /** Where the photos passing these filters were taken (those with a GPS), for the map: parallel arrays. */
  photoLocations(filters?: SearchFilters): Promise<PhotoLocations>;
}

/** Photos on the map: the i-th photo `ids[i]` is at (`lats[i]`, `lons[i]`). */
export interface PhotoLocations {
  readonly ids: readonly number[];
  readonly lats: readonly number[];
  readonly lons: readonly number[];
  /** More photos pass than were sent (the most recent are). */
  readonly truncated: boolean;
}

/** A country or a place with photos taken there: a row of the Places browser. */
export interface PlaceCount {
  /** The country's name, or the place's. */
  readonly name: string;
  /** Null on a country's row. */
  readonly placeId: number | null;
  /** ISO 3166-1 alpha-2. */
  readonly countryCode: string;
  /** The place's first-order region, named by its seat (null on a country's row, or where the place is that seat). */
  readonly region: string | null;
  readonly photos: number;
  /** The most recent photo there. */
  readonly coverId: number;
}

/** Where a photo was taken, by name. */
export interface PhotoPlaceInfo {
  readonly name: string;
  readonly region: string | null;
  readonly country: string;
  readonly countryCode: string;
  /** How far the photo's GPS is from the place's centre (null where inferred). */
  readonly distanceKm: number | null;
  /** True where the photo has no GPS and was placed "near" by photos taken within hours of it. */
  readonly inferred: boolean;
}

/** Photos the user marked as showing the same object or place. */
export interface SameGroup {
  readonly id: number;
  readonly photoIds: readonly number[];
}

export interface TeachResult {
  readonly category: UserCategoryInfo;
  readonly trainMs: number;
  /** Photos the category's classifier accepts that are not examples yet, most likely first. */
  readonly suggestions: readonly { readonly photo: PhotoRecord; readonly probability: number }[];
}

/** A box as fractions (0–1) of the picture as displayed (after EXIF orientation). */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export type Orientation = 'landscape' | 'portrait' | 'square';

/** Narrow any query (or, alone, browse the library). Every field is optional; all given must hold. */
/** A region someone drew on a photo in another app (MWG or Microsoft schema): a face, a pet, a thing. */
export interface PhotoRegion {
  /** The name written on it (a person's, usually), or null. */
  readonly name: string | null;
  /** The MWG type (Face, Pet, Focus, BarCode) in lower case, or null. */
  readonly kind: string | null;
  readonly box: Box;
}

/** A photo with what needs a query of its own: its keywords (XMP, IPTC, sidecar). */
export interface PhotoDetails extends PhotoRecord {
  readonly keywords: readonly string[];
  /** Regions drawn on it in other apps (faces named in Lightroom, digiKam, Picasa, Windows Photo Gallery). */
  readonly regions: readonly PhotoRegion[];
  /** Faces the active face pack found on it, with whose they are. */
  readonly faces: readonly PhotoFace[];
  /** The place it was taken in (from its GPS, or inferred), or null. */
  readonly place: PhotoPlaceInfo | null;
  /** The text read in it, line by line in reading order. */
  readonly text: readonly PhotoTextLine[];
  /** Other files that are this photo (the RAW beside a JPEG). */
  readonly companions: readonly { readonly id: number; readonly path: string; readonly format: string | null }[];
}

export interface SearchFilters {
  /** Taken at or after / before (epoch ms; the photo's date, local time read as UTC when it has no offset). */
  readonly from?: number;
  readonly to?: number;
  readonly folders?: readonly number[];
  readonly albums?: readonly number[];
  /** Matched against camera make and model, case-insensitive substring. */
  readonly camera?: string;
  readonly hasLocation?: boolean;
  readonly orientation?: Orientation;
  readonly formats?: readonly string[];
  /** Rated at least this many stars (XMP rating). */
  readonly minRating?: number;
  /** Has every one of these keywords (case-insensitive; a hierarchical keyword matches by its full path or any level). */
  readonly keywords?: readonly string[];
  /** Has one of these colour labels. */
  readonly labels?: readonly string[];
  /** Shows every one of these people (person ids). */
  readonly people?: readonly number[];
  /** Shows none of these people. */
  readonly notPeople?: readonly number[];
  /** Shows exactly this many faces (the active face pack's, good enough to tell who). */
  readonly peopleCount?: number;
  /** Shows only the people in `people`: no one else's face. */
  readonly onlyPeople?: boolean;
  /** Taken in every one of these (a place, region or country name, or a country code; case and accents ignored). */
  readonly places?: readonly string[];
  /** Taken in none of these. */
  readonly notPlaces?: readonly string[];
  /** Shows every one of these words or phrases in the text read in it (case and accents ignored). */
  readonly texts?: readonly string[];
  /** Taken in one of these places (their ids, as `listPlaces` gives them): the place itself, not its region. */
  readonly placeIds?: readonly number[];
  /** Its GPS inside this box (degrees; west > east crosses the antimeridian). */
  readonly area?: { readonly south: number; readonly west: number; readonly north: number; readonly east: number };
}

/** An example photo: one in the library, a file on this machine, or dropped-in bytes (base64). Never added to the library. */
export type PhotoQuery =
  | { readonly id: number }
  | { readonly path: string }
  | { readonly bytes: string };

export type SearchMode = 'similar' | 'same';
export type SearchSort = 'relevance' | 'newest' | 'oldest';

export interface SearchRequest {
  /** Sentence, with -negatives, "phrases" and category: terms. */
  readonly text?: string;
  readonly photo?: PhotoQuery;
  /** A region of a library photo: find that object elsewhere, boxed. */
  readonly region?: { readonly photoId: number; readonly box: Box };
  /** For photo queries: similar (CLIP) or same object/place (CNN descriptors). Default similar. */
  readonly mode?: SearchMode;
  /** Text + photo: how much the text counts (0–1, default 0.5). */
  readonly textWeight?: number;
  /** α-weighted query expansion (default on for "same" and region search once the CNN space is whitened). */
  readonly expand?: boolean;
  /** Diffusion re-ranking of the top candidates (default off). */
  readonly diffusion?: boolean;
  /**
   * A sentence's results end where relevance does (search/relevance.ts); `all` ranks every picture
   * past that too ("show all").
   */
  readonly all?: boolean;
  /**
   * Region search: the boxes of this many first hits are found again on their pictures' feature
   * maps (any window, not only the stored grid's), at one CNN run each (default 12; 0: the grid's boxes).
   */
  readonly refineBoxes?: number;
  readonly filters?: SearchFilters;
  readonly sort?: SearchSort;
  readonly offset?: number;
  readonly limit?: number;
}

export interface SearchHit {
  readonly photo: PhotoRecord;
  readonly score: number;
  /** Where the match is, for region and same-object queries. */
  readonly box: Box | null;
  /** For a video: the moment whose frame matched (ms from its start); null for a picture or the poster. */
  readonly atMs: number | null;
  /** Why it matched, when not by its picture: a file or folder name, its title, description or a keyword. */
  readonly matchedName: boolean;
}

export interface SearchResponse {
  readonly hits: readonly SearchHit[];
  /** Results in all (for paging). */
  readonly total: number;
  readonly offset: number;
  /** The embedding space answered from, or null for a browse. */
  readonly space: string | null;
  readonly tookMs: number;
  /** Things the user should know (a category not found, a model missing). */
  readonly notes: readonly string[];
  /** Ranked pictures past where a sentence's relevance ends, left out unless `all` is asked (0 or absent: none). */
  readonly beyond?: number;
}

export interface AlbumInfo {
  readonly id: number;
  readonly name: string;
  /** A smart album's saved query; null for a plain one. */
  readonly query: SearchRequest | null;
  readonly count: number;
  readonly coverPhotoId: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface TaxonomyInfo {
  readonly name: string;
  readonly title: string;
  readonly classes: number;
}

export interface CategoryCount {
  readonly taxonomy: string;
  readonly name: string;
  readonly count: number;
}

export interface UserCategoryInfo {
  readonly id: number;
  readonly name: string;
  readonly positives: number;
  readonly negatives: number;
  readonly trainedAt: number | null;
}

export interface DuplicateGroup {
  readonly photos: readonly PhotoRecord[];
  /** Lowest similarity inside the group. */
  readonly similarity: number;
}

/**
 * What the Electron preload script puts on `window.loupe` (and nothing more): one checked call
 * into the engine, its events, and the scheme pictures are served on.
 */
export interface WindowBridge {
  call(method: string, args: readonly unknown[]): Promise<unknown>;
  onEvent(listener: (e: EngineEvent) => void): () => void;
  /** Base of picture addresses (`loupe://media/`). */
  readonly mediaBase: string;
  /** The system folder chooser (desktop only). */
  pickFolder(): Promise<string | null>;
}
