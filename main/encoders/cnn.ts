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
import { graphInput } from './protocol.js';
import { gem, l2normalize, localise, regionalGem, type FeatureMap } from './pooling.js';
import { parsePreprocessorConfig, preprocessInside, preprocessLetterboxed, type Preprocessed, type Preprocessing } from './preprocess.js';

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

/** Pure: the cells of a map that lie over `content` (fractions of the map's picture), at least one each way. */
export function cropMap(map: FeatureMap, content: Box): FeatureMap {
  const x0 = Math.min(map.w - 1, Math.max(0, Math.floor(content.x * map.w)));
  const y0 = Math.min(map.h - 1, Math.max(0, Math.floor(content.y * map.h)));
  const x1 = Math.max(x0 + 1, Math.min(map.w, Math.ceil((content.x + content.w) * map.w)));
  const y1 = Math.max(y0 + 1, Math.min(map.h, Math.ceil((content.y + content.h) * map.h)));
  const [w, h] = [x1 - x0, y1 - y0];
  if (w === map.w && h === map.h) return map;
  const data = new Float32Array(map.c * w * h);
  for (let c = 0; c < map.c; c++) {
    for (let y = 0; y < h; y++) {
      const from = c * map.h * map.w + (y0 + y) * map.w + x0;
      data.set(map.data.subarray(from, from + w), c * h * w + y * w);
    }
  }
  return { c: map.c, h, w, data };
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
    private readonly input: string,
    /** The picture size the graph fixes, or null where it takes any (then pictures fit `maxSide`). */
    readonly fixed: { readonly width: number; readonly height: number } | null,
  ) {}

  static async load(dir: string, manifest: CnnManifest, opts: EncoderOptions = {}): Promise<CnnEncoder> {
    const preprocessing = parsePreprocessorConfig(JSON.parse(readFileSync(join(dir, manifest.preprocessor), 'utf8')));
    const worker = await InferenceWorker.start({
      models: { cnn: { path: join(dir, manifest.model), featureMap: manifest.featureOutput } },
      device: opts.device, threads: opts.threads, log: opts.log,
    });
    const io = worker.io['cnn']!;
    // The picture's input: Transformers.js exports name it pixel_values; others have one input by another name.
    const input = graphInput(io, 'pixel_values');
    const fixed = input?.height && input.width ? { width: input.width, height: input.height } : null;
    return new CnnEncoder(manifest, preprocessing, worker, io.featureMap!, input?.name ?? 'pixel_values', fixed);
  }

  get providers(): Readonly<Record<string, Provider>> {
    return this.worker.providers;
  }

  get notes(): readonly string[] {
    return this.worker.notes;
  }

  /**
   * The picture as the CNN reads it: fitted to `maxSide`, or letterboxed to the size its graph
   * fixes. `enlarge: false` leaves a smaller picture at its size (a region cut at its photo's scale).
   */
  pixels(input: string | Buffer, opts: { readonly enlarge?: boolean } = {}): Promise<Preprocessed> {
    return this.fixed
      ? preprocessLetterboxed(input, this.fixed.width, this.fixed.height, this.preprocessing)
      : preprocessInside(input, this.manifest.maxSide, this.preprocessing, opts.enlarge ?? true);
  }

  /** The last convolutional map of one preprocessed picture. */
  async featureMap(p: Preprocessed): Promise<FeatureMap> {
    const r = await this.worker.run('cnn', { [this.input]: { type: 'float32', data: p.tensor, dims: [1, 3, p.height, p.width] } }, [this.output]);
    const out = r[this.output]!;
    if (out.dims.length !== 4) throw new Error(`feature map ${this.output} has shape [${out.dims.join(', ')}], expected [1, C, H, W]`);
    const [, c, h, w] = out.dims as [number, number, number, number];
    return { c, h, w, data: out.data };
  }

  async describe(input: string | Buffer | Preprocessed): Promise<Descriptors> {
    const p = typeof input === 'string' || Buffer.isBuffer(input) ? await this.pixels(input) : input;
    const map = await this.featureMap(p);
    // Letterboxed: only the cells over the picture count, and region boxes are the picture's.
    return describeMap(p.content ? cropMap(map, p.content) : map, this.manifest.regionLevels);
  }

  /**
   * Where in the picture the object of a query descriptor is: the best window of the picture's
   * feature map (pooling.ts localise), as a box of the picture, with its cosine.
   */
  async localise(
    input: string | Buffer, query: Float32Array, opts: { readonly centre?: Float32Array | null; readonly aspect?: number } = {},
  ): Promise<{ box: { x: number; y: number; w: number; h: number }; score: number }> {
    const p = await this.pixels(input);
    const raw = await this.featureMap(p);
    const map = p.content ? cropMap(raw, p.content) : raw;
    // The query box's shape in this map's cells (its width/height in pixels is the same ratio).
    const { region, score } = localise(map, query, opts);
    return { box: { x: region.x / map.w, y: region.y / map.h, w: region.w / map.w, h: region.h / map.h }, score };
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
