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

export interface LibraryStatus {
  readonly library: string;
  readonly schemaVersion: number;
  readonly folders: readonly FolderInfo[];
  readonly counts: Readonly<Record<PhotoState, number>>;
  readonly thumbnails: { readonly files: number; readonly bytes: number };
  readonly errors: readonly PhotoError[];
  readonly lastJob: JobInfo | null;
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
}

export type ThumbnailSize = 256 | 1024;

/** clip: cross-modal embeddings (sentence and similar-photo search); cnn: instance and region descriptors. */
export type ModelKind = 'clip' | 'cnn';

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
  readonly kind: ModelKind | null;
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
  /** Why an installed pack cannot be used (damaged manifest), else null. */
  readonly problem: string | null;
}

/** Events the engine emits while it works; the UI and the CLI render them. */
export type EngineEvent =
  | { readonly type: 'scan'; readonly summary: ScanSummary }
  | { readonly type: 'progress'; readonly progress: IndexProgress }
  | { readonly type: 'indexed'; readonly summary: IndexSummary }
  | { readonly type: 'embed-progress'; readonly progress: EmbedProgress }
  | { readonly type: 'embedded'; readonly summary: EmbedSummary }
  | { readonly type: 'log'; readonly message: string }
  | { readonly type: 'folder-state'; readonly folderId: number; readonly path: string; readonly state: FolderState }
  | { readonly type: 'watch-error'; readonly message: string };

/** The engine's operations. Implemented by main/engine.ts; proxied over IPC and HTTP. */
export interface LoupeApi {
  addFolder(path: string): Promise<FolderInfo>;
  removeFolder(path: string): Promise<{ readonly removedPhotos: number }>;
  listFolders(): Promise<readonly FolderInfo[]>;
  scan(): Promise<ScanSummary>;
  index(): Promise<IndexSummary>;
  status(opts?: { readonly errorLimit?: number }): Promise<LibraryStatus>;
  getPhoto(id: number): Promise<PhotoRecord | null>;
  listModels(): Promise<readonly ModelPackInfo[]>;
  /** Makes an installed pack the active one of its kind; its vectors are computed in the background. */
  useModel(name: string): Promise<ModelPackInfo>;
}
