/**
 * Pictures for the UI, by photo id only. A request names a photo id and a size; the file comes
 * from the library's own records. Anything else — an id the library does not have, a path, dots,
 * slashes, encodings — is refused. The HTTP bridge and Electron's loupe:// protocol both use this.
 */
import type { ThumbnailSize } from './api.js';
import { UserError } from './errors.js';

/** Sizes of thumbnail the UI can ask for. */
export const THUMBNAIL_SIZES: readonly ThumbnailSize[] = [256, 1024];

/** A picture asked for that is not a picture address (400) or not there (404). */
export class MediaError extends UserError {
  constructor(status: 400 | 404, message: string) {
    super(message, status);
  }
}

export type Media =
  /** A file to read; `expect`: what it must still be when read (an original the engine checked). */
  | { readonly kind: 'file'; readonly path: string; readonly type: string; readonly expect?: { readonly size: number; readonly mtimeMs: number } }
  | { readonly kind: 'bytes'; readonly data: Buffer; readonly type: string };

const ID = /^[1-9][0-9]{0,14}$/;

const MS = /^(0|[1-9][0-9]{0,9})$/;

export type MediaRequest =
  | { readonly what: 'thumb'; readonly id: number; readonly size: number }
  | { readonly what: 'photo'; readonly id: number }
  /** A video's frame sampled nearest this moment (what a hit at that moment shows). */
  | { readonly what: 'frame'; readonly id: number; readonly atMs: number }
  /** A video itself, to play (served by byte range). */
  | { readonly what: 'video'; readonly id: number };

/** Parses `thumb/<id>/<size>`, `photo/<id>`, `frame/<id>/<ms>` or `video/<id>` (the part of the URL after the media prefix). */
export function parseMediaPath(rest: string): MediaRequest {
  const parts = rest.split('/');
  if (parts[0] === 'thumb' && parts.length === 3 && ID.test(parts[1]!) && THUMBNAIL_SIZES.some((s) => String(s) === parts[2])) {
    return { what: 'thumb', id: Number(parts[1]), size: Number(parts[2]) };
  }
  if (parts[0] === 'frame' && parts.length === 3 && ID.test(parts[1]!) && MS.test(parts[2]!)) return { what: 'frame', id: Number(parts[1]), atMs: Number(parts[2]) };
  if ((parts[0] === 'photo' || parts[0] === 'video') && parts.length === 2 && ID.test(parts[1]!)) return { what: parts[0], id: Number(parts[1]) };
  throw new MediaError(400, 'not a picture address: pictures are asked for by photo id (thumb/<id>/<256|1024>, photo/<id>, frame/<id>/<ms> or video/<id>)');
}

