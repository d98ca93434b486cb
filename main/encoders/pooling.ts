/**
 * Global and regional descriptors from a CNN's last convolutional feature map (C × H × W, as ONNX
 * returns it): SPoC (sum/average), MAC (max), GeM (generalised mean, Radenović et al.) pooling,
 * and the R-MAC multi-scale region grid (Tolias et al.) whose regions Loupe keeps one by one for
 * region search and localisation. Pure functions on typed arrays.
 */

export interface FeatureMap {
  readonly c: number;
  readonly h: number;
  readonly w: number;
  /** c·h·w values, channel-major. */
  readonly data: Float32Array;
}

/** A region of the map in cells: [x, x+w) × [y, y+h). */
export interface Region {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export const GEM_P = 3;
const EPS = 1e-6;

export function l2normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i]! /= n + EPS;
  return v;
}

function whole(map: FeatureMap): Region {
  return { x: 0, y: 0, w: map.w, h: map.h };
}

/** Average of each channel over a region (SPoC). */
export function spoc(map: FeatureMap, r: Region = whole(map)): Float32Array {
  const out = new Float32Array(map.c);
  const cells = r.w * r.h;
  for (let ch = 0; ch < map.c; ch++) {
    let s = 0;
    for (let y = r.y; y < r.y + r.h; y++) for (let x = r.x; x < r.x + r.w; x++) s += map.data[(ch * map.h + y) * map.w + x]!;
    out[ch] = s / cells;
  }
  return out;
}

/** Maximum of each channel over a region (MAC). */
export function mac(map: FeatureMap, r: Region = whole(map)): Float32Array {
  const out = new Float32Array(map.c).fill(-Infinity);
  for (let ch = 0; ch < map.c; ch++) {
    for (let y = r.y; y < r.y + r.h; y++)
      for (let x = r.x; x < r.x + r.w; x++) out[ch] = Math.max(out[ch]!, map.data[(ch * map.h + y) * map.w + x]!);
  }
  return out;
}

/** Generalised mean (mean of x^p)^(1/p) per channel, activations clamped at eps; p = 1 is SPoC, p → ∞ is MAC. */
export function gem(map: FeatureMap, p = GEM_P, r: Region = whole(map)): Float32Array {
  const out = new Float32Array(map.c);
  const cells = r.w * r.h;
  for (let ch = 0; ch < map.c; ch++) {
    let s = 0;
    for (let y = r.y; y < r.y + r.h; y++) {
      for (let x = r.x; x < r.x + r.w; x++) s += Math.max(map.data[(ch * map.h + y) * map.w + x]!, EPS) ** p;
    }
    out[ch] = (s / cells) ** (1 / p);
  }
  return out;
}

/**
 * The R-MAC grid: square regions at scales l = 1..levels of side ⌊2·min(W,H)/(l+1)⌋, laid out so
 * neighbours overlap by about 40%, with one extra region along the longer side chosen as the
 * reference implementation does. The whole map is not included (it is the global descriptor).
 */
export function rmacRegions(w: number, h: number, levels = 3): Region[] {
  const overlap = 0.4;
  const steps = [2, 3, 4, 5, 6, 7];
  const side = Math.min(w, h);
  let best = 0;
  let bestErr = Infinity;
  steps.forEach((s, i) => {
    const b = (Math.max(w, h) - side) / (s - 1);
    const err = Math.abs((side * side - side * b) / (side * side) - overlap);
    if (err < bestErr) {
      bestErr = err;
      best = i;
    }
  });
  const extraW = w > h ? best + 1 : 0;
  const extraH = h > w ? best + 1 : 0;
  const out: Region[] = [];
  for (let l = 1; l <= levels; l++) {
    const wl = Math.floor((2 * side) / (l + 1));
    if (wl === 0) continue;
    const wl2 = Math.floor(wl / 2 - 1);
    const centres = (extent: number, extra: number): number[] => {
      const count = l + extra;
      const b = count === 1 ? 0 : (extent - wl) / (count - 1);
      return Array.from({ length: count }, (_, i) => Math.floor(wl2 + i * b) - wl2);
    };
    for (const y of centres(h, extraH)) for (const x of centres(w, extraW)) out.push({ x, y, w: wl, h: wl });
  }
  return out;
}

export interface RegionalDescriptor {
  readonly region: Region;
  readonly vector: Float32Array;
}

/** GeM vector (L2-normalised) of every R-MAC region; their normalised sum is the R-MAC descriptor. */
export function regionalGem(map: FeatureMap, levels = 3, p = GEM_P): RegionalDescriptor[] {
  return rmacRegions(map.w, map.h, levels).map((region) => ({ region, vector: l2normalize(gem(map, p, region)) }));
}

/** R-MAC: sum of the L2-normalised regional MAC vectors (plus the global one), L2-normalised. */
export function rmac(map: FeatureMap, levels = 3): Float32Array {
  const sum = l2normalize(mac(map));
  for (const region of rmacRegions(map.w, map.h, levels)) {
    const v = l2normalize(mac(map, region));
    for (let i = 0; i < sum.length; i++) sum[i]! += v[i]!;
  }
  return l2normalize(sum);
}

/** A window of the map and how well its GeM descriptor matches a query. */
export interface Localised {
  readonly region: Region;
  readonly score: number;
}

/**
 * The window of the map whose GeM descriptor is closest to the query's (approximate max-pooling
 * localisation, Tolias et al., ICLR 2016, with GeM in place of MAC): every window of whole cells,
 * its pooled x^p read from a per-channel integral image in four lookups, both sides centred by
 * `centre` (the library's mean descriptor, so the scene common to every window does not win) and
 * compared by cosine. Windows whose shape is far from the query box's (`aspect`, width/height in
 * cells) are skipped: the object keeps its shape, and the search stays a few thousand windows.
 */
export function localise(
  map: FeatureMap, query: Float32Array, opts: { readonly centre?: Float32Array | null; readonly aspect?: number; readonly p?: number } = {},
): Localised {
  const { c, h, w, data } = map;
  const p = opts.p ?? GEM_P;
  const root = 1 / p;
  const stride = (h + 1) * (w + 1);
  const integral = new Float64Array(c * stride);
  for (let ch = 0; ch < c; ch++) {
    const base = ch * stride;
    for (let y = 0; y < h; y++) {
      let row = 0;
      for (let x = 0; x < w; x++) {
        row += Math.max(EPS, data[ch * h * w + y * w + x]!) ** p;
        integral[base + (y + 1) * (w + 1) + x + 1] = integral[base + y * (w + 1) + x + 1]! + row;
      }
    }
  }
  const centre = opts.centre ?? null;
  const q = Float32Array.from(query, (v, i) => v - (centre ? centre[i]! : 0));
  let qn = 0;
  for (const v of q) qn += v * v;
  qn = Math.sqrt(qn) || 1;
  const aspect = opts.aspect && Number.isFinite(opts.aspect) && opts.aspect > 0 ? opts.aspect : null;
  const v = new Float32Array(c);
  let best: Localised = { region: whole(map), score: -Infinity };
  for (let wh = 1; wh <= h; wh++) {
    for (let ww = 1; ww <= w; ww++) {
      // Within a factor of two of the query's shape (cells are square), or any shape without one.
      if (aspect !== null && (ww / wh > 2 * aspect || ww / wh < aspect / 2)) continue;
      const area = ww * wh;
      for (let y0 = 0; y0 + wh <= h; y0++) {
        for (let x0 = 0; x0 + ww <= w; x0++) {
          const a = y0 * (w + 1) + x0;
          const b = y0 * (w + 1) + x0 + ww;
          const d = (y0 + wh) * (w + 1) + x0;
          const e = (y0 + wh) * (w + 1) + x0 + ww;
          let norm = 0;
          for (let ch = 0; ch < c; ch++) {
            const base = ch * stride;
            const g = ((integral[base + e]! - integral[base + b]! - integral[base + d]! + integral[base + a]!) / area) ** root;
            v[ch] = g;
            norm += g * g;
          }
          norm = Math.sqrt(norm) || 1;
          let dotp = 0;
          let vn = 0;
          for (let ch = 0; ch < c; ch++) {
            const x = v[ch]! / norm - (centre ? centre[ch]! : 0);
            dotp += x * q[ch]!;
            vn += x * x;
          }
          const score = dotp / (Math.sqrt(vn) || 1) / qn;
          if (score > best.score) best = { region: { x: x0, y: y0, w: ww, h: wh }, score };
        }
      }
    }
  }
  return best;
}
