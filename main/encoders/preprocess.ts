/**
 * Image preprocessing as a pack's preprocessor_config.json says (the Hugging Face
 * CLIPImageProcessor / ConvNext / ViT fields): EXIF-orient, convert to RGB, resize so the
 * shortest edge is `size` with bicubic filtering, centre-crop to `crop_size`, rescale to [0, 1],
 * normalise by mean/std, and lay the result out channel-first (C × H × W float32).
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';

export interface Preprocessing {
  readonly shortestEdge: number;
  readonly cropWidth: number;
  readonly cropHeight: number;
  readonly doResize: boolean;
  readonly doCenterCrop: boolean;
  readonly rescaleFactor: number;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  readonly kernel: 'cubic' | 'linear' | 'nearest' | 'lanczos3';
}

export class PreprocessorConfigError extends Error {
  constructor(message: string) {
    super(`preprocessor_config.json: ${message}`);
    this.name = 'PreprocessorConfigError';
  }
}

type Json = Record<string, unknown>;

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new PreprocessorConfigError(`${what} must be a positive number`);
  return v;
}

function triple(v: unknown, what: string, fallback: readonly [number, number, number]): readonly [number, number, number] {
  if (v === undefined) return fallback;
  const a = typeof v === 'number' ? [v, v, v] : v;
  if (!Array.isArray(a) || a.length !== 3 || a.some((x) => typeof x !== 'number' || !Number.isFinite(x))) throw new PreprocessorConfigError(`${what} must be 3 numbers`);
  return [a[0] as number, a[1] as number, a[2] as number];
}

/** PIL resample codes used by Transformers: 0 nearest, 2 bilinear, 3 bicubic, 1 lanczos. */
const KERNELS: Record<number, Preprocessing['kernel']> = { 0: 'nearest', 1: 'lanczos3', 2: 'linear', 3: 'cubic' };

/** Reads the fields Loupe honours; anything it cannot honour is an error, not a silent default. */
export function parsePreprocessorConfig(config: unknown): Preprocessing {
  if (typeof config !== 'object' || config === null) throw new PreprocessorConfigError('not an object');
  const c = config as Json;
  const size = c['size'];
  const shortestEdge = num(typeof size === 'object' && size !== null ? ((size as Json)['shortest_edge'] ?? (size as Json)['height']) : size, 'size');
  const crop = c['crop_size'] ?? size;
  const cropWidth = num(typeof crop === 'object' && crop !== null ? ((crop as Json)['width'] ?? (crop as Json)['shortest_edge']) : crop, 'crop_size');
  const cropHeight = num(typeof crop === 'object' && crop !== null ? ((crop as Json)['height'] ?? (crop as Json)['shortest_edge']) : crop, 'crop_size');
  const resample = c['resample'] ?? 3;
  const kernel = typeof resample === 'number' ? KERNELS[resample] : undefined;
  if (!kernel) throw new PreprocessorConfigError(`resample ${String(resample)} is not supported`);
  const doNormalize = c['do_normalize'] !== false;
  return {
    shortestEdge,
    cropWidth,
    cropHeight,
    doResize: c['do_resize'] !== false,
    doCenterCrop: c['do_center_crop'] !== false,
    rescaleFactor: c['do_rescale'] === false ? 1 : typeof c['rescale_factor'] === 'number' ? c['rescale_factor'] : 1 / 255,
    mean: doNormalize ? triple(c['image_mean'], 'image_mean', [0.48145466, 0.4578275, 0.40821073]) : [0, 0, 0],
    std: doNormalize ? triple(c['image_std'], 'image_std', [0.26862954, 0.26130258, 0.27577711]) : [1, 1, 1],
    kernel,
  };
}

/** Output size of the resize step: shortest edge to `edge`, aspect kept (as Transformers rounds it). */
export function resizedSize(width: number, height: number, edge: number): { width: number; height: number } {
  if (width <= height) return { width: edge, height: Math.floor((edge * height) / width) };
  return { width: Math.floor((edge * width) / height), height: edge };
}

/** Pixels (RGB, 8-bit, row-major) → normalised C × H × W floats. */
export function normalize(rgb: Uint8Array, width: number, height: number, p: Preprocessing): Float32Array {
  const out = new Float32Array(3 * width * height);
  const plane = width * height;
  // One table per channel: a byte's normalised value, computed as the reference does it.
  const lut = [0, 1, 2].map((ch) => Float32Array.from({ length: 256 }, (_, v) => (v * p.rescaleFactor - p.mean[ch]!) / p.std[ch]!));
  const [r, g, b] = lut as [Float32Array, Float32Array, Float32Array];
  for (let i = 0, j = 0; i < plane; i++, j += 3) {
    out[i] = r[rgb[j]!]!;
    out[plane + i] = g[rgb[j + 1]!]!;
    out[2 * plane + i] = b[rgb[j + 2]!]!;
  }
  return out;
}

export interface Preprocessed {
  readonly tensor: Float32Array;
  readonly width: number;
  readonly height: number;
}

/** The model input for one image (a file path or encoded bytes). */
export async function preprocess(input: string | Buffer, p: Preprocessing): Promise<Preprocessed> {
  // Read once: the header (for the exact resize size) and the pixels come from the same bytes.
  const bytes = typeof input === 'string' ? await readFile(input) : input;
  const meta = await sharp(bytes).metadata();
  // Orientations 5–8 swap width and height.
  const swap = (meta.orientation ?? 1) >= 5;
  let w = swap ? meta.height! : meta.width!;
  let h = swap ? meta.width! : meta.height!;
  let img = sharp(bytes, { failOn: 'error' }).rotate().toColourspace('srgb').removeAlpha();
  if (p.doResize) {
    const to = resizedSize(w, h, p.shortestEdge);
    // A picture stored at the model's size (the indexer's model-input rendition) is not resampled again.
    if (to.width !== w || to.height !== h) img = img.resize(to.width, to.height, { kernel: p.kernel, fit: 'fill' });
    ({ width: w, height: h } = to);
  }
  if (p.doCenterCrop) {
    const left = Math.max(0, Math.floor((w - p.cropWidth) / 2));
    const top = Math.max(0, Math.floor((h - p.cropHeight) / 2));
    // extract() after resize() crops the resized picture, in the same pipeline.
    img = img.extract({ left, top, width: Math.min(w, p.cropWidth), height: Math.min(h, p.cropHeight) });
  }
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
  return { tensor: normalize(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, p), width: info.width, height: info.height };
}

/**
 * The whole picture for a CNN (no crop: regions must cover all of it), resized to fit
 * `maxSide` on its long side, normalised as the pack says.
 */
export async function preprocessInside(input: string | Buffer, maxSide: number, p: Preprocessing): Promise<Preprocessed> {
  const { data, info } = await sharp(input, { failOn: 'error' }).rotate().toColourspace('srgb').removeAlpha()
    .resize(maxSide, maxSide, { fit: 'inside', kernel: p.kernel })
    .raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
  return { tensor: normalize(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, p), width: info.width, height: info.height };
}
