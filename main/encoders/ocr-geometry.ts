/**
 * The arithmetic around PP-OCR's models, pure: the text detector's probability map turned into
 * boxes (DB post-processing: threshold, connected regions, each region's minimum-area rotated
 * rectangle, its mean probability, and the rectangle grown back by the shrink the model was
 * trained with — "unclip"), a rotated box cut out of the picture as an upright line, and the
 * recogniser's per-step character probabilities decoded (CTC, greedy: best character per step,
 * repeats merged, blanks dropped).
 */

export type Corner = readonly [number, number];
/** Four corners: top-left, top-right, bottom-right, bottom-left along the text's direction. */
export type Quad = readonly [Corner, Corner, Corner, Corner];

export interface TextBox {
  readonly quad: Quad;
  /** The mean text probability over the region. */
  readonly score: number;
}

export interface DbOptions {
  /** Pixels above this probability are text. */
  readonly threshold?: number;
  /** Regions whose mean probability is below this are dropped. */
  readonly boxThreshold?: number;
  /** How much a region is grown back (PP-OCR's unclip_ratio). */
  readonly unclipRatio?: number;
  /** Boxes whose shorter side is below this (in map pixels) are dropped. */
  readonly minSize?: number;
  readonly maxBoxes?: number;
}

/** The convex hull of points (Andrew's monotone chain), counter-clockwise in image axes. */
export function convexHull(points: readonly Corner[]): Corner[] {
  const p = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length <= 2) return p;
  const cross = (o: Corner, a: Corner, b: Corner): number => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Corner[] = [];
  for (const q of p) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, q) <= 0) lower.pop();
    lower.push(q);
  }
  const upper: Corner[] = [];
  for (let i = p.length - 1; i >= 0; i--) {
    const q = p[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, q) <= 0) upper.pop();
    upper.push(q);
  }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

/** A rotated rectangle: its centre, its side along `angle` (width) and across it (height). */
export interface RotatedRect {
  readonly cx: number;
  readonly cy: number;
  readonly width: number;
  readonly height: number;
  /** Radians: the direction of the width side. */
  readonly angle: number;
}

/** The smallest-area rectangle around a convex hull (one of its sides lies on a hull edge). */
export function minAreaRect(hull: readonly Corner[]): RotatedRect {
  if (hull.length === 0) return { cx: 0, cy: 0, width: 0, height: 0, angle: 0 };
  if (hull.length === 1) return { cx: hull[0]![0], cy: hull[0]![1], width: 0, height: 0, angle: 0 };
  let best: RotatedRect | null = null;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i]!;
    const b = hull[(i + 1) % hull.length]!;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (len === 0) continue;
    const [ux, uy] = [(b[0] - a[0]) / len, (b[1] - a[1]) / len];
    let [minU, maxU, minV, maxV] = [Infinity, -Infinity, Infinity, -Infinity];
    for (const q of hull) {
      const u = q[0] * ux + q[1] * uy;
      const v = -q[0] * uy + q[1] * ux;
      minU = Math.min(minU, u); maxU = Math.max(maxU, u); minV = Math.min(minV, v); maxV = Math.max(maxV, v);
    }
    const area = (maxU - minU) * (maxV - minV);
    if (best === null || area < best.width * best.height) {
      const cu = (minU + maxU) / 2;
      const cv = (minV + maxV) / 2;
      best = { cx: cu * ux - cv * uy, cy: cu * uy + cv * ux, width: maxU - minU, height: maxV - minV, angle: Math.atan2(uy, ux) };
    }
  }
  return best ?? { cx: hull[0]![0], cy: hull[0]![1], width: 0, height: 0, angle: 0 };
}

/** The rectangle with its width along the text (the longer side), turned to read left to right. */
export function textRect(r: RotatedRect): RotatedRect {
  let { width, height, angle } = r;
  if (height > width) {
    [width, height] = [height, width];
    angle += Math.PI / 2;
  }
  // Text reads left to right: keep the direction within ±90° of the x axis.
  while (angle > Math.PI / 2) angle -= Math.PI;
  while (angle <= -Math.PI / 2) angle += Math.PI;
  return { ...r, width, height, angle };
}

/** The four corners of a rotated rectangle, top-left first, clockwise on screen. */
export function corners(r: RotatedRect): Quad {
  const [ux, uy] = [Math.cos(r.angle), Math.sin(r.angle)];
  const [vx, vy] = [-uy, ux];
  const [hw, hh] = [r.width / 2, r.height / 2];
  const at = (su: number, sv: number): Corner => [r.cx + su * hw * ux + sv * hh * vx, r.cy + su * hw * uy + sv * hh * vy];
  return [at(-1, -1), at(1, -1), at(1, 1), at(-1, 1)];
}

/**
 * Text boxes from the detector's probability map (`width`×`height`, row-major), in map pixels.
 * Regions are 8-connected; each pixel stands for its unit square, so a region's rectangle covers
 * its pixels whole. The unclip grows it by area × ratio / perimeter on every side, as PP-OCR's
 * polygon offset does for a rectangle.
 */
export function dbBoxes(prob: Float32Array, width: number, height: number, opts: DbOptions = {}): TextBox[] {
  const threshold = opts.threshold ?? 0.3;
  const boxThreshold = opts.boxThreshold ?? 0.6;
  const ratio = opts.unclipRatio ?? 1.5;
  const minSize = opts.minSize ?? 3;
  const label = new Int32Array(width * height);
  const out: TextBox[] = [];
  const stack: number[] = [];
  let next = 0;
  for (let start = 0; start < prob.length; start++) {
    if (label[start] !== 0 || prob[start]! <= threshold) continue;
    next++;
    label[start] = next;
    stack.push(start);
    const pts: Corner[] = [];
    let sum = 0;
    let n = 0;
    while (stack.length > 0) {
      const i = stack.pop()!;
      const x = i % width;
      const y = (i - x) / width;
      sum += prob[i]!;
      n++;
      // The pixel's square: its four corners bound the region.
      pts.push([x, y], [x + 1, y], [x, y + 1], [x + 1, y + 1]);
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const [nx, ny] = [x + dx, y + dy];
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const j = ny * width + nx;
          if (label[j] === 0 && prob[j]! > threshold) {
            label[j] = next;
            stack.push(j);
          }
        }
      }
    }
    if (n < minSize * minSize) continue;
    const score = sum / n;
    if (score < boxThreshold) continue;
    const r = minAreaRect(convexHull(pts));
    if (Math.min(r.width, r.height) < minSize) continue;
    const grow = (r.width * r.height * ratio) / (2 * (r.width + r.height));
    const grown = textRect({ ...r, width: r.width + 2 * grow, height: r.height + 2 * grow });
    if (grown.height < minSize + 2) continue;
    out.push({ quad: corners(grown), score });
    if (out.length >= (opts.maxBoxes ?? 1000)) break;
  }
  // Reading order: top to bottom, then left to right within a line.
  return out.sort((a, b) => {
    const ay = (a.quad[0][1] + a.quad[3][1]) / 2;
    const by = (b.quad[0][1] + b.quad[3][1]) / 2;
    const h = Math.min(Math.abs(a.quad[3][1] - a.quad[0][1]), Math.abs(b.quad[3][1] - b.quad[0][1])) / 2;
    return Math.abs(ay - by) > h ? ay - by : a.quad[0][0] - b.quad[0][0];
  });
}

/**
 * A text box cut out of an RGB picture as an upright line `outHeight` pixels high (its width
 * keeps the box's proportions, at most `maxWidth`), sampled bilinearly; HWC, 0..255.
 */
export function cropLine(
  rgb: Uint8Array, width: number, height: number, q: Quad, outHeight: number, maxWidth: number,
): { data: Float32Array; width: number; height: number } {
  const [tl, tr, , bl] = q;
  const w = Math.hypot(tr[0] - tl[0], tr[1] - tl[1]);
  const h = Math.max(1e-6, Math.hypot(bl[0] - tl[0], bl[1] - tl[1]));
  const outWidth = Math.max(1, Math.min(maxWidth, Math.round((w / h) * outHeight)));
  const data = new Float32Array(outWidth * outHeight * 3);
  const [ux, uy] = [(tr[0] - tl[0]) / outWidth, (tr[1] - tl[1]) / outWidth];
  const [vx, vy] = [(bl[0] - tl[0]) / outHeight, (bl[1] - tl[1]) / outHeight];
  const px = (x: number): number => Math.min(width - 1, Math.max(0, x));
  const py = (y: number): number => Math.min(height - 1, Math.max(0, y));
  for (let oy = 0; oy < outHeight; oy++) {
    for (let ox = 0; ox < outWidth; ox++) {
      // The output pixel's centre, in picture coordinates (pixel centres at +0.5).
      const x = tl[0] + (ox + 0.5) * ux + (oy + 0.5) * vx - 0.5;
      const y = tl[1] + (ox + 0.5) * uy + (oy + 0.5) * vy - 0.5;
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const fx = x - x0;
      const fy = y - y0;
      const [c0, c1, r0, r1] = [px(x0), px(x0 + 1), py(y0) * width, py(y0 + 1) * width];
      for (let c = 0; c < 3; c++) {
        const top = rgb[(r0 + c0) * 3 + c]! * (1 - fx) + rgb[(r0 + c1) * 3 + c]! * fx;
        const bottom = rgb[(r1 + c0) * 3 + c]! * (1 - fx) + rgb[(r1 + c1) * 3 + c]! * fx;
        data[(oy * outWidth + ox) * 3 + c] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return { data, width: outWidth, height: outHeight };
}

export type Line = { readonly data: Float32Array; readonly width: number; readonly height: number };

/** A line turned half round. */
export function rotate180(line: Line): Line {
  const n = line.width * line.height;
  const out = new Float32Array(line.data.length);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[(n - 1 - i) * 3 + c] = line.data[i * 3 + c]!;
  return { ...line, data: out };
}

/**
 * CTC greedy decoding of `steps`×`classes` probabilities: class 0 is the blank, class k is
 * `alphabet[k − 1]`. Returns the text and its confidence (the mean probability of the characters
 * kept). The recogniser sometimes skips the space between Latin words ("HOTELAURORA"); the blank
 * run between characters does not tell a space from a wide letter reliably (tried: it split
 * "Lisb on C offee" as often as it mended "HOTEL AURORA"), so matching ignores spaces instead.
 */
export function ctcDecode(
  probs: Float32Array, steps: number, classes: number, alphabet: readonly string[],
): { text: string; confidence: number } {
  let text = '';
  let sum = 0;
  let kept = 0;
  let last = -1;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    let p = -1;
    for (let c = 0; c < classes; c++) {
      const v = probs[t * classes + c]!;
      if (v > p) {
        p = v;
        best = c;
      }
    }
    if (best !== 0 && best !== last) {
      text += alphabet[best - 1] ?? '';
      sum += p;
      kept++;
    }
    last = best;
  }
  return { text, confidence: kept > 0 ? sum / kept : 0 };
}
