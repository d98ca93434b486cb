/** Messages between the engine and its inference worker (structured-clone data only). */
import type { Device, Provider } from './device.js';

export type FeedTensor =
  | { readonly type: 'float32'; readonly data: Float32Array; readonly dims: readonly number[] }
  | { readonly type: 'int64'; readonly data: Int32Array; readonly dims: readonly number[] }
  /** Immich's text towers take int32 ids. */
  | { readonly type: 'int32'; readonly data: Int32Array; readonly dims: readonly number[] };

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
  /** Each tensor input's element type as onnxruntime names it ('float32', 'int64', 'int32', …). */
  readonly inputTypes: Readonly<Record<string, string>>;
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

/** A picture input as a graph declares it: its name, and the batch, height and width it fixes (null where free). */
export interface GraphInput {
  readonly name: string;
  readonly batch: number | null;
  readonly height: number | null;
  readonly width: number | null;
}

/**
 * The input a model is fed by: the one described (model.json's, or `pixel_values`) where the graph
 * has it, else its only input (exports name it as they please: SFace's "data" or "input.1");
 * null where the graph has several and none by that name.
 */
export function graphInput(io: ModelIo, described: string): GraphInput | null {
  const name = io.inputs.includes(described) ? described : io.inputs.length === 1 ? io.inputs[0]! : null;
  if (name === null) return null;
  const shape = io.inputShapes[name] ?? [];
  const fixed = (d: number | string | undefined): number | null => (typeof d === 'number' && d > 0 ? d : null);
  return { name, batch: fixed(shape[0]), height: fixed(shape[2]), width: fixed(shape[3]) };
}
