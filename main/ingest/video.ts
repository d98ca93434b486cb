/**
 * Videos, through ffmpeg: what the container says (duration, size, date, place — QuickTime's
 * creation time and ISO 6709 location, as phones write them), a poster frame, which is then
 * a picture like any other (thumbnails, and the CLIP embedding of the video), and frames sampled
 * through the clip (sampleFrames), embedded too so a sentence finds the moment. ffmpeg is found at
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
  /** Apple's Live Photo content identifier (the same as its picture's). */
  readonly contentIdentifier: string | null;
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
  const contentIdentifier = /com\.apple\.quicktime\.content\.identifier\s*:\s*([\w-]{8,64})/.exec(text)?.[1] ?? null;
  return {
    durationMs, width: quarter ? h : w, height: quarter ? w : h,
    createdAt: Number.isFinite(createdMs) ? created : null, createdAtMs: Number.isFinite(createdMs) ? createdMs : null,
    gpsLat: gps?.lat ?? null, gpsLon: gps?.lon ?? null, contentIdentifier,
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

/** A frame sampled from a video, at the model's input size (shortest side 224), as JPEG. */
export interface VideoFrame {
  readonly atMs: number;
  /** Taken because the picture changed (a cut), not because the interval came round. */
  readonly scene: boolean;
  readonly jpeg: Buffer;
}

/** Frames kept per video at most: a sentence search needs the scenes, not every second. */
export const FRAME_CAP = 32;
/** Shortest interval between regular frames; longer videos spread FRAME_CAP frames over their length. */
const MIN_INTERVAL_S = 3;
/** How much a frame must differ from the one before to count as a cut (ffmpeg's scene score, 0..1). */
const SCENE_THRESHOLD = 0.3;
/**
 * Videos longer than this are sampled from their keyframes only (encoders put one at each cut, and
 * phones one every second or two): decoding every frame of 1080p runs at about 8 s of video per
 * second on two cores, keyframes alone at well over a hundred (bench:library).
 */
const KEYFRAMES_ONLY_AFTER_MS = 60_000;

/** Seconds between regular frames for a video of this length. */
export function frameInterval(durationMs: number): number {
  return Math.max(MIN_INTERVAL_S, durationMs / 1000 / FRAME_CAP);
}

/**
 * ffmpeg's frame selection: the first frame, then one whenever the interval has passed, and one
 * at each cut (at least a quarter interval, and a second, after the previous pick).
 */
export function selectExpression(durationMs: number): string {
  const interval = frameInterval(durationMs);
  const gap = Math.max(1, interval / 4);
  return `isnan(prev_selected_t)+gte(t-prev_selected_t,${interval.toFixed(3)})+gt(scene,${SCENE_THRESHOLD})*gte(t-prev_selected_t,${gap.toFixed(3)})`;
}

/**
 * Which picks to keep when there are more than the cap: the first frame, then the cuts (spread
 * evenly when they alone are too many), then regular frames spread evenly. In time order.
 */
export function chooseFrames<T extends { readonly atMs: number; readonly scene: boolean }>(picks: readonly T[], cap = FRAME_CAP): T[] {
  if (picks.length <= cap) return [...picks];
  const spread = (xs: readonly T[], n: number): T[] => (n <= 0 ? [] : n >= xs.length ? [...xs]
    : Array.from({ length: n }, (_, i) => xs[Math.floor((i * xs.length) / n)]!));
  const [first, ...rest] = picks;
  const cuts = spread(rest.filter((p) => p.scene), cap - 1);
  const regular = spread(rest.filter((p) => !p.scene), cap - 1 - cuts.length);
  return [first!, ...cuts, ...regular].sort((a, b) => a.atMs - b.atMs);
}

/** Splits ffmpeg's MJPEG stream into its JPEGs (its encoder writes no embedded thumbnails, so each ends at the first EOI). */
export function splitJpegs(stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < stream.length) {
    if (stream[at] !== 0xff || stream[at + 1] !== 0xd8) break;
    const end = stream.indexOf(Buffer.from([0xff, 0xd9]), at + 2);
    if (end < 0) break;
    out.push(stream.subarray(at, end + 2));
    at = end + 2;
  }
  return out;
}

/** Each selected frame's time, from showinfo's lines (one per frame it passes, in order). */
export function frameTimes(stderr: string): number[] {
  return [...stderr.matchAll(/\bn:\s*\d+\s+pts:\s*-?\d+\s+pts_time:(-?[\d.]+)/g)].map((m) => Math.max(0, Math.round(Number(m[1]) * 1000)));
}

/**
 * Frames through the video: regular ones and the cuts between (selectExpression), shortest side
 * 224 (the CLIP packs' input), at most FRAME_CAP (chooseFrames). A frame counts as a cut when it
 * came sooner than the interval would have brought it.
 */
export async function sampleFrames(path: string, info: Pick<VideoInfo, 'durationMs'>): Promise<VideoFrame[]> {
  const ffmpeg = findFfmpeg();
  if (!ffmpeg) throw new VideoError(FFMPEG_MISSING);
  const interval = frameInterval(info.durationMs) * 1000;
  const keyframes = info.durationMs > KEYFRAMES_ONLY_AFTER_MS ? ['-skip_frame', 'nokey'] : [];
  const filter = `scale='if(lt(iw,ih),224,-2)':'if(lt(iw,ih),-2,224)',select='${selectExpression(info.durationMs)}',showinfo`;
  let r: { stdout: Buffer; stderr: Buffer };
  try {
    r = await run(ffmpeg.path, ['-hide_banner', '-nostdin', '-loglevel', 'info', ...keyframes, '-i', path, '-an', '-sn', '-dn', '-vf', filter,
      '-fps_mode', 'vfr', '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '3', '-'],
    { encoding: 'buffer', timeout: Math.max(120_000, info.durationMs), maxBuffer: 256 << 20 });
  } catch (err) {
    throw new VideoError(`ffmpeg could not sample frames from this video (${errorMessage(err).split('\n')[0]})`);
  }
  const jpegs = splitJpegs(r.stdout);
  const times = frameTimes(r.stderr.toString('utf8'));
  if (jpegs.length === 0 || times.length !== jpegs.length) throw new VideoError(`ffmpeg sampled ${jpegs.length} frames but timed ${times.length}`);
  const picks = jpegs.map((jpeg, i) => ({ atMs: times[i]!, scene: i > 0 && times[i]! - times[i - 1]! < interval - 50, jpeg }));
  return chooseFrames(picks);
}
