/**
 * Pictures for the UI, by photo id only: the file comes from the library's own records (see
 * contract/media.ts for what a request may say).
 */
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { MediaError, type Media, type MediaRequest } from '../contract/media.js';
import type { PhotosRepo } from '../db/repos/photos.js';
import type { ThumbnailStore } from '../ingest/thumbnails.js';

/** Formats every browser engine Loupe runs in shows as they are. */
const SHOWN_AS_IS: Readonly<Record<string, string>> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', avif: 'image/avif' };
/** Long side of the picture made for formats a browser cannot show (HEIF, TIFF). */
const LARGE = 2048;

export async function resolveMedia(photos: PhotosRepo, thumbs: ThumbnailStore, req: MediaRequest): Promise<Media> {
  const row = photos.byId(req.id);
  if (!row || row.state !== 'ok' || !row.hash) throw new MediaError(404, `photo ${req.id} is not in the library`);
  if (req.what === 'thumb') {
    const path = thumbs.pathFor(row.hash, req.size);
    if (!existsSync(path)) throw new MediaError(404, `photo ${req.id} has no ${req.size}-px thumbnail yet`);
    return { kind: 'file', path, type: 'image/jpeg' };
  }
  const type = SHOWN_AS_IS[row.format ?? ''];
  if (type && existsSync(row.path)) return { kind: 'file', path: row.path, type };
  const source = existsSync(row.path) ? row.path : thumbs.pathFor(row.hash, 1024);
  try {
    const data = await sharp(source, { failOn: 'error' }).autoOrient().resize(LARGE, LARGE, { fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 88 }).toBuffer();
    return { kind: 'bytes', data, type: 'image/jpeg' };
  } catch {
    throw new MediaError(404, `photo ${req.id} cannot be read right now (the file is missing or unreadable)`);
  }
}
