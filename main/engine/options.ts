/** How an engine is opened: the library folder and the knobs of its work. */
import type { Device } from '../contract/api.js';
import type { WhitenOptions } from '../embed/whitener.js';

export interface EngineOptions {
  readonly libraryDir: string;
  /** Photos decoded at once; default: one more than the cores, so file reads overlap decoding. */
  readonly concurrency?: number;
  /** Where models run (default: the choice saved in the library, else auto: the best accelerator present, else the CPU). */
  readonly device?: Device;
  /** onnxruntime threads per image-model worker (default: the cores shared among the workers). */
  readonly threads?: number;
  /** Image-model workers running side by side on the CPU (default 2 where there are 2+ cores). */
  readonly inferenceWorkers?: number;
  /** Pictures per CLIP inference batch. */
  readonly batchSize?: number;
  /** Start indexing by itself when new work appears (a pack installed or chosen); the app sets this, the CLI does not. */
  readonly autoIndex?: boolean;
  /** When and how CNN descriptors get their PCA-whitening (default: from 20 pictures, shrunk while the library is small). */
  readonly whiten?: WhitenOptions;
  /** Vectors searched exactly before an index trains IVF-PQ (default 4,096; the evaluation sets 0 or Infinity). */
  readonly flatLimit?: number;
}
