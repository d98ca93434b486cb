/**
 * Videos, through ffmpeg: what the container says (duration, size, date, place — QuickTime's
 * creation time and ISO 6709 location, as phones write them) and a poster frame, which is then
 * a picture like any other (thumbnails, and the CLIP embedding of the video). ffmpeg is found at
 * LOUPE_FFMPEG, on PATH, or in the npm package @ffmpeg-installer/ffmpeg where that is installed;
 * without one, a video is recorded as unreadable with the reason, and nothing else changes.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { errorMessage } from '../util/errors.js';

const run = promisify(execFile);

export class VideoError extends Error {}

export interface VideoInfo {
  readonly durationMs: number;
  /** As displayed (a phone's rotation applied). */
  readonly width: number;
  readonly height: number;
  /** ISO 8601 with its offset, or null. */
  readonly createdAt: string | null;
  readonly createdAtMs: number | null;
  readonly gpsLat: number | null;
  readonly gpsLon: number | null;
}

let found: { path: string; version: string } | null | undefined;

/** The ffmpeg this machine has, or null (the reason is `ffmpegMissing`). */
export function findFfmpeg(): { path: string; version: string } | null {
  if (found !== undefined) return found;
  const candidates: string[] = [];
  if (process.env['LOUPE_FFMPEG']) candidates.push(process.env['LOUPE_FFMPEG']);
  else {
    candidates.push('ffmpeg');
    try {
      const installer = createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path?: string };
      if (installer.path) candidates.push(installer.path);
    } catch {
      // Not installed: PATH only.
    }
  }
  found = null;
  for (const c of candidates) {
    const r = spawnSync(c, ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 10_000 });
    if (r.status === 0) {
      found = { path: c, version: /ffmpeg version (\S+)/.exec(r.stdout)?.[1] ?? 'unknown' };
      break;
    }
  }
  return found;
}

export const FFMPEG_MISSING = 'videos need ffmpeg, which this machine does not have: install it (Debian/Ubuntu: sudo apt-get install ffmpeg; ' +
  'macOS: brew install ffmpeg; Windows: winget install ffmpeg) or point LOUPE_FFMPEG at one';

/** Reads `ffmpeg -i`'s description of a file (ffmpeg exits 1 with no output file, which is expected). */
async function describe(ffmpeg: string, path: string): Promise<string> {
  try {
    const r = await run(ffmpeg, ['-hide_banner', '-nostdin', '-i', path], { encoding: 'utf8', timeout: 60_000, maxBuffer: 4 << 20 });
    return r.stderr;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr;
    if (typeof stderr === 'string' && /Input #0/.test(stderr)) return stderr;
    const why = typeof stderr === 'string' ? stderr.trim().split('\n').at(-1) ?? '' : errorMessage(err);
    throw new VideoError(`ffmpeg cannot read this video (${why.replace(/^.*?: /, '')})`);
  }
}

/** ISO 6709 ("+38.7139-009.1394/", as QuickTime and Android write it): latitude and longitude. */
export function parseIso6709(s: string): { lat: number; lon: number } | null {
  const m = /^([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)/.exec(s.trim());
  if (!m) return null;
  const lat = Number(m[1]);
  const lon = Number(m[2]);
  return Math.abs(lat) <= 90 && Math.abs(lon) <= 180 && !(lat === 0 && lon === 0) ? { lat, lon } : null;
}

/** What ffmpeg says of a video's container and first video stream. */
export function parseDescription(text: string): VideoInfo {
  const d = /Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(text);
  const stream = /Stream #\S+.*?: Video: .*?, (\d{2,5})x(\d{2,5})/.exec(text);
  if (!d || !stream) throw new VideoError('the file has no video stream ffmpeg can read');
  const durationMs = Math.round((Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3])) * 1000);
  const rotation = Number(/rotation of (-?\d+(?:\.\d+)?) degrees/.exec(text)?.[1] ?? /rotate\s*:\s*(-?\d+)/.exec(text)?.[1] ?? 0);
  const quarter = Math.abs(Math.round(rotation / 90)) % 2 === 1;
  const w = Number(stream[1]);
  const h = Number(stream[2]);
  const created = /(?:com\.apple\.quicktime\.creationdate|creation_time)\s*:\s*(\S+)/.exec(text)?.[1] ?? null;
  const createdMs = created ? Date.parse(created) : NaN;
  const where = /(?:com\.apple\.quicktime\.location\.ISO6709|location)\s*:\s*(\S+)/.exec(text)?.[1];
  const gps = where ? parseIso6709(where) : null;
  return {
    durationMs, width: quarter ? h : w, height: quarter ? w : h,
    createdAt: Number.isFinite(createdMs) ? created : null, createdAtMs: Number.isFinite(createdMs) ? createdMs : null,
    gpsLat: gps?.lat ?? null, gpsLon: gps?.lon ?? null,
  };
}

/** The video's description and a poster frame (JPEG, as displayed), a second in or halfway through a short clip. */
export async function readVideo(path: string): Promise<{ info: VideoInfo; poster: Buffer }> {
  const ffmpeg = findFfmpeg();
  if (!ffmpeg) throw new VideoError(FFMPEG_MISSING);
  const info = parseDescription(await describe(ffmpeg.path, path));
  const at = Math.min(1, info.durationMs / 2000).toFixed(3);
  let poster: Buffer;
  try {
    const r = await run(ffmpeg.path, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-ss', at, '-i', path, '-frames:v', '1',
      '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '3', '-'], { encoding: 'buffer', timeout: 120_000, maxBuffer: 64 << 20 });
    poster = r.stdout;
  } catch (err) {
    throw new VideoError(`ffmpeg could not take a frame from this video (${errorMessage(err).split('\n')[0]})`);
  }
  if (poster.length < 4) throw new VideoError('ffmpeg found no frame in this video');
  return { info, poster };
}
