/**
 * The arithmetic of face detection and alignment, pure: SSD anchors as MediaPipe's detectors lay
 * them out (BlazeFace and the full-range face detector), decoding a detector's rows into boxes and
 * keypoints in picture pixels, non-maximum suppression, the windows (whole picture and tiles)
 * small faces need, a quality score from size and pose, and the upright crop an embedder reads.
 */

/** A box in picture pixels, corners. */
export interface PixelBox {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

export type Point = readonly [number, number];

export interface Detection {
  readonly score: number;
  readonly box: PixelBox;
  /** MediaPipe's six: eye on the image's left, eye on the image's right, nose tip, mouth centre, ear left, ear right. */
  readonly keypoints: readonly Point[];
}

export interface AnchorLayer {
  readonly stride: number;
  readonly grid: number;
  readonly anchorsPerCell: number;
}

/** Anchor centres in input pixels (x, y pairs), in the detector's row order: layer, row-major cells, the cell's anchors. */
export function anchorCentres(layers: readonly AnchorLayer[]): Float32Array {
  const n = layers.reduce((s, l) => s + l.grid * l.grid * l.anchorsPerCell, 0);
  const out = new Float32Array(n * 2);
  let i = 0;
  for (const l of layers) {
    for (let gy = 0; gy < l.grid; gy++) {
      for (let gx = 0; gx < l.grid; gx++) {
        for (let a = 0; a < l.anchorsPerCell; a++) {
          out[i++] = l.stride * (gx + 0.5);
          out[i++] = l.stride * (gy + 0.5);
        }
      }
    }
  }
  return out;
}

/** The part of the picture one detector run saw, resized to the input square. */
export interface Window {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * Detections from a detector's rows: row r of `rows` (stride `width`) holds the logit at
 * `logitAt` (or, for BlazeFace, logits come apart in `logits`) and dx, dy, w, h, then six
 * keypoint offsets from `boxAt`; all in input pixels, mapped back through the window.
 */
export function decodeRows(opts: {
  readonly rows: Float32Array; readonly width: number; readonly boxAt: number;
  readonly logits: Float32Array | null; readonly logitAt: number;
  readonly anchors: Float32Array; readonly inputSize: number; readonly window: Window; readonly minScore: number;
}): Detection[] {
  const { rows, width, boxAt, logits, logitAt, anchors, inputSize, window, minScore } = opts;
  const n = anchors.length / 2;
  const sx = window.w / inputSize;
  const sy = window.h / inputSize;
  const out: Detection[] = [];
  const minLogit = Math.log(minScore / (1 - minScore));
  for (let i = 0; i < n; i++) {
    const logit = logits ? logits[i]! : rows[i * width + logitAt]!;
    if (logit < minLogit) continue;
    const r = i * width + boxAt;
    const ax = anchors[i * 2]!;
    const ay = anchors[i * 2 + 1]!;
    const cx = rows[r]! + ax;
    const cy = rows[r + 1]! + ay;
    const w = rows[r + 2]!;
    const h = rows[r + 3]!;
    if (!(w > 0 && h > 0)) continue;
    const keypoints: Point[] = [];
    for (let k = 0; k < 6; k++) keypoints.push([window.x + (rows[r + 4 + 2 * k]! + ax) * sx, window.y + (rows[r + 5 + 2 * k]! + ay) * sy]);
    out.push({
      score: sigmoid(logit),
      box: {
        x1: window.x + (cx - w / 2) * sx, y1: window.y + (cy - h / 2) * sy,
        x2: window.x + (cx + w / 2) * sx, y2: window.y + (cy + h / 2) * sy,
      },
      keypoints,
    });
  }
  return out;
}

/** One stride's heads of a YuNet detector, row-major over its grid: scores, boxes (4 per cell) and five landmarks (10 per cell). */
export interface YunetHead {
  readonly stride: number;
  readonly cls: Float32Array;
  readonly obj: Float32Array;
  readonly bbox: Float32Array;
  readonly kps: Float32Array;
}

/**
 * Detections from YuNet's heads, decoded as OpenCV's FaceDetectorYN does: score √(cls·obj), box
 * centre (cell + offset)·stride and size exp(·)·stride, landmarks (cell + offset)·stride — in
 * input pixels, mapped back through the window. Its five landmarks (right eye, left eye, nose,
 * right and left mouth corners: the subject's) become MediaPipe's order: the eye on the image's
 * left, the eye on its right, nose, mouth centre, then the mouth corners.
 */
export function decodeYunet(opts: {
  readonly heads: readonly YunetHead[]; readonly inputWidth: number; readonly inputHeight: number;
  readonly window: Window; readonly minScore: number;
}): Detection[] {
  const { heads, inputWidth, inputHeight, window, minScore } = opts;
  const sx = window.w / inputWidth;
  const sy = window.h / inputHeight;
  const out: Detection[] = [];
  for (const h of heads) {
    const cols = Math.floor(inputWidth / h.stride);
    const cells = h.cls.length;
    for (let i = 0; i < cells; i++) {
      const score = Math.sqrt(Math.min(1, Math.max(0, h.cls[i]!)) * Math.min(1, Math.max(0, h.obj[i]!)));
      if (score < minScore) continue;
      const c = i % cols;
      const r = Math.floor(i / cols);
      const cx = (c + h.bbox[i * 4]!) * h.stride;
      const cy = (r + h.bbox[i * 4 + 1]!) * h.stride;
      const w = Math.exp(h.bbox[i * 4 + 2]!) * h.stride;
      const hh = Math.exp(h.bbox[i * 4 + 3]!) * h.stride;
      const k = (n: number): Point =>
        [window.x + (h.kps[i * 10 + 2 * n]! + c) * h.stride * sx, window.y + (h.kps[i * 10 + 2 * n + 1]! + r) * h.stride * sy];
      const [re, le, nose, rm, lm] = [k(0), k(1), k(2), k(3), k(4)];
      out.push({
        score,
        box: {
          x1: window.x + (cx - w / 2) * sx, y1: window.y + (cy - hh / 2) * sy,
          x2: window.x + (cx + w / 2) * sx, y2: window.y + (cy + hh / 2) * sy,
        },
        keypoints: [re, le, nose, [(rm[0] + lm[0]) / 2, (rm[1] + lm[1]) / 2], rm, lm],
      });
    }
  }
  return out;
}

export function area(b: PixelBox): number {
  return Math.max(0, b.x2 - b.x1) * Math.max(0, b.y2 - b.y1);
}

/** The area two boxes share. */
export function overlap(a: PixelBox, b: PixelBox): number {
  return area({ x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1), x2: Math.min(a.x2, b.x2), y2: Math.min(a.y2, b.y2) });
}

export function iou(a: PixelBox, b: PixelBox): number {
  const inter = overlap(a, b);
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Greedy non-maximum suppression, highest score first. A box lying mostly inside a kept one (a
 * tile that saw half a face) counts as overlapping it too.
 */
export function nms(dets: readonly Detection[], iouThreshold: number, max = Infinity): Detection[] {
  const kept: Detection[] = [];
  for (const d of [...dets].sort((a, b) => b.score - a.score)) {
    if (kept.length >= max) break;
    const covered = (k: Detection): boolean =>
      iou(d.box, k.box) > iouThreshold || overlap(d.box, k.box) > 0.6 * area(d.box);
    if (!kept.some(covered)) kept.push(d);
  }
  return kept;
}

/**
 * Where to run the detector on a picture: the whole picture (as the detector was trained), then
 * overlapping square tiles of half and a quarter of its longer side, down to the input size
 * itself — so a face of 16–20 px in the picture is 16–20 px for the detector too. A quarter of
 * each tile overlaps its neighbour, so a face up to that size is whole in some tile.
 */
export function detectionWindows(width: number, height: number, inputSize: number): Window[] {
  const out: Window[] = [{ x: 0, y: 0, w: width, h: height }];
  for (let side = Math.max(width, height) / 2; side >= inputSize * 0.99; side /= 2) {
    const s = Math.min(side, width, height);
    const stride = s * 0.75;
    const xs = Math.max(1, Math.ceil((width - s) / stride) + 1);
    const ys = Math.max(1, Math.ceil((height - s) / stride) + 1);
    for (let j = 0; j < ys; j++) {
      for (let i = 0; i < xs; i++) {
        const x = xs === 1 ? 0 : Math.min(i * stride, width - s);
        const y = ys === 1 ? 0 : Math.min(j * stride, height - s);
        out.push({ x: Math.round(x), y: Math.round(y), w: Math.round(s), h: Math.round(s) });
      }
    }
  }
  return out;
}

/**
 * One window of an RGB picture resized to n×n as tf.image.resizeBilinear does (align_corners and
 * half_pixel_centers off: source = destination × scale, which MediaPipe's detectors were run
 * with), normalised (x·scale + offset) into an NCHW tensor. Reading past the picture's edge
 * repeats the edge.
 */
export function windowTensor(
  rgb: Uint8Array, width: number, height: number, w: Window, n: number,
  norm: { readonly scale: number; readonly offset: number }, bgr = false,
): Float32Array {
  const out = new Float32Array(3 * n * n);
  const sx = w.w / n;
  const sy = w.h / n;
  const px = (x: number): number => Math.min(width - 1, Math.max(0, x));
  const py = (y: number): number => Math.min(height - 1, Math.max(0, y));
  for (let oy = 0; oy < n; oy++) {
    const y = w.y + oy * sy;
    const y0 = Math.floor(y);
    const fy = y - y0;
    const r0 = py(y0) * width;
    const r1 = py(y0 + 1) * width;
    for (let ox = 0; ox < n; ox++) {
      const x = w.x + ox * sx;
      const x0 = Math.floor(x);
      const fx = x - x0;
      const c0 = px(x0);
      const c1 = px(x0 + 1);
      for (let c = 0; c < 3; c++) {
        const top = rgb[(r0 + c0) * 3 + c]! * (1 - fx) + rgb[(r0 + c1) * 3 + c]! * fx;
        const bottom = rgb[(r1 + c0) * 3 + c]! * (1 - fx) + rgb[(r1 + c1) * 3 + c]! * fx;
        out[(bgr ? 2 - c : c) * n * n + oy * n + ox] = (top * (1 - fy) + bottom * fy) * norm.scale + norm.offset;
      }
    }
  }
  return out;
}

/** How far the face is turned away, 0 (frontal) to 1 (profile): the nose's offset from between the eyes, over the eyes' distance. */
export function yaw(d: Detection): number {
  const [l, r, nose] = d.keypoints as [Point, Point, Point];
  const eyes = Math.hypot(r[0] - l[0], r[1] - l[1]);
  if (eyes <= 0) return 1;
  const mid: Point = [(l[0] + r[0]) / 2, (l[1] + r[1]) / 2];
  // Along the eye line: 0 when the nose is midway, 1 when it reaches an eye.
  const along = ((nose[0] - mid[0]) * (r[0] - l[0]) + (nose[1] - mid[1]) * (r[1] - l[1])) / (eyes * eyes / 2);
  return Math.min(1, Math.abs(along));
}

/** The roll that makes the eyes level (radians). */
export function roll(d: Detection): number {
  const [l, r] = d.keypoints as [Point, Point];
  return Math.atan2(r[1] - l[1], r[0] - l[0]);
}

/**
 * A face's fitness for recognition, 0–1: the detector's score, times its size (full marks from
 * 40 px, nothing below 12: group photos hold faces of 20–40 px) and how frontal it is.
 */
export function quality(d: Detection): number {
  // The box's geometric mean side: detectors draw some faces squat (a head turned, under a hat).
  const side = Math.sqrt(Math.max(0, d.box.x2 - d.box.x1) * Math.max(0, d.box.y2 - d.box.y1));
  const size = Math.max(0, Math.min(1, (side - 12) / 28));
  return d.score * size * (1 - 0.8 * yaw(d));
}

/** The square an embedder reads: the box enlarged about its centre and squared (MediaPipe's recipe). */
export function cropSquare(box: PixelBox, enlarge: number): { cx: number; cy: number; side: number } {
  return { cx: (box.x1 + box.x2) / 2, cy: (box.y1 + box.y2) / 2, side: enlarge * Math.max(box.x2 - box.x1, box.y2 - box.y1) };
}

/**
 * A `size`×`size` RGB crop (0..255, HWC) read through a similarity transform: output pixel
 * centre (ox + ½, oy + ½) is read, bilinearly, at t(ox + ½, oy + ½) in the picture. Outside the
 * picture reads as black. Both crops below are this warp with their own transform.
 */
function warpCrop(rgb: Uint8Array, width: number, height: number, t: Similarity, size: number): Float32Array {
  const out = new Float32Array(size * size * 3);
  for (let oy = 0; oy < size; oy++) {
    for (let ox = 0; ox < size; ox++) {
      const px = ox + 0.5;
      const py = oy + 0.5;
      const x = t.a * px - t.b * py + t.tx - 0.5;
      const y = t.b * px + t.a * py + t.ty - 0.5;
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const fx = x - x0;
      const fy = y - y0;
      for (let c = 0; c < 3; c++) {
        const at = (xx: number, yy: number): number =>
          (xx < 0 || yy < 0 || xx >= width || yy >= height ? 0 : rgb[(yy * width + xx) * 3 + c]!);
        const top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx;
        const bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx;
        out[(oy * size + ox) * 3 + c] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return out;
}

/**
 * The face, upright: a square of `side` about (cx, cy), turned by `angle` so the eyes are level,
 * sampled into `size`×`size` RGB — a similarity transform from the output to the picture.
 */
export function uprightCrop(
  rgb: Uint8Array, width: number, height: number, square: { cx: number; cy: number; side: number }, angle: number, size: number,
): Float32Array {
  const scale = square.side / size;
  const a = Math.cos(angle) * scale;
  const b = Math.sin(angle) * scale;
  const half = size / 2;
  // The output's centre goes to the square's centre.
  return warpCrop(rgb, width, height, { a, b, tx: square.cx - a * half + b * half, ty: square.cy - b * half - a * half }, size);
}

/**
 * The ArcFace template at 112×112 (the eye on the image's left, the other eye, nose, mouth centre:
 * the middle of its two mouth corners), as SFace and InsightFace models are trained on.
 */
export const ARCFACE_TEMPLATE: readonly Point[] = [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [56.1396, 92.2848]];

/** x' = a·x − b·y + tx, y' = b·x + a·y + ty: a rotation, a scale and a translation. */
export interface Similarity {
  readonly a: number;
  readonly b: number;
  readonly tx: number;
  readonly ty: number;
}

/** The similarity transform taking `from` onto `to` in the least-squares sense (Umeyama, without reflection). */
export function similarityFit(from: readonly Point[], to: readonly Point[]): Similarity {
  const n = Math.min(from.length, to.length);
  let fx = 0, fy = 0, tx = 0, ty = 0;
  for (let i = 0; i < n; i++) {
    fx += from[i]![0]; fy += from[i]![1]; tx += to[i]![0]; ty += to[i]![1];
  }
  fx /= n; fy /= n; tx /= n; ty /= n;
  let sxx = 0, sxy = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const [x, y] = [from[i]![0] - fx, from[i]![1] - fy];
    const [u, v] = [to[i]![0] - tx, to[i]![1] - ty];
    sxx += x * u + y * v;
    sxy += x * v - y * u;
    norm += x * x + y * y;
  }
  const a = norm > 0 ? sxx / norm : 1;
  const b = norm > 0 ? sxy / norm : 0;
  return { a, b, tx: tx - (a * fx - b * fy), ty: ty - (b * fx + a * fy) };
}

/**
 * The face aligned to a template: each output pixel of `size`×`size` (the template's frame, scaled
 * from 112) is read, bilinearly, where the inverse of the landmarks' similarity transform puts it.
 */
export function alignedCrop(rgb: Uint8Array, width: number, height: number, landmarks: readonly Point[], size: number,
  template: readonly Point[] = ARCFACE_TEMPLATE): Float32Array {
  const k = size / 112;
  const t = similarityFit(landmarks.slice(0, template.length), template.map(([x, y]) => [x * k, y * k] as const));
  // t takes the picture to the template; its inverse says where in the picture each template pixel is.
  const d = t.a * t.a + t.b * t.b || 1;
  const a = t.a / d;
  const b = -t.b / d;
  return warpCrop(rgb, width, height, { a, b, tx: -(a * t.tx - b * t.ty), ty: -(b * t.tx + a * t.ty) }, size);
}
