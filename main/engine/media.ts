/**
 * Pictures for the UI, by photo id only: the file comes from the library's own records (see
 * contract/media.ts for what a request may say). An original is served only while it is still
 * the file that was indexed: a regular file, inside the folder it was found in (no link followed
 * out of it), of the size and modification time recorded. Anything else is not served, and the
 * folder is looked at again.
 */
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { sep } from 'node:path';
import { rawFormatOf, videoFormatOf } from '../contract/formats.js';
import { MediaError, type Media, type MediaRequest } from '../contract/media.js';
import { decodePhoto } from '../ingest/decoder.js';
import type { FoldersRepo } from '../db/repos/folders.js';
import type { PhotoRow, PhotosRepo } from '../db/repos/photos.js';
import { fsArg } from '../ingest/fsnames.js';
import type { ThumbnailStore } from '../ingest/thumbnails.js';

/** Formats every browser engine Loupe runs in shows as they are. */
const SHOWN_AS_IS: Readonly<Record<string, string>> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', avif: 'image/avif' };
/** Long side of the picture made for formats a browser cannot show (HEIF, TIFF). */
const LARGE = 2048;

export interface MediaSources {
  readonly photos: PhotosRepo;
  readonly folders: FoldersRepo;
  readonly thumbs: ThumbnailStore;
  /** A photo's file is not what was indexed any more: have its folder looked at again. */
  readonly stale: (row: PhotoRow) => void;
}

/** Browser types of the video containers a video element plays (others show their poster and frames). */
const PLAYABLE: Readonly<Record<string, string>> = { mp4: 'video/mp4', m4v: 'video/mp4', mov: 'video/mp4', webm: 'video/webm', mkv: 'video/webm' };

/** The original's real path when it lies inside the folder it was found in (no link followed out of it); else null. */
async function realPathInside(src: MediaSources, row: PhotoRow): Promise<Buffer | null> {
  const folder = src.folders.byId(row.folder_id);
  if (!folder) return null;
  // As bytes: a name that is not UTF-8 must come back as the same name.
  let real: Buffer;
  try {
    real = await realpath(fsArg({ text: row.path, raw: row.path_raw }), { encoding: 'buffer' });
  } catch {
    return null;
  }
  const root = Buffer.from(folder.path.endsWith(sep) ? folder.path : folder.path + sep);
  return real.length > root.length && real.subarray(0, root.length).equals(root) ? real : null;
}

/** The original's bytes, read through one open file that was checked to be the indexed one; null when it is not. */
async function indexedOriginal(src: MediaSources, row: PhotoRow): Promise<Buffer | null> {
  const real = await realPathInside(src, row);
  if (!real) return null;
  // O_NOFOLLOW: the checked real path is opened itself, never a link swapped in since.
  const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => null);
  if (!handle) return null;
  try {
    const st = await handle.stat();
    if (!st.isFile() || st.size !== row.size || st.mtimeMs !== row.mtime_ms) return null;
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/**
 * A video to play: too large to hold, so the server opens it (util/served-file.ts: no link
 * followed, and only while it is still of the recorded size and time) and reads it by range.
 */
async function playableVideo(src: MediaSources, row: PhotoRow): Promise<Media> {
  const type = PLAYABLE[row.format ?? ''];
  if (!type) throw new MediaError(404, `video ${row.id} is a ${row.format} file, which cannot be played here: its frames are shown instead`);
  const real = await realPathInside(src, row);
  if (!real) {
    src.stale(row);
    throw new MediaError(404, `video ${row.id} is not the file that was indexed any more (moved, changed or replaced); Loupe is looking at it again`);
  }
  return { kind: 'file', path: real.toString(), type, expect: { size: row.size, mtimeMs: row.mtime_ms } };
}

/** The stored frame of a video nearest a moment. */
function frameNear(src: MediaSources, row: PhotoRow & { hash: string }, atMs: number): Media {
  const frames = src.thumbs.frames(row.hash);
  const distance = (f: { atMs: number }): number => Math.abs(f.atMs - atMs);
  const best = frames.reduce<(typeof frames)[number] | null>((b, f) => (!b || distance(f) < distance(b) ? f : b), null);
  if (!best || !src.thumbs.frameExists(best)) throw new MediaError(404, `photo ${row.id} has no frames`);
  return { kind: 'file', path: best.path, type: 'image/jpeg' };
}

export async function resolveMedia(src: MediaSources, req: MediaRequest): Promise<Media> {
  const row = src.photos.byId(req.id);
  if (!row || row.state !== 'ok' || !row.hash) throw new MediaError(404, `photo ${req.id} is not in the library`);
  if (req.what === 'thumb') {
    const path = src.thumbs.pathFor(row.hash, req.size);
    if (!src.thumbs.hasFile(row.hash, req.size)) throw new MediaError(404, `photo ${req.id} has no ${req.size}-px thumbnail yet`);
    return { kind: 'file', path, type: 'image/jpeg' };
  }
  if (req.what === 'frame') return frameNear(src, { ...row, hash: row.hash }, req.atMs);
  if (req.what === 'video') {
    if (!videoFormatOf(row.path)) throw new MediaError(404, `photo ${req.id} is not a video`);
    return playableVideo(src, row);
  }
  // A video's picture is its poster frame (served large).
  if (videoFormatOf(row.path)) {
    if (!src.thumbs.hasFile(row.hash, 1024)) throw new MediaError(404, `video ${req.id} has no poster yet`);
    return { kind: 'file', path: src.thumbs.pathFor(row.hash, 1024), type: 'image/jpeg' };
  }
  const original = await indexedOriginal(src, row);
  if (!original) {
    src.stale(row);
    throw new MediaError(404, `photo ${req.id} is not the file that was indexed any more (moved, changed or replaced); Loupe is looking at it again`);
  }
  const type = SHOWN_AS_IS[row.format ?? ''];
  if (type) return { kind: 'bytes', data: original, type };
  try {
    // Through the indexer's decoder: HEVC-coded HEIC needs libheif, a RAW its embedded preview.
    const raw = rawFormatOf(row.path);
    const decoded = await decodePhoto(original, [{ size: LARGE, fit: 'inside', quality: 88 }], raw ? { raw } : {});
    return { kind: 'bytes', data: decoded.thumbnails[0]!.data, type: 'image/jpeg' };
  } catch {
    throw new MediaError(404, `photo ${req.id} cannot be read right now (the file is unreadable)`);
  }
}
