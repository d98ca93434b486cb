/**
 * HEIC/HEIF pixels from libheif (WebAssembly) in worker threads, for what libvips cannot decode:
 * sharp's prebuilt libvips has no HEVC decoder, and HEVC is how iPhones have stored photos since
 * 2017. Up to two workers (one on a two-core machine), started on the first HEIC and stopped after
 * a quiet half minute, since each holds a WebAssembly heap of its own.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../util/workers.js';

export interface HeifRequest {
  readonly id: number;
  readonly data: ArrayBuffer;
}

export type HeifReply =
  | { readonly id: number; readonly width: number; readonly height: number; readonly pixels: ArrayBuffer }
  | { readonly id: number; readonly error: string };

/** RGBA, 8 bits per channel, as displayed (libheif applies the file's rotation and mirroring). */
export interface HeifPixels {
  readonly width: number;
  readonly height: number;
  readonly data: Buffer;
}

interface Pending {
  readonly resolve: (p: HeifPixels) => void;
  readonly reject: (e: Error) => void;
  readonly worker: Slot;
}

interface Slot {
  readonly worker: Worker;
  busy: number;
}

const IDLE_MS = 30_000;
const MAX_WORKERS = Math.max(1, Math.min(2, availableParallelism() - 1));

class HeifPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idle: NodeJS.Timeout | null = null;

  decode(buf: Buffer): Promise<HeifPixels> {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const slot = this.slot();
    const id = this.nextId++;
    // A copy of its own to hand over: the file's buffer may be a view into a larger one.
    const data = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) as ArrayBuffer;
    slot.busy++;
    // Held while it has work (an answer is awaited: the process must not end before it), let go when idle.
    slot.worker.ref();
    return new Promise<HeifPixels>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: slot });
      slot.worker.postMessage({ id, data } satisfies HeifRequest, [data]);
    });
  }

  private slot(): Slot {
    const free = this.slots.find((s) => s.busy === 0);
    if (free || this.slots.length >= MAX_WORKERS) return free ?? this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const worker = startModuleWorker(import.meta.url, 'heif-worker');
    worker.unref();
    const slot: Slot = { worker, busy: 0 };
    worker.on('message', (reply: HeifReply) => this.answer(reply));
    const fail = (err: Error): void => this.drop(slot, err);
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the HEIC decoder stopped (exit code ${code})`)));
    this.slots.push(slot);
    return slot;
  }

  private answer(reply: HeifReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    p.worker.busy--;
    if (p.worker.busy === 0) p.worker.worker.unref();
    if ('error' in reply) p.reject(new Error(reply.error));
    else p.resolve({ width: reply.width, height: reply.height, data: Buffer.from(reply.pixels) });
    if (this.pending.size === 0) this.idle = setTimeout(() => this.stop(), IDLE_MS).unref();
  }

  /** A worker that failed takes its requests with it; the next HEIC starts a new one. */
  private drop(slot: Slot, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    for (const [id, p] of this.pending) {
      if (p.worker !== slot) continue;
      this.pending.delete(id);
      p.reject(err);
    }
  }

  private stop(): void {
    for (const s of this.slots.splice(0)) void s.worker.terminate();
  }
}

const pool = new HeifPool();

/** Decodes a HEIC/HEIF file's primary image off this thread. */
export function decodeHeif(buf: Buffer): Promise<HeifPixels> {
  return pool.decode(buf);
}
