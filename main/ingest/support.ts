/**
 * Which kinds of file this machine's Loupe reads, and how, or why not: shown by `loupe status`
 * and in Settings, so a user sees why a file is not in the library before wondering.
 */
import { createRequire } from 'node:module';
import sharp from 'sharp';
import type { FormatSupport } from '../contract/api.js';
import { FFMPEG_MISSING, findFfmpeg } from './video.js';

function resolvable(specifier: string): boolean {
  try {
    createRequire(import.meta.url).resolve(specifier);
    return true;
  } catch {
    return false;
  }
}

let cached: readonly FormatSupport[] | null = null;

export function formatSupport(): readonly FormatSupport[] {
  if (cached) return cached;
  const vips = `libvips ${sharp.versions.vips}`;
  const libheif = resolvable('libheif-js/wasm-bundle');
  const ffmpeg = findFfmpeg();
  cached = [
    { name: 'JPEG, PNG, WebP, AVIF, TIFF, GIF', extensions: ['jpg', 'jpeg', 'png', 'webp', 'avif', 'tif', 'tiff', 'gif'], supported: true, how: vips },
    {
      name: 'HEIC / HEIF (iPhone)', extensions: ['heic', 'heif', 'hif'], supported: libheif,
      how: libheif ? `${vips}; HEVC-coded files through libheif (WebAssembly)` : 'libheif-js is missing from this installation: reinstall Loupe',
    },
    {
      name: 'Camera RAW', extensions: ['dng', 'cr2', 'cr3', 'nef', 'nrw', 'arw', 'orf', 'rw2', 'raf', 'pef', 'srw'], supported: true,
      how: 'from the full-size JPEG preview the camera embeds, with the RAW\'s own EXIF',
    },
    {
      name: 'Videos', extensions: ['mp4', 'mov', 'm4v', '3gp', 'mkv', 'webm', 'avi'], supported: ffmpeg !== null,
      how: ffmpeg ? `ffmpeg ${ffmpeg.version} (${ffmpeg.path}): length, date, place, a poster, and frames through the clip for sentence search` : FFMPEG_MISSING,
    },
  ];
  return cached;
}
