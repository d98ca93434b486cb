import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

let counter = 0;
function tmpName(target: string): string {
  counter = (counter + 1) % 1_000_000;
  return `${target}.${process.pid}.${counter}.tmp`;
}

/** Suffix of every temporary file written by this module; leftovers after a crash are swept by it. */
export const TMP_SUFFIX = '.tmp';

export function fsyncDirSync(dir: string): void {
  // Directory fsync makes the rename itself durable; not supported on every platform (Windows).
  try {
    const fd = openSync(dir, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch { /* best effort */ }
}

/**
 * Writes a whole file crash-safely: new temporary file, fsync, rename over the target, fsync the
 * folder. Readers never see a partial file. `durable: false` skips both fsyncs, for caches whose
 * loss on power failure is detected and repaired (a process crash loses nothing either way).
 */
export async function writeFileAtomic(target: string, data: Uint8Array, opts: { durable?: boolean } = {}): Promise<void> {
  await writeFileAtomicChunks(target, [data], opts);
}

/**
 * writeFileAtomic for data produced piecewise (files too big to hold twice in memory): chunks are
 * written in order to the temporary file.
 */
export async function writeFileAtomicChunks(target: string, chunks: Iterable<Uint8Array>, opts: { durable?: boolean } = {}): Promise<void> {
  const durable = opts.durable ?? true;
  const tmp = tmpName(target);
  const handle = await open(tmp, 'w', 0o644);
  try {
    for (const chunk of chunks) {
      let off = 0;
      while (off < chunk.length) off += (await handle.write(chunk, off, chunk.length - off)).bytesWritten;
    }
    if (durable) await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  if (durable) fsyncDirSync(dirname(target));
}
