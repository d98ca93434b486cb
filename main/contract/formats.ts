import { extname } from 'node:path';

/** File name extensions Loupe indexes, mapped to the format family libvips reports for them. */
const EXTENSIONS: ReadonlyMap<string, string> = new Map([
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

/** Folder names never descended into: hidden ones (leading dot) and OS/NAS system folders. */
const SYSTEM_DIRS: ReadonlySet<string> = new Set([
  '$RECYCLE.BIN', 'System Volume Information', 'lost+found', '@eaDir', '#recycle', '#snapshot',
  '$Recycle.Bin', 'RECYCLER', 'node_modules',
]);

export function isSkippedName(name: string): boolean {
  return name.startsWith('.') || SYSTEM_DIRS.has(name);
}
