/**
 * The engine's handle on an inference worker thread. Runs are queued in the worker in the order
 * sent; `run` resolves with that run's outputs. When the source runs under tsx (tests, benchmarks)
 * the worker is started through tsx's loader; the built app starts the compiled worker directly.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../util/workers.js';
import type { Device, Provider } from './device.js';
import type { FeedTensor, ModelIo, ModelSpec, OutputTensor, WorkerReply, WorkerRequest } from './protocol.js';

export interface InferenceOptions {
  readonly models: Readonly<Record<string, ModelSpec>>;
  readonly device?: Device;
  /** onnxruntime intra-op threads (default: all cores). */
  readonly threads?: number;
  readonly log?: (message: string) => void;
}

/** Fallback notes already logged by this process: each model's worker would repeat them. */
const logged = new Set<string>();

type Pending = { resolve: (o: Readonly<Record<string, OutputTensor>>) => void; reject: (e: Error) => void };

function startWorker(): Worker {
  return startModuleWorker(import.meta.url, 'worker');
}

export class InferenceWorker {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | null = null;

  private constructor(
    private readonly worker: Worker,
    readonly providers: Readonly<Record<string, Provider>>,
    readonly io: Readonly<Record<string, ModelIo>>,
    /** Why a model did not start on the provider asked for (the CPU fallback), if it did not. */
    readonly notes: readonly string[],
  ) {
    worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'ready') return;
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.type === 'result') p.resolve(reply.outputs);
      else p.reject(new Error(reply.message));
    });
    const fail = (err: Error): void => {
      this.failure = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`inference worker exited (code ${code})`)));
  }

  static async start(opts: InferenceOptions): Promise<InferenceWorker> {
    // Keep onnxruntime's addon loaded in this thread: a worker that loads it after another worker
    // has exited would otherwise fail with "Module did not self-register".
    await import('onnxruntime-node');
    const worker = startWorker();
    const threads = opts.threads ?? availableParallelism();
    const ready = await new Promise<Extract<WorkerReply, { type: 'ready' }>>((resolve, reject) => {
      const onMessage = (m: WorkerReply): void => {
        if (m.type === 'ready') {
          cleanup();
          resolve(m);
        } else if (m.type === 'error') {
          cleanup();
          reject(new Error(m.message));
        }
      };
      const onError = (e: Error): void => {
        cleanup();
        reject(e);
      };
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.postMessage({ type: 'init', models: opts.models, device: opts.device ?? 'auto', threads } satisfies WorkerRequest);
    }).catch(async (err: unknown) => {
      await worker.terminate();
      throw err;
    });
    for (const line of ready.log) {
      if (logged.has(line)) continue;
      logged.add(line);
      opts.log?.(line);
    }
    return new InferenceWorker(worker, ready.providers, ready.io, ready.log);
  }

  run(
    model: string,
    feeds: Readonly<Record<string, FeedTensor>>,
    outputs: readonly string[],
  ): Promise<Readonly<Record<string, OutputTensor>>> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const transfer = [...new Set(Object.values(feeds).map((f) => f.data.buffer as ArrayBuffer))];
      this.worker.postMessage({ type: 'run', id, model, feeds, outputs } satisfies WorkerRequest, transfer);
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error('inference worker closed');
    await this.worker.terminate();
  }
}
