/**
 * Downloads one file crash-safely and verifiably: bytes go to `<dest>.part`, a dropped connection
 * resumes with an HTTP Range request (the part already on disk is re-hashed, not re-fetched), and
 * only a file whose size and SHA-256 match is fsynced and renamed into place. A wrong checksum
 * deletes the part: a corrupt file is never left where it could be used.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDirSync } from '../util/atomic.js';

export class ChecksumError extends Error {
  constructor(readonly url: string, readonly expected: string, readonly actual: string) {
    super(`${url}: SHA-256 ${actual} does not match the manifest's ${expected}`);
    this.name = 'ChecksumError';
  }
}

export class DownloadError extends Error {
  constructor(readonly url: string, message: string) {
    super(`${url}: ${message}`);
    this.name = 'DownloadError';
  }
}

export interface DownloadOptions {
  readonly sha256: string;
  readonly size?: number;
  /** Called with bytes on disk so far (including a resumed part) and the total when known. */
  readonly onProgress?: (done: number, total: number | null) => void;
  readonly signal?: AbortSignal;
  /** Attempts after a dropped connection or a 5xx (default 5), with a doubling pause. */
  readonly retries?: number;
  readonly retryDelayMs?: number;
}

export interface DownloadResult {
  readonly bytes: number;
  /** Bytes that came from a partial file left by an earlier attempt. */
  readonly resumedFrom: number;
  readonly attempts: number;
}

async function hashExisting(path: string): Promise<{ hash: ReturnType<typeof createHash>; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return { hash, size };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function downloadFile(url: string, dest: string, options: DownloadOptions): Promise<DownloadResult> {
  const part = `${dest}.part`;
  const retries = options.retries ?? 5;
  let { hash, size } = await hashExisting(part);
  const resumedFrom = size;
  let attempts = 0;
  for (;;) {
    attempts++;
    if (options.size !== undefined && size > options.size) {
      await rm(part, { force: true });
      ({ hash, size } = { hash: createHash('sha256'), size: 0 });
    }
    let retryable = true;
    try {
      if (options.size === undefined || size < options.size) {
        const res = await fetch(url, { headers: size > 0 ? { range: `bytes=${size}-` } : {}, signal: options.signal, redirect: 'follow' });
        if (res.status === 416 && size > 0) {
          // The part is already whole (or longer than the file): start over.
          await rm(part, { force: true });
          ({ hash, size } = { hash: createHash('sha256'), size: 0 });
          throw new DownloadError(url, 'range not satisfiable; restarting');
        }
        if (!res.ok || !res.body) {
          retryable = res.status >= 500;
          throw new DownloadError(url, `HTTP ${res.status} ${res.statusText}`);
        }
        if (size > 0 && res.status !== 206) {
          // The server ignored the range: the body is the whole file.
          ({ hash, size } = { hash: createHash('sha256'), size: 0 });
        }
        const lengthHeader = res.headers.get('content-length');
        const total = options.size ?? (lengthHeader ? size + Number(lengthHeader) : null);
        const handle = await open(part, size > 0 ? 'a' : 'w');
        try {
          for await (const chunk of res.body) {
            const bytes = chunk as Uint8Array;
            await handle.write(bytes);
            hash.update(bytes);
            size += bytes.length;
            if (options.size !== undefined && size > options.size) throw new DownloadError(url, `more than the manifest's ${options.size} bytes`);
            options.onProgress?.(size, total);
          }
          await handle.sync();
        } finally {
          await handle.close();
        }
      }
      if (options.size !== undefined && size !== options.size) throw new DownloadError(url, `got ${size} of ${options.size} bytes`);
      const actual = hash.digest('hex');
      if (actual !== options.sha256.toLowerCase()) {
        await rm(part, { force: true });
        throw new ChecksumError(url, options.sha256, actual);
      }
      await rename(part, dest);
      fsyncDirSync(dirname(dest));
      return { bytes: (await stat(dest)).size, resumedFrom, attempts };
    } catch (err) {
      if (err instanceof ChecksumError || options.signal?.aborted || !retryable || attempts > retries) throw err;
      await sleep((options.retryDelayMs ?? 500) * 2 ** (attempts - 1));
      // Re-hash what is on disk: a failed write may have left fewer bytes than were hashed.
      ({ hash, size } = await hashExisting(part));
    }
  }
}
