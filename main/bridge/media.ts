/**
 * Pictures for the UI, by photo id only. A request names a photo id and a size; the file comes
 * from the library's own records. Anything else — an id the library does not have, a path, dots,
 * slashes, encodings — is refused. The HTTP bridge and Electron's loupe:// protocol both use this.
 */
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { UserError } from '../contract/errors.js';
import type { Db } from '../db/database.js';
import { photoById } from '../ingest/photos.js';
import { THUMBNAIL_SIZES, type ThumbnailStore } from '../ingest/thumbnails.js';

/** A picture asked for that is not a picture address (400) or not there (404). */
export class MediaError extends UserError {
  constructor(status: 400 | 404, message: string) {
    super(message, status);
  }
}

export type Media =
  | { readonly kind: 'file'; readonly path: string; readonly type: string }
  | { readonly kind: 'bytes'; readonly data: Buffer; readonly type: string };

/** Formats every browser engine Loupe runs in shows as they are. */
const SHOWN_AS_IS: Readonly<Record<string, string>> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', avif: 'image/avif' };
/** Long side of the picture made for formats a browser cannot show (HEIF, TIFF). */
const LARGE = 2048;

const ID = /^[1-9][0-9]{0,14}$/;

/** Parses `thumb/<id>/<size>` or `photo/<id>` (the part of the URL after the media prefix). */
export function parseMediaPath(rest: string): { what: 'thumb'; id: number; size: number } | { what: 'photo'; id: number } {
  const parts = rest.split('/');
  if (parts[0] === 'thumb' && parts.length === 3 && ID.test(parts[1]!) && THUMBNAIL_SIZES.some((s) => String(s) === parts[2])) {
    return { what: 'thumb', id: Number(parts[1]), size: Number(parts[2]) };
  }
  if (parts[0] === 'photo' && parts.length === 2 && ID.test(parts[1]!)) return { what: 'photo', id: Number(parts[1]) };
  throw new MediaError(400, 'not a picture address: pictures are asked for by photo id (thumb/<id>/<256|1024> or photo/<id>)');
}

export async function resolveMedia(db: Db, thumbs: ThumbnailStore, rest: string): Promise<Media> {
  const req = parseMediaPath(rest);
  const row = photoById(db, req.id);
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
