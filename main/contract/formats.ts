import { extname } from 'node:path';

/** Camera RAW formats, read through the JPEG preview each embeds (main/ingest/raw.ts). */
const RAW_EXTENSIONS: ReadonlyMap<string, string> = new Map([
  ['.dng', 'dng'], ['.cr2', 'cr2'], ['.cr3', 'cr3'], ['.nef', 'nef'], ['.nrw', 'nef'], ['.arw', 'arw'], ['.orf', 'orf'],
  ['.rw2', 'rw2'], ['.raf', 'raf'], ['.pef', 'pef'], ['.srw', 'srw'],
]);

/** Videos, read through ffmpeg (main/ingest/video.ts). */
const VIDEO_EXTENSIONS: ReadonlyMap<string, string> = new Map([
  ['.mp4', 'mp4'], ['.mov', 'mov'], ['.m4v', 'm4v'], ['.3gp', '3gp'], ['.mkv', 'mkv'], ['.webm', 'webm'], ['.avi', 'avi'],
]);

/** File name extensions Loupe indexes, mapped to the format family libvips reports for them. */
const EXTENSIONS: ReadonlyMap<string, string> = new Map([
  ...RAW_EXTENSIONS,
  ...VIDEO_EXTENSIONS,
  ['.jpg', 'jpeg'], ['.jpeg', 'jpeg'], ['.jpe', 'jpeg'], ['.jfif', 'jpeg'],
  ['.png', 'png'],
  ['.webp', 'webp'],
  ['.avif', 'heif'], ['.heif', 'heif'], ['.heic', 'heif'], ['.hif', 'heif'],
  ['.tif', 'tiff'], ['.tiff', 'tiff'],
  ['.gif', 'gif'],
]);

export function isSupportedName(name: string): boolean {
  return EXTENSIONS.has(extname(name).toLowerCase());
}

/** An XMP sidecar (`IMG_1.CR2.xmp`, `IMG_1.xmp`): not a photo, but part of the one beside it. */
export function isSidecarName(name: string): boolean {
  return extname(name).toLowerCase() === '.xmp';
}

/**
 * The names a photo's sidecar has, in the order they are looked for: darktable and digiKam add
 * `.xmp` to the whole name (`IMG_1.CR2.xmp`), Lightroom puts it in place of the extension (`IMG_1.xmp`).
 * Works on a name or a whole path.
 */
export function sidecarNames(photo: string, ext = '.xmp'): [string, string] {
  return [`${photo}${ext}`, `${photo.slice(0, photo.length - extname(photo).length)}${ext}`];
}

/** The video format a file name says (mp4, mov, …), or null for a picture. */
export function videoFormatOf(name: string): string | null {
  return VIDEO_EXTENSIONS.get(extname(name).toLowerCase()) ?? null;
}

/** The RAW format a file name says (dng, cr2, …), or null for any other picture. */
export function rawFormatOf(name: string): string | null {
  return RAW_EXTENSIONS.get(extname(name).toLowerCase()) ?? null;
}

/** Folder names never descended into: hidden ones (leading dot) and OS/NAS system folders. */
const SYSTEM_DIRS: ReadonlySet<string> = new Set([
  '$RECYCLE.BIN', 'System Volume Information', 'lost+found', '@eaDir', '#recycle', '#snapshot',
  '$Recycle.Bin', 'RECYCLER', 'node_modules',
]);

export function isSkippedName(name: string): boolean {
  return name.startsWith('.') || SYSTEM_DIRS.has(name);
}
