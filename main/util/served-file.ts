/**
 * Serving a file the engine named (a video, for the viewer to play): opened without following a
 * link, a regular file, still of the size and modification time the engine checked — a file
 * swapped in between the engine's check and the read is refused — and read by byte range, as a
 * video element asks (seeking). The HTTP bridge and Electron's loupe:// handler both use this.
 */
import { constants, type ReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** What the file must still be. */
export interface Expected {
  readonly size: number;
  readonly mtimeMs: number;
}

/** Bytes start..end, both included (HTTP's own convention). */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * The range a `Range` header asks for, within a file of `size` bytes: null for the whole file
 * (no header, or one this parser does not take: several ranges), 'unsatisfiable' when it lies
 * outside the file.
 */
export function parseRange(header: string | null | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    // The last N bytes.
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

export class ServedFileError extends Error {}

/** Opens the file to serve; throws ServedFileError when it is not the file that was checked. */
export async function openServedFile(path: string, expected?: Expected): Promise<{ handle: FileHandle; size: number }> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => null);
  if (!handle) throw new ServedFileError('the file cannot be opened');
  const st = await handle.stat();
  if (!st.isFile() || (expected && (st.size !== expected.size || st.mtimeMs !== expected.mtimeMs))) {
    await handle.close();
    throw new ServedFileError('the file is not the one that was indexed any more');
  }
  return { handle, size: st.size };
}

/** What to answer a request for a file: the status, the range headers, and the bytes (null: no body). */
export interface ServedResponse {
  readonly status: 200 | 206 | 416;
  readonly headers: Readonly<Record<string, string>>;
  /** Reads the asked range; it closes the file when it ends, fails or is destroyed. */
  readonly body: ReadStream | null;
}

/**
 * Opens the file (openServedFile) and answers the Range header: the whole file, the range asked
 * for, or 416 when it lies outside. Both servers (the bridge, Electron's loupe:// handler) send this.
 */
export async function serveFile(
  path: string, expected: Expected | undefined, rangeHeader: string | null | undefined,
): Promise<ServedResponse> {
  const { handle, size } = await openServedFile(path, expected);
  const range = parseRange(rangeHeader, size);
  if (range === 'unsatisfiable') {
    await handle.close();
    return { status: 416, headers: { 'Content-Range': `bytes */${size}`, 'Accept-Ranges': 'bytes' }, body: null };
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  const headers = {
    'Accept-Ranges': 'bytes', 'Content-Length': String(Math.max(0, end - start + 1)),
    ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
  };
  if (size === 0) {
    await handle.close();
    return { status: 200, headers, body: null };
  }
  return { status: range ? 206 : 200, headers, body: handle.createReadStream({ start, end }) };
}
