/**
 * Face models, run by onnxruntime on an inference worker: a detector (MediaPipe's SSD family:
 * BlazeFace, 256 px, two outputs; the full-range detector, 192 px, one output with the logit
 * first; or YuNet, OpenCV Zoo's anchor-free detector, heads per stride on a BGR picture) and an
 * embedder (an upright face crop → a unit vector). Each is described by the model.json beside it:
 * input size and normalisation, output layout, anchors, crop recipe.
 *
 * Detection runs over the whole picture and over tiles (face-geometry.ts, detectionWindows), so
 * faces of 16–20 px are found too, merged by NMS. Embedding crops each face upright (the eyes
 * levelled: a similarity transform from the landmarks) and, for embedders whose raw vectors share
 * one dominant direction (MobileFaceNet), removes that direction — the embedding of a flat grey
 * picture — so the identity that is left can be compared by cosine.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FaceManifest } from '../models/manifest.js';
import sharp from 'sharp';
import { z } from 'zod';
import {
  alignedCrop, anchorCentres, cropSquare, decodeRows, decodeYunet, detectionWindows, iou, nms, quality, roll, uprightCrop, windowTensor,
  type Detection, type Window,
} from './face-geometry.js';
import type { Device, Provider } from './device.js';
import { InferenceWorker } from './inference.js';
import { graphInput, type ModelIo } from './protocol.js';

const Normalization = z.object({ scale: z.number(), offset: z.number() });
const Input = z.object({
  name: z.string(),
  shape: z.tuple([z.union([z.string(), z.number()]), z.literal(3), z.number().int(), z.number().int()]),
  normalization: Normalization,
});
const AnchorLayerSpec = z.object({ stride: z.number().int(), grid: z.number().int(), anchors_per_cell: z.number().int() });

/** MediaPipe's SSD detectors (BlazeFace, full-range): fixed anchors, one row per anchor. */
const MediapipeSpec = z.object({
  task: z.literal('face-detection'),
  family: z.literal('mediapipe').optional(),
  format: z.object({ file: z.string() }),
  input: Input,
  outputs: z.array(z.object({ name: z.string(), columns: z.union([z.array(z.string()), z.string()]).optional() })).min(1),
  anchors: z.object({ input_size: z.number().int(), layers: z.array(AnchorLayerSpec) }),
  decode: z.object({ crop_for_face_models: z.object({ enlarge: z.number() }).optional() }).passthrough(),
});

/**
 * YuNet (OpenCV Zoo, MIT): anchor-free heads per stride — cls_S, obj_S, bbox_S, kps_S — on a BGR
 * picture of 0..255, its sides multiples of 32.
 */
const YunetSpec = z.object({
  task: z.literal('face-detection'),
  family: z.literal('yunet'),
  format: z.object({ file: z.string() }),
  input: Input.extend({ channel_order: z.enum(['RGB', 'BGR']).default('BGR') }),
  strides: z.array(z.number().int().positive()).min(1).default([8, 16, 32]),
  decode: z.object({ crop_for_face_models: z.object({ enlarge: z.number() }).optional() }).passthrough().default({}),
});

const DetectorSpec = z.union([YunetSpec, MediapipeSpec]);

const EmbedderSpec = z.object({
  task: z.string().regex(/^face-(embedding|description)/),
  format: z.object({ file: z.string() }),
  input: Input.extend({
    face_crop: z.object({
      enlarge: z.number().optional(),
      /** "arcface": aligned to the ArcFace template from the landmarks (SFace, InsightFace); else the upright box crop. */
      alignment: z.string().optional(),
    }).passthrough().optional(),
    channel_order: z.enum(['RGB', 'BGR']).default('RGB'),
  }),
  outputs: z.array(z.object({ name: z.string(), shape: z.array(z.union([z.string(), z.number()])) })).min(1),
  /**
   * "remove": every raw vector shares one dominant direction (MobileFaceNet's), taken out before
   * comparing; "keep": the vectors compare as they are (SFace, ArcFace-trained models).
   */
  common_direction: z.enum(['remove', 'keep']).default('remove'),
});

export type DetectorSpec = z.infer<typeof DetectorSpec>;
export type EmbedderSpec = z.infer<typeof EmbedderSpec>;

export class FaceModelError extends Error {}

function readSpec<T>(dir: string, schema: z.ZodType<T>): T {
  const where = join(dir, 'model.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(where, 'utf8'));
  } catch (err) {
    throw new FaceModelError(`cannot read ${where}: ${(err as Error).message}`);
  }
  const r = schema.safeParse(json);
  if (!r.success) throw new FaceModelError(`${where} does not describe a face model Loupe can run: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** The input a face model is fed by: its name, and what its graph fixes (batch, square side). */
interface ResolvedInput {
  readonly name: string;
  readonly batch: number | null;
  readonly side: number | null;
}

/**
 * The graph's own input, as its session reports it (protocol.ts, graphInput), and the side where
 * the graph fixes it. A fixed input that is not a square picture cannot be tiled.
 */
function resolveInput(io: ModelIo | undefined, described: string, where: string): ResolvedInput {
  if (!io) return { name: described, batch: null, side: null };
  const input = graphInput(io, described);
  if (!input) throw new FaceModelError(`${where} names the input ${described}, but the model's inputs are ${io.inputs.join(', ')}`);
  const { name, batch, height: h, width: w } = input;
  if (h !== null && w !== null && h !== w) throw new FaceModelError(`${where}: the model fixes its input at ${w}×${h}; Loupe feeds face models square pictures`);
  return { name, batch, side: h ?? w };
}

function startWorker(name: string, path: string, opts: FaceModelOptions): Promise<InferenceWorker> {
  return InferenceWorker.start({ models: { [name]: { path } }, device: opts.device, threads: opts.threads, log: opts.log });
}

/** A picture as RGB bytes, for detection and cropping. */
export interface RgbPicture {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** A picture file (or bytes) decoded to RGB, EXIF orientation applied, at most `maxSide` on its longer side. */
export async function rgbPicture(input: string | Buffer, maxSide = 1024): Promise<RgbPicture> {
  const { data, info } = await sharp(input).rotate().resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
    .removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

export interface FaceModelOptions {
  readonly device?: Device;
  readonly threads?: number;
  readonly log?: (message: string) => void;
}

export interface DetectOptions {
  /** Faces scoring below this over the whole picture are dropped (0.6 separates faces from a dog's on the real photos). */
  readonly minScore?: number;
  /**
   * The same for faces found in a tile, where the detector sees small things large and animals'
   * faces score higher (a dog's, 0.58 over the whole picture, reaches 0.73 in a tile; real faces
   * pasted at 24–48 px score 0.93 and more there).
   */
  readonly tileMinScore?: number;
  /** Only the whole picture (no tiles): quicker, misses small faces. */
  readonly wholeOnly?: boolean;
  readonly maxFaces?: number;
}

export interface FoundFace extends Detection {
  /** 0–1: the score, its size and how frontal it is (face-geometry.ts, quality). */
  readonly quality: number;
}

/** The squares about a face a verifier looks at, as multiples of the face's size. */
const CONFIRM_ENLARGE = [2.5, 4];
/** A verifier's averaged score at or above which a face is confirmed. */
export const CONFIRM_SCORE = 0.5;

export class FaceDetector {
  /** MediaPipe's anchor centres (none for YuNet, which is anchor-free). */
  private readonly anchors: Float32Array;

  /** The square side the detector reads (YuNet: the side its graph fixes, else model.json's, else 640). */
  readonly inputSize: number;

  private constructor(readonly spec: DetectorSpec, private readonly worker: InferenceWorker, private readonly input: ResolvedInput) {
    this.anchors = spec.family === 'yunet' ? new Float32Array(0)
      : anchorCentres(spec.anchors.layers.map((l) => ({ stride: l.stride, grid: l.grid, anchorsPerCell: l.anchors_per_cell })));
    const declared = spec.input.shape[2];
    this.inputSize = spec.family !== 'yunet' ? spec.anchors.input_size : input.side ?? (typeof declared === 'number' && declared > 0 ? declared : 640);
  }

  static async load(dir: string, opts: FaceModelOptions = {}): Promise<FaceDetector> {
    const spec = readSpec(dir, DetectorSpec);
    const worker = await startWorker('detector', join(dir, spec.format.file), opts);
    try {
      return new FaceDetector(spec, worker, resolveInput(worker.io['detector'], spec.input.name, join(dir, 'model.json')));
    } catch (err) {
      await worker.close();
      throw err;
    }
  }

  /** The enlargement of a face box the embedders expect (MediaPipe's 1.4). */
  get cropEnlarge(): number {
    return this.spec.decode.crop_for_face_models?.enlarge ?? 1.4;
  }

  get providers(): Readonly<Record<string, Provider>> {
    return this.worker.providers;
  }

  get notes(): readonly string[] {
    return this.worker.notes;
  }

  /** One batch of windows, resized to the input square, as the model's input tensor. */
  private batch(p: RgbPicture, windows: readonly Window[]): Float32Array {
    const n = this.inputSize;
    const bgr = this.spec.family === 'yunet' && this.spec.input.channel_order === 'BGR';
    const out = new Float32Array(windows.length * 3 * n * n);
    windows.forEach((w, i) => out.set(windowTensor(p.data, p.width, p.height, w, n, this.spec.input.normalization, bgr), i * 3 * n * n));
    return out;
  }

  private async runYunet(p: RgbPicture, windows: readonly Window[], minScore: (w: Window) => number): Promise<Detection[]> {
    if (this.spec.family !== 'yunet') return [];
    const n = this.inputSize;
    const strides = this.spec.strides;
    const names = strides.flatMap((s) => [`cls_${s}`, `obj_${s}`, `bbox_${s}`, `kps_${s}`]);
    // YuNet takes one picture a run (its exported graphs fix the batch at 1).
    const found: Detection[] = [];
    for (const window of windows) {
      const r = await this.worker.run('detector', { [this.input.name]: { type: 'float32', data: this.batch(p, [window]), dims: [1, 3, n, n] } }, names);
      const heads = strides.map((stride) => ({
        stride, cls: r[`cls_${stride}`]!.data, obj: r[`obj_${stride}`]!.data, bbox: r[`bbox_${stride}`]!.data, kps: r[`kps_${stride}`]!.data,
      }));
      found.push(...decodeYunet({ heads, inputWidth: n, inputHeight: n, window, minScore: minScore(window) }));
    }
    return found;
  }

  private async runWindows(p: RgbPicture, windows: readonly Window[], minScore: (w: Window) => number): Promise<Detection[]> {
    if (this.spec.family === 'yunet') return this.runYunet(p, windows, minScore);
    const n = this.inputSize;
    const batch = this.batch(p, windows);
    const inputs = windows;
    const outs = this.spec.outputs;
    const names = outs.length >= 2 && outs.some((o) => o.name === 'classificators') ? ['regressors', 'classificators'] : [outs[0]!.name];
    const r = await this.worker.run('detector', { [this.input.name]: { type: 'float32', data: batch, dims: [inputs.length, 3, n, n] } }, names);
    const rows = this.anchors.length / 2;
    const found: Detection[] = [];
    windows.forEach((window, b) => {
      if (names.length === 2) {
        const reg = r['regressors']!;
        const width = reg.dims[2]!;
        found.push(...decodeRows({
          rows: reg.data.subarray(b * rows * width, (b + 1) * rows * width), width, boxAt: 0,
          logits: r['classificators']!.data.subarray(b * rows, (b + 1) * rows), logitAt: 0,
          anchors: this.anchors, inputSize: n, window, minScore: minScore(window),
        }));
      } else {
        const out = r[names[0]!]!;
        const width = out.dims[2]!;
        found.push(...decodeRows({
          rows: out.data.subarray(b * rows * width, (b + 1) * rows * width), width, boxAt: 1, logits: null, logitAt: 0,
          anchors: this.anchors, inputSize: n, window, minScore: minScore(window),
        }));
      }
    });
    return found;
  }

  /**
   * How sure this detector is of each face another one found: run on squares about the face
   * (2.5 and 4 times its size, so it sees the face large and with its surroundings), the best
   * score of a box overlapping the face's in each, averaged. Real faces pasted at 20–96 px into
   * the real scenes score 0.69–0.95 with the full-range detector; the cat's, a horse's, a dog's and
   * the landscapes' false faces that BlazeFace reports at 0.58–0.83 score 0.31 at most.
   */
  async confirm(p: RgbPicture, faces: readonly Detection[]): Promise<number[]> {
    const out: number[] = [];
    for (const face of faces) {
      let sum = 0;
      for (const enlarge of CONFIRM_ENLARGE) {
        const s = cropSquare(face.box, enlarge);
        const window = { x: s.cx - s.side / 2, y: s.cy - s.side / 2, w: s.side, h: s.side };
        const found = await this.runWindows(p, [window], () => 0.05);
        sum += Math.max(0, ...found.filter((d) => iou(d.box, face.box) >= 0.3).map((d) => d.score));
      }
      out.push(sum / CONFIRM_ENLARGE.length);
    }
    return out;
  }

  /** Faces in a picture, best first, with their quality. */
  async detect(p: RgbPicture, opts: DetectOptions = {}): Promise<FoundFace[]> {
    const whole = opts.minScore ?? 0.6;
    const tile = Math.max(whole, opts.tileMinScore ?? 0.75);
    const windows = opts.wholeOnly ? [{ x: 0, y: 0, w: p.width, h: p.height }] : detectionWindows(p.width, p.height, this.inputSize);
    const isWhole = (w: Window): boolean => w.x === 0 && w.y === 0 && w.w === p.width && w.h === p.height;
    const found: Detection[] = [];
    // A few windows per run: one batch of all of them would hold every input at once.
    const threshold = (w: Window): number => (isWhole(w) ? whole : tile);
    const per = Math.min(8, this.input.batch ?? 8);
    for (let i = 0; i < windows.length; i += per) found.push(...await this.runWindows(p, windows.slice(i, i + per), threshold));
    return nms(found, 0.3, opts.maxFaces ?? 100).map((d) => ({ ...d, quality: quality(d) }));
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}

export class FaceEmbedder {
  private common: Float32Array | null = null;

  private constructor(
    readonly spec: EmbedderSpec,
    private readonly worker: InferenceWorker,
    private readonly output: string,
    private readonly input: ResolvedInput,
  ) {}

  static async load(dir: string, opts: FaceModelOptions = {}): Promise<FaceEmbedder> {
    const spec = readSpec(dir, EmbedderSpec);
    const worker = await startWorker('embedder', join(dir, spec.format.file), opts);
    try {
      const io = worker.io['embedder'];
      const input = resolveInput(io, spec.input.name, join(dir, 'model.json'));
      const wanted = (spec.outputs.find((o) => o.name === 'embedding' || o.name === 'descriptor') ?? spec.outputs[0]!).name;
      // An export may name its output otherwise than the description does (SFace's "fc1"); one output is the vector.
      const output = !io || io.outputs.includes(wanted) ? wanted : io.outputs.length === 1 ? io.outputs[0]! : wanted;
      const e = new FaceEmbedder(spec, worker, output, input);
      // The direction every raw vector shares: the embedding of a flat mid-grey face.
      const size = e.size;
      e.common = unit((await e.raw([new Float32Array(size * size * 3).fill(127.5)]))[0]!);
      return e;
    } catch (err) {
      await worker.close();
      throw err;
    }
  }

  /** The square face crop's side: the one the graph fixes, else model.json's. */
  get size(): number {
    return this.input.side ?? this.spec.input.shape[2];
  }

  get providers(): Readonly<Record<string, Provider>> {
    return this.worker.providers;
  }

  get notes(): readonly string[] {
    return this.worker.notes;
  }

  get dim(): number {
    const d = this.spec.outputs.find((o) => o.name === this.output)?.shape[1];
    return typeof d === 'number' ? d : 0;
  }

  /**
   * The crop of one face for this embedder: aligned to the ArcFace template from the landmarks
   * where the embedder was trained so, else enlarged and squared as the detector's recipe says and
   * turned upright. RGB, or BGR where the embedder reads that.
   */
  crop(p: RgbPicture, face: Detection, enlarge = this.spec.input.face_crop?.enlarge ?? 1.4): Float32Array {
    const arcface = this.spec.input.face_crop?.alignment === 'arcface';
    const crop = arcface
      ? alignedCrop(p.data, p.width, p.height, face.keypoints, this.size)
      : uprightCrop(p.data, p.width, p.height, cropSquare(face.box, enlarge), roll(face), this.size);
    if (this.spec.input.channel_order === 'BGR') {
      for (let i = 0; i < crop.length; i += 3) [crop[i], crop[i + 2]] = [crop[i + 2]!, crop[i]!];
    }
    return crop;
  }

  private async raw(crops: readonly Float32Array[]): Promise<Float32Array[]> {
    // Exports that fix the batch (SFace's at 1) take that many crops a run.
    const per = this.input.batch ?? crops.length;
    if (crops.length > per) {
      const out: Float32Array[] = [];
      for (let i = 0; i < crops.length; i += per) out.push(...await this.raw(crops.slice(i, i + per)));
      return out;
    }
    const n = this.size;
    const { scale, offset } = this.spec.input.normalization;
    const batch = new Float32Array(crops.length * 3 * n * n);
    crops.forEach((c, b) => {
      const at = b * 3 * n * n;
      for (let i = 0; i < n * n; i++) for (let ch = 0; ch < 3; ch++) batch[at + ch * n * n + i] = c[i * 3 + ch]! * scale + offset;
    });
    const r = await this.worker.run('embedder', { [this.input.name]: { type: 'float32', data: batch, dims: [crops.length, 3, n, n] } }, [this.output]);
    const out = r[this.output]!;
    const dim = out.dims[1]!;
    return crops.map((_, b) => out.data.slice(b * dim, (b + 1) * dim));
  }

  /** Unit vectors of face crops (HWC RGB 0..255 at `size`), the common direction removed: compare by dot product. */
  async embed(crops: readonly Float32Array[]): Promise<Float32Array[]> {
    if (crops.length === 0) return [];
    const g = this.common!;
    const keep = this.spec.common_direction === 'keep';
    return (await this.raw(crops)).map((v) => {
      const u = unit(v);
      if (keep) return u;
      const along = dot(u, g);
      return unit(u.map((x, i) => x - along * g[i]!));
    });
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function unit(v: Float32Array): Float32Array {
  const n = Math.sqrt(dot(v, v));
  return n > 0 ? v.map((x) => x / n) : v;
}

/** A face pack's two models, loaded together (the pack's manifest names their model.json files). */
/** The faces in a picture: the detector's, less those a verifier (where the pack has one) does not confirm. */
export async function confirmedFaces(p: RgbPicture, detector: FaceDetector, verifier: FaceDetector | null): Promise<FoundFace[]> {
  const found = await detector.detect(p);
  if (!verifier || found.length === 0) return found;
  const scores = await verifier.confirm(p, found);
  return found.filter((_, i) => scores[i]! >= CONFIRM_SCORE);
}

export class FacePack {
  private constructor(
    readonly manifest: FaceManifest,
    readonly detector: FaceDetector,
    readonly embedder: FaceEmbedder,
    readonly verifier: FaceDetector | null,
  ) {}

  static async load(dir: string, manifest: FaceManifest, opts: FaceModelOptions = {}): Promise<FacePack> {
    const started: { close(): Promise<void> }[] = [];
    try {
      const detector = await FaceDetector.load(dirname(join(dir, manifest.detector)), opts);
      started.push(detector);
      const verifier = manifest.verifier ? await FaceDetector.load(dirname(join(dir, manifest.verifier)), opts) : null;
      if (verifier) started.push(verifier);
      return new FacePack(manifest, detector, await FaceEmbedder.load(dirname(join(dir, manifest.embedder)), opts), verifier);
    } catch (err) {
      await Promise.all(started.map((m) => m.close()));
      throw err;
    }
  }

  get providers(): Readonly<Record<string, Provider>> {
    return { detector: this.detector.providers['detector']!, embedder: this.embedder.providers['embedder']! };
  }

  get notes(): readonly string[] {
    return [...this.detector.notes, ...(this.verifier?.notes ?? []), ...this.embedder.notes];
  }

  async close(): Promise<void> {
    await Promise.all([this.detector.close(), this.embedder.close(), this.verifier?.close()]);
  }
}
