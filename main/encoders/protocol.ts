/** Messages between the engine and its inference worker (structured-clone data only). */
import type { Device, Provider } from './device.js';

export type FeedTensor =
  | { readonly type: 'float32'; readonly data: Float32Array; readonly dims: readonly number[] }
  | { readonly type: 'int64'; readonly data: Int32Array; readonly dims: readonly number[] };

export interface OutputTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export interface ModelSpec {
  readonly path: string;
  /** onnxruntime intra-op threads for this model (default: the worker's). */
  readonly threads?: number;
  /**
   * Also return a CNN's last convolutional map: a tensor name, or "auto" for the input of the
   * final global pooling (exported classifiers do not list it as an output).
   */
  readonly featureMap?: string;
}

export interface ModelIo {
  readonly inputs: string[];
  readonly outputs: string[];
  /**
   * Each tensor input's shape as the model declares it: a number where it is fixed (many exports
   * fix the batch at 1, or the picture at 224×224 or 640×640), a name where it is free.
   */
  readonly inputShapes: Readonly<Record<string, readonly (number | string)[]>>;
  /** The feature map's tensor name, when asked for. */
  readonly featureMap?: string;
}

export type WorkerRequest =
  | { readonly type: 'init'; readonly models: Readonly<Record<string, ModelSpec>>; readonly device: Device; readonly threads: number }
  | { readonly type: 'run'; readonly id: number; readonly model: string; readonly feeds: Readonly<Record<string, FeedTensor>>; readonly outputs: readonly string[] };

export type WorkerReply =
  | { readonly type: 'ready'; readonly providers: Readonly<Record<string, Provider>>; readonly io: Readonly<Record<string, ModelIo>>; readonly log: readonly string[] }
  | { readonly type: 'result'; readonly id: number; readonly outputs: Readonly<Record<string, OutputTensor>> }
  | { readonly type: 'error'; readonly id: number; readonly message: string };
