/**
 * Preprocessing against values computed independently in the test: exact for crop, layout,
 * rescale and normalisation; within a small tolerance for bicubic down-scaling of a smooth image.
 */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { parsePreprocessorConfig, preprocess, PreprocessorConfigError, resizedSize } from '../../main/encoders/preprocess.js';

const CLIP_CONFIG = {
  crop_size: { height: 224, width: 224 },
  do_center_crop: true,
  do_normalize: true,
  do_resize: true,
  do_rescale: true,
  rescale_factor: 0.00392156862745098,
  image_mean: [0.48145466, 0.4578275, 0.40821073],
  image_std: [0.26862954, 0.26130258, 0.27577711],
  resample: 3,
  size: { shortest_edge: 224 },
};

/** An RGB image whose pixel (x, y) is a known function, as PNG bytes (lossless). */
async function png(width: number, height: number, f: (x: number, y: number) => [number, number, number]): Promise<{ bytes: Buffer; rgb: Uint8Array }> {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) rgb.set(f(x, y), (y * width + x) * 3);
  return { bytes: await sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer(), rgb };
}

describe('preprocessing', () => {
  const p = parsePreprocessorConfig(CLIP_CONFIG);

  it('reads a CLIP preprocessor_config.json', () => {
    expect(p).toMatchObject({ shortestEdge: 224, cropWidth: 224, cropHeight: 224, kernel: 'cubic' });
    expect(parsePreprocessorConfig({ ...CLIP_CONFIG, size: 256, crop_size: 240 })).toMatchObject({ shortestEdge: 256, cropWidth: 240 });
    expect(() => parsePreprocessorConfig({ ...CLIP_CONFIG, resample: 9 })).toThrow(PreprocessorConfigError);
    expect(() => parsePreprocessorConfig({ ...CLIP_CONFIG, image_mean: [1, 2] })).toThrow(/image_mean/);
    expect(() => parsePreprocessorConfig('nope')).toThrow(PreprocessorConfigError);
  });

  it('rounds the resized size as Transformers does', () => {
    expect(resizedSize(640, 480, 224)).toEqual({ width: 298, height: 224 });
    expect(resizedSize(480, 640, 224)).toEqual({ width: 224, height: 298 });
  });

  it('crops the centre, lays out C×H×W and normalises exactly (no resize needed)', async () => {
    // 300 × 224: the short edge is already 224, so only the crop acts: columns 38..261.
    const { bytes, rgb } = await png(300, 224, (x, y) => [(x * 7 + y) % 256, (x + y * 3) % 256, (x * y) % 256]);
    const out = await preprocess(bytes, p);
    expect(out).toMatchObject({ width: 224, height: 224 });
    expect(out.tensor.length).toBe(3 * 224 * 224);
    for (const [x, y] of [[0, 0], [223, 0], [100, 57], [223, 223]] as const) {
      for (let ch = 0; ch < 3; ch++) {
        const v = rgb[(y * 300 + (x + 38)) * 3 + ch]!;
        const want = (v / 255 - CLIP_CONFIG.image_mean[ch]!) / CLIP_CONFIG.image_std[ch]!;
        expect(out.tensor[ch * 224 * 224 + y * 224 + x]).toBeCloseTo(want, 5);
      }
    }
  });

  it('down-scales a smooth gradient to the values a continuous resample gives', async () => {
    // 896 × 448 → 448 × 224 → crop 224 × 224 from x = 112. The gradient is linear, so any
    // interpolating filter reproduces it: pixel (x, y) of the output samples source ≈ (2x + 0.5, 2y + 0.5).
    const { bytes } = await png(896, 448, (x, y) => [Math.round((x / 895) * 255), Math.round((y / 447) * 255), 128]);
    const out = await preprocess(bytes, p);
    let worst = 0;
    for (let y = 8; y < 216; y += 13) {
      for (let x = 8; x < 216; x += 13) {
        const sx = 2 * (x + 112) + 0.5;
        const sy = 2 * y + 0.5;
        const r = ((sx / 895) * 255) / 255;
        const g = ((sy / 447) * 255) / 255;
        const gotR = out.tensor[y * 224 + x]! * CLIP_CONFIG.image_std[0]! + CLIP_CONFIG.image_mean[0]!;
        const gotG = out.tensor[224 * 224 + y * 224 + x]! * CLIP_CONFIG.image_std[1]! + CLIP_CONFIG.image_mean[1]!;
        worst = Math.max(worst, Math.abs(gotR - r), Math.abs(gotG - g));
      }
    }
    expect(worst).toBeLessThan(2 / 255);
  });

  it('applies EXIF orientation before resizing', async () => {
    // Stored 448 × 224 with orientation 6 (rotate 90° clockwise to view): viewed 224 × 448.
    const { bytes: raw } = await png(448, 224, (x) => [x < 224 ? 255 : 0, 0, 0]);
    const jpeg = await sharp(raw).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    const out = await preprocess(jpeg, p);
    // After rotation the red half is on top: row 10 is red, row 210 is not.
    const red = (x: number, y: number): number => out.tensor[y * 224 + x]! * CLIP_CONFIG.image_std[0]! + CLIP_CONFIG.image_mean[0]!;
    expect(red(112, 10)).toBeGreaterThan(0.9);
    expect(red(112, 210)).toBeLessThan(0.1);
  });

  it('drops alpha and converts grey images to three channels', async () => {
    const grey = await sharp(new Uint8Array(224 * 224).fill(100), { raw: { width: 224, height: 224, channels: 1 } }).png().toBuffer();
    const a = await preprocess(grey, p);
    expect(a.tensor[0]! * CLIP_CONFIG.image_std[0]! + CLIP_CONFIG.image_mean[0]!).toBeCloseTo(100 / 255, 2);
    expect(a.tensor[2 * 224 * 224]! * CLIP_CONFIG.image_std[2]! + CLIP_CONFIG.image_mean[2]!).toBeCloseTo(100 / 255, 2);
    const rgba = await sharp({ create: { width: 224, height: 224, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 0.5 } } }).png().toBuffer();
    const b = await preprocess(rgba, p);
    expect(b.tensor.length).toBe(3 * 224 * 224);
  });
});
