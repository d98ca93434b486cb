import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createHash, webcrypto } from 'node:crypto';
import sharp from 'sharp';
import type { IndexProgress, IndexSummary } from '../contract/api.js';
import type { Repos } from '../db/repos/index.js';
import { derivedFromRow, type DerivedColumns, type PhotoRow } from '../db/repos/photos.js';
import { DecodeError, decodePhoto, type Encoded } from './decoder.js';
import { rawFormatOf, videoFormatOf } from '../contract/formats.js';
import { readVideo, sampleFrames, VideoError } from './video.js';
import { NO_DESCRIPTORS, readDescriptors, type Descriptors } from './descriptors.js';
import { linkPairs, PairScopes } from './pairs.js';
import { fsArg } from './fsnames.js';
import { LibraryBusyError, startJob } from './jobs.js';
import { fileDate, readMeta } from './metadata.js';
import { RENDITIONS, type FrameFile, type ThumbnailStore } from './thumbnails.js';
import { describeFsError } from './walk.js';
import { errorMessage } from '../util/errors.js';
import { StorageError } from '../contract/errors.js';

/** How a failure of Loupe's own (not of the photo) is recorded; such photos are tried again at the next run. */
const UNEXPECTED = 'unexpected failure:';

/** Everything derived from a photo's content: identical for identical bytes. */
type Derived = DerivedColumns;

type Outcome =
  | {
    readonly kind: 'ok'; readonly row: PhotoRow; readonly hash: string; readonly derived: Derived; readonly thumbs: readonly Encoded[];
    readonly descriptors: Descriptors; readonly frames?: readonly FrameFile[];
  }
  | {
    readonly kind: 'moved'; readonly row: PhotoRow; readonly hash: string; readonly keepId: number; readonly thumbs: readonly Encoded[];
    readonly descriptors: Descriptors; readonly frames?: readonly FrameFile[];
  }
  | { readonly kind: 'error'; readonly row: PhotoRow; readonly hash: string | null; readonly reason: string }
  | { readonly kind: 'missing'; readonly row: PhotoRow };

export interface IndexOptions {
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: IndexProgress) => void;
  /** Called as each photo is done (before its batch commits), with how many are done so far. */
  readonly onProcessed?: (done: number) => void;
}

export interface IndexContext {
  readonly repos: Repos;
  readonly thumbs: ThumbnailStore;
}

async function sha256(buf: Buffer): Promise<string> {
  // WebCrypto hashes on the thread pool, keeping the event loop free during bursts.
  const digest = await webcrypto.subtle.digest('SHA-256', buf);
  return Buffer.from(digest).toString('hex');
}

async function readFile(row: PhotoRow): Promise<{ buf: Buffer; mtimeMs: number; birthtimeMs: number }> {
  const handle = await open(fsArg({ text: row.path, raw: row.path_raw }), 'r');
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
    return { buf: await handle.readFile(), mtimeMs: st.mtimeMs, birthtimeMs: st.birthtimeMs };
  } finally {
    await handle.close();
  }
}

/** A video's bytes are never held whole: they are hashed as they stream past. */
async function hashFileStream(row: PhotoRow): Promise<{ hash: string; size: number; mtimeMs: number; birthtimeMs: number }> {
  const path = fsArg({ text: row.path, raw: row.path_raw });
  const st = await stat(path);
  if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return { hash: h.digest('hex'), size: st.size, mtimeMs: st.mtimeMs, birthtimeMs: st.birthtimeMs };
}

/** The outcome for a file that could not be read: gone, or unreadable with the reason. */
function unreadable(row: PhotoRow, err: unknown): Outcome {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing', row };
  return { kind: 'error', row, hash: null, reason: describeFsError(err) };
}

/** What people wrote about it; read every time, even for known content (a sidecar beside the same bytes may say something new). */
function descriptorsOf(buf: Buffer | null, row: PhotoRow): Promise<Descriptors> {
  return readDescriptors(buf, row.path).catch((err: unknown): Descriptors => ({ ...NO_DESCRIPTORS, problem: errorMessage(err) }));
}

/** The outcome for a file that was read but could not be decoded; Loupe's own storage failing stops the run instead. */
function undecodable(row: PhotoRow, hash: string, err: unknown): Outcome {
  if (err instanceof VideoError || err instanceof DecodeError) return { kind: 'error', row, hash, reason: err.message };
  // Loupe's storage failing is not the photo's fault: the run stops and the photo stays pending.
  if (err instanceof StorageError) throw err;
  return { kind: 'error', row, hash, reason: `${UNEXPECTED} ${errorMessage(err)}` };
}

/** Frames sampled through a video, with their sizes, ready to store. */
async function framesOf(path: string, durationMs: number): Promise<FrameFile[]> {
  const frames = await sampleFrames(path, { durationMs });
  return Promise.all(frames.map(async (f) => {
    const m = await sharp(f.jpeg).metadata();
    return { ...f, width: m.width ?? 0, height: m.height ?? 0 };
  }));
}

/**
 * A video: hashed as a stream, described and given a poster frame by ffmpeg; the poster is its
 * picture, and frames sampled through it are stored for the embedding stage (each found by time).
 */
async function processVideo(ctx: IndexContext, row: PhotoRow, format: string): Promise<Outcome> {
  let file: Awaited<ReturnType<typeof hashFileStream>>;
  try {
    file = await hashFileStream(row);
  } catch (err) {
    return unreadable(row, err);
  }
  if (file.size === 0) return { kind: 'error', row, hash: null, reason: 'empty file (0 bytes)' };
  const { hash } = file;
  const { repos, thumbs } = ctx;
  // Its own metadata is ffmpeg's to read; a sidecar beside it is read as for a photo.
  const descriptors = await descriptorsOf(null, row);
  const twin = repos.photos.missingTwin(hash, row.id, row.path);
  if (twin && thumbs.has(hash)) return { kind: 'moved', row, hash, keepId: twin.id, thumbs: [], descriptors };
  try {
    const { info, poster } = await readVideo(row.path);
    const decoded = await decodePhoto(poster, RENDITIONS);
    const frames = await framesOf(row.path, info.durationMs);
    await thumbs.write(hash, decoded.thumbnails);
    await thumbs.writeFrames(hash, frames);
    const fallback = fileDate(file.mtimeMs, file.birthtimeMs);
    const derived: Derived = {
      format, width: info.width, height: info.height, orientation: 1, durationMs: info.durationMs,
      takenAt: info.createdAt ?? fallback.iso, takenAtMs: info.createdAtMs ?? fallback.ms, takenAtSource: info.createdAt ? 'exif' : 'file',
      cameraMake: null, cameraModel: null, lens: null, gpsLat: info.gpsLat, gpsLon: info.gpsLon, gpsAlt: null,
      contentIdentifier: info.contentIdentifier,
    };
    if (twin) return { kind: 'moved', row, hash, keepId: twin.id, thumbs: decoded.thumbnails, descriptors, frames };
    return { kind: 'ok', row, hash, derived, thumbs: decoded.thumbnails, descriptors, frames };
  } catch (err) {
    return undecodable(row, hash, err);
  }
}

/** Reads, hashes and (unless its content is already known) decodes one photo. Throws only when Loupe's own storage fails. */
async function processOne(ctx: IndexContext, row: PhotoRow): Promise<Outcome> {
  const video = videoFormatOf(row.path);
  if (video) return processVideo(ctx, row, video);
  let file: Awaited<ReturnType<typeof readFile>>;
  try {
    file = await readFile(row);
  } catch (err) {
    return unreadable(row, err);
  }
  if (file.buf.length === 0) return { kind: 'error', row, hash: null, reason: 'empty file (0 bytes)' };
  const hash = await sha256(file.buf);
  const { repos, thumbs } = ctx;
  const descriptors = await descriptorsOf(file.buf, row);
  const haveThumbs = thumbs.has(hash);
  const twin = repos.photos.missingTwin(hash, row.id, row.path);
  if (twin && haveThumbs) return { kind: 'moved', row, hash, keepId: twin.id, thumbs: [], descriptors };
  const donor = repos.photos.donor(hash);
  if (donor && haveThumbs) return { kind: 'ok', row, hash, derived: derivedFromRow(donor), thumbs: [], descriptors };
  try {
    const raw = rawFormatOf(row.path);
    const decoded = await decodePhoto(file.buf, RENDITIONS, raw ? { raw } : {});
    // Files first, rows later (in commit): a crash in between leaves only files, which GC sweeps.
    await thumbs.write(hash, decoded.thumbnails);
    const meta = await readMeta(decoded.exif, file, decoded.exifIfd ?? null);
    const derived: Derived = {
      ...meta,
      format: decoded.format,
      width: decoded.width,
      height: decoded.height,
      orientation: decoded.orientation,
      durationMs: null,
    };
    if (twin) return { kind: 'moved', row, hash, keepId: twin.id, thumbs: decoded.thumbnails, descriptors };
    return { kind: 'ok', row, hash, derived, thumbs: decoded.thumbnails, descriptors };
  } catch (err) {
    return undecodable(row, hash, err);
  }
}

/** Writes a batch of outcomes in one transaction. A row the scanner changed meanwhile stays pending. */
function commit(ctx: IndexContext, outcomes: readonly Outcome[], now: number): void {
  const { repos: { photos }, thumbs } = ctx;
  ctx.repos.transaction(() => {
    for (const o of outcomes) {
      const r = o.row;
      switch (o.kind) {
        case 'ok':
          thumbs.record(o.hash, o.thumbs);
          if (o.frames) thumbs.recordFrames(o.hash, o.frames);
          if (photos.setOk(r, o.hash, o.derived, now)) photos.setDescriptors(r.id, o.descriptors);
          break;
        case 'moved':
          thumbs.record(o.hash, o.thumbs);
          if (o.frames) thumbs.recordFrames(o.hash, o.frames);
          if (photos.stillPending(r) && photos.isMissing(o.keepId)) {
            photos.mergeInto(o.keepId, r.id);
            photos.setDescriptors(o.keepId, o.descriptors);
          }
          break;
        case 'error':
          photos.setError(r, o.hash, o.reason, now);
          break;
        case 'missing':
          if (photos.stillPending(r)) photos.markMissing(r, now);
          break;
      }
    }
  });
}

/**
 * Makes thumbnails on disk and in the database agree (ThumbnailStore.collectGarbage); photos whose
 * thumbnail files went missing go back to pending, so indexing makes them again.
 */
export function collectGarbage(ctx: IndexContext, sweep: boolean): void {
  ctx.repos.photos.requeue(ctx.thumbs.collectGarbage({ sweep }).missing);
}

/**
 * Collects thumbnail garbage outside an indexing run, holding the indexing lock (a job record)
 * while it sweeps, so no other process starts writing thumbnails meanwhile; when another
 * process is indexing now, its uncommitted files are left alone and only records are dropped.
 */
export function collectGarbageLocked(ctx: IndexContext): void {
  let job: number;
  try {
    job = startJob(ctx.repos, 'gc', 0);
  } catch (err) {
    if (!(err instanceof LibraryBusyError)) throw err;
    collectGarbage(ctx, false);
    return;
  }
  try {
    collectGarbage(ctx, true);
    ctx.repos.jobs.finish(job, 'done', null, Date.now());
  } catch (err) {
    ctx.repos.jobs.finish(job, 'failed', errorMessage(err), Date.now());
    throw err;
  }
}

/**
 * Works through every pending photo: read, hash, decode, thumbnails, metadata. Work is
 * idempotent and committed in small batches, so after a crash the next run simply carries on.
 */
export async function indexPending(ctx: IndexContext, opts: IndexOptions = {}): Promise<IndexSummary> {
  const { repos } = ctx;
  const { photos, jobs } = repos;
  const started = Date.now();
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  // Photos an earlier version of Loupe failed on through no fault of theirs get another try.
  photos.retryFailures(UNEXPECTED);
  const jobId = startJob(repos, 'index', photos.countPending(), started);
  // This process alone indexes now (startJob saw to it): a full sweep is safe, and photos whose
  // thumbnail files went missing (deleted by hand, or by an older Loupe's sweep) are made again.
  collectGarbage(ctx, true);
  const summary = { processed: 0, ok: 0, failed: 0, moved: 0, missing: 0 };
  const buffer: Outcome[] = [];
  let lastFlush = Date.now();
  let current: string | null = null;
  let reported = '';

  const flush = (): void => {
    if (buffer.length > 0) commit(ctx, buffer.splice(0), Date.now());
    const remaining = photos.countPending();
    const total = summary.processed + remaining;
    jobs.update(jobId, { total, done: summary.processed, failed: summary.failed }, Date.now());
    const elapsed = (Date.now() - started) / 1000;
    const rate = elapsed > 0 ? summary.processed / elapsed : 0;
    const key = `${total}/${summary.processed}/${summary.failed}`;
    if (key === reported) return;
    reported = key;
    opts.onProgress?.({
      jobId, total, done: summary.processed, failed: summary.failed, ratePerSec: rate,
      etaSec: rate > 0 ? remaining / rate : null, current,
    });
    lastFlush = Date.now();
  };

  let lastId = 0;
  const inflight = new Set<Promise<void>>();
  /** Directories whose photos this run indexed: their pairs are worked out again at the end. */
  const touched = new PairScopes();
  try {
    for (;;) {
      if (opts.signal?.aborted) break;
      const batch = photos.pendingAfter(lastId, 64);
      if (batch.length === 0) {
        await Promise.all(inflight);
        flush();
        if (photos.countPending() === 0) break;
        // Rows became pending behind the cursor (a watcher, a revived file): take another pass.
        lastId = 0;
        continue;
      }
      for (const row of batch) {
        lastId = row.id;
        if (opts.signal?.aborted) break;
        while (inflight.size >= concurrency) await Promise.race(inflight);
        current = row.path;
        touched.addPhoto(row.folder_id, row.path);
        const p = processOne(ctx, row).then((o) => {
          summary.processed++;
          if (o.kind === 'ok') summary.ok++;
          else if (o.kind === 'moved') summary.moved++;
          else if (o.kind === 'error') summary.failed++;
          else summary.missing++;
          buffer.push(o);
          opts.onProcessed?.(summary.processed);
          if (buffer.length >= 64 || Date.now() - lastFlush > 500) flush();
        }).finally(() => inflight.delete(p));
        inflight.add(p);
      }
    }
    await Promise.all(inflight);
    flush();
    collectGarbage(ctx, true);
    linkPairs(repos, touched.values());
    jobs.finish(jobId, opts.signal?.aborted ? 'interrupted' : 'done', opts.signal?.aborted ? 'paused' : null, Date.now());
  } catch (err) {
    await Promise.allSettled(inflight);
    jobs.finish(jobId, 'failed', errorMessage(err), Date.now());
    throw err;
  }
  return { jobId, ...summary, ms: Date.now() - started };
}
