/**
 * CNN descriptors from an installed pack: the last convolutional map of an ImageNet network,
 * pooled with GeM into one global vector, and GeM over each R-MAC region into regional vectors
 * whose boxes (fractions of the oriented picture) let search say where an object was found.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CnnManifest } from '../models/manifest.js';
import type { EncoderOptions } from './clip.js';
import type { Provider } from './device.js';
import { InferenceWorker } from './inference.js';
import { gem, l2normalize, regionalGem, type FeatureMap } from './pooling.js';
import { parsePreprocessorConfig, preprocessInside, type Preprocessed, type Preprocessing } from './preprocess.js';

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export interface Descriptors {
  /** GeM over the whole map, L2-normalised. */
  readonly global: Float32Array;
  readonly regions: readonly { readonly box: Box; readonly vector: Float32Array }[];
}

/** Pure: descriptors of one feature map (GeM p=3, R-MAC grid of 3 levels). */
export function describeMap(map: FeatureMap, levels = 3): Descriptors {
  return {
    global: l2normalize(gem(map)),
    regions: regionalGem(map, levels).map(({ region, vector }) => ({
      box: { x: region.x / map.w, y: region.y / map.h, w: region.w / map.w, h: region.h / map.h },
      vector,
    })),
  };
}

export class CnnEncoder {
  private constructor(
    readonly manifest: CnnManifest,
    readonly preprocessing: Preprocessing,
    private readonly worker: InferenceWorker,
    private readonly output: string,
  ) {}

  static async load(dir: string, manifest: CnnManifest, opts: EncoderOptions = {}): Promise<CnnEncoder> {
    const preprocessing = parsePreprocessorConfig(JSON.parse(readFileSync(join(dir, manifest.preprocessor), 'utf8')));
    const worker = await InferenceWorker.start({
      models: { cnn: { path: join(dir, manifest.model), featureMap: manifest.featureOutput } },
      device: opts.device, threads: opts.threads, log: opts.log,
    });
    return new CnnEncoder(manifest, preprocessing, worker, worker.io['cnn']!.featureMap!);
  }

  get providers(): Readonly<Record<string, Provider>> {
    return this.worker.providers;
  }

  get notes(): readonly string[] {
    return this.worker.notes;
  }

  pixels(input: string | Buffer): Promise<Preprocessed> {
    return preprocessInside(input, this.manifest.maxSide, this.preprocessing);
  }

  /** The last convolutional map of one preprocessed picture. */
  async featureMap(p: Preprocessed): Promise<FeatureMap> {
    const r = await this.worker.run('cnn', { pixel_values: { type: 'float32', data: p.tensor, dims: [1, 3, p.height, p.width] } }, [this.output]);
    const out = r[this.output]!;
    if (out.dims.length !== 4) throw new Error(`feature map ${this.output} has shape [${out.dims.join(', ')}], expected [1, C, H, W]`);
    const [, c, h, w] = out.dims as [number, number, number, number];
    return { c, h, w, data: out.data };
  }

  async describe(input: string | Buffer | Preprocessed): Promise<Descriptors> {
    const p = typeof input === 'string' || Buffer.isBuffer(input) ? await this.pixels(input) : input;
    return describeMap(await this.featureMap(p));
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
