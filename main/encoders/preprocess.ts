/**
 * Image preprocessing as a pack's preprocessor_config.json says (the Hugging Face
 * CLIPImageProcessor / ConvNext / ViT fields): EXIF-orient, convert to RGB, resize so the
 * shortest edge is `size` with bicubic filtering, centre-crop to `crop_size`, rescale to [0, 1],
 * normalise by mean/std, and lay the result out channel-first (C × H × W float32).
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { Preprocessing } from '../models/preprocessing.js';

export { parsePreprocessorConfig, PreprocessorConfigError, type Preprocessing } from '../models/preprocessing.js';

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
  /** Letterboxed: where the picture is inside the tensor, as fractions (the rest is padding). */
  readonly content?: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
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
    const to = p.resizeMode === 'squash' ? { width: p.cropWidth, height: p.cropHeight } : resizedSize(w, h, p.shortestEdge);
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
  return {
    tensor: normalize(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, p),
    width: info.width,
    height: info.height,
  };
}

/**
 * The whole picture for a CNN (no crop: regions must cover all of it), resized to fit
 * `maxSide` on its long side, normalised as the pack says.
 */
/**
 * The picture fitted inside width×height (its proportions kept) and padded to exactly that, as a
 * network with a fixed input reads it; the padding is the normalisation's mean (0 once
 * normalised), so it reads as nothing in particular. Says where the picture is.
 */
export async function preprocessLetterboxed(
  input: string | Buffer, width: number, height: number, p: Preprocessing,
): Promise<Preprocessed> {
  const { data, info } = await sharp(input, { failOn: 'error' }).rotate().toColourspace('srgb').removeAlpha()
    .resize(width, height, { fit: 'inside', kernel: p.kernel })
    .raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
  const left = Math.floor((width - info.width) / 2);
  const top = Math.floor((height - info.height) / 2);
  const mean = [0, 1, 2].map((c) => Math.round(Math.min(1, Math.max(0, p.mean[c]!)) / p.rescaleFactor));
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) rgb.set(mean, i * 3);
  for (let y = 0; y < info.height; y++) {
    rgb.set(new Uint8Array(data.buffer, data.byteOffset + y * info.width * 3, info.width * 3), ((top + y) * width + left) * 3);
  }
  return {
    tensor: normalize(rgb, width, height, p), width, height,
    content: { x: left / width, y: top / height, w: info.width / width, h: info.height / height },
  };
}

export async function preprocessInside(input: string | Buffer, maxSide: number, p: Preprocessing, enlarge = true): Promise<Preprocessed> {
  const { data, info } = await sharp(input, { failOn: 'error' }).rotate().toColourspace('srgb').removeAlpha()
    .resize(maxSide, maxSide, { fit: 'inside', kernel: p.kernel, withoutEnlargement: !enlarge })
    .raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
  return {
    tensor: normalize(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, p),
    width: info.width,
    height: info.height,
  };
}
