/** Pooling of CNN feature maps: definitions checked on small maps computed by hand. */
import { describe, expect, it } from 'vitest';
import { gem, l2normalize, localise, mac, regionalGem, rmac, rmacRegions, spoc, type FeatureMap } from '../../main/encoders/pooling.js';

/** 2 channels × 2 × 3: channel 0 counts 1..6, channel 1 is constant 2. */
const map: FeatureMap = { c: 2, h: 2, w: 3, data: new Float32Array([1, 2, 3, 4, 5, 6, 2, 2, 2, 2, 2, 2]) };

describe('pooling', () => {
  it('SPoC averages, MAC takes the maximum', () => {
    expect(Array.from(spoc(map))).toEqual([3.5, 2]);
    expect(Array.from(mac(map))).toEqual([6, 2]);
    expect(Array.from(mac(map, { x: 0, y: 0, w: 2, h: 1 }))).toEqual([2, 2]);
  });

  it('GeM is the p-mean: p=1 is SPoC, large p tends to MAC, p=3 by the formula', () => {
    expect(gem(map, 1)[0]).toBeCloseTo(3.5, 5);
    expect(gem(map, 200)[0]).toBeCloseTo(6, 0);
    const want = ((1 + 8 + 27 + 64 + 125 + 216) / 6) ** (1 / 3);
    expect(gem(map, 3)[0]).toBeCloseTo(want, 4);
    expect(gem(map, 3)[1]).toBeCloseTo(2, 5);
    // Negative activations are clamped (GeM is defined on the non-negative ReLU output).
    expect(gem({ c: 1, h: 1, w: 2, data: new Float32Array([-5, 1]) }, 3)[0]).toBeCloseTo((0.5) ** (1 / 3), 4);
  });

  it('lays out the R-MAC grid of the reference implementation', () => {
    // A 10 × 7 map: level 1 has side 7 and 2 regions along the longer side; level 2 side 4, 3×2; level 3 side 3, 4×3.
    const r = rmacRegions(10, 7, 3);
    const byLevel = (side: number): { x: number; y: number }[] => r.filter((g) => g.w === side).map(({ x, y }) => ({ x, y }));
    expect(byLevel(7)).toEqual([{ x: 0, y: 0 }, { x: 3, y: 0 }]);
    expect(byLevel(4)).toHaveLength(6);
    expect(byLevel(3)).toHaveLength(12);
    for (const g of r) {
      expect(g.x).toBeGreaterThanOrEqual(0);
      expect(g.y).toBeGreaterThanOrEqual(0);
      expect(g.x + g.w).toBeLessThanOrEqual(10);
      expect(g.y + g.h).toBeLessThanOrEqual(7);
    }
    // A square map has no extra regions: 1 + 4 + 9.
    expect(rmacRegions(8, 8, 3)).toHaveLength(14);
  });

  it('regional GeM vectors are unit length and localise the strongest region', () => {
    // One channel lights up only in the top-left corner.
    const w = 12;
    const h = 8;
    const data = new Float32Array(2 * w * h).fill(0.1);
    for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) data[y * w + x] = 10;
    const regions = regionalGem({ c: 2, h, w, data });
    for (const r of regions) expect(Math.hypot(...r.vector)).toBeCloseTo(1, 4);
    const best = regions.reduce((a, b) => (b.vector[0]! > a.vector[0]! ? b : a));
    expect(best.region.x).toBe(0);
    expect(best.region.y).toBe(0);
    expect(best.region.w).toBeLessThanOrEqual(4);
  });

  it('R-MAC is unit length and stable under map scaling', () => {
    const a = rmac(map, 2);
    const b = rmac({ ...map, data: map.data.map((v) => v * 7) }, 2);
    expect(Math.hypot(...a)).toBeCloseTo(1, 5);
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 5));
    expect(Array.from(l2normalize(new Float32Array([3, 4])))).toEqual([expect.closeTo(0.6, 5), expect.closeTo(0.8, 5)]);
  });
});

describe('localise', () => {
  /** A 12×9 map of 6 channels: background in channels 0–2 everywhere, an "object" in channels 3–5 over a 3×4 window. */
  const scene = (obj: { x: number; y: number; w: number; h: number }): FeatureMap => {
    const c = 6;
    const w = 12;
    const h = 9;
    const data = new Float32Array(c * h * w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const inside = x >= obj.x && x < obj.x + obj.w && y >= obj.y && y < obj.y + obj.h;
        for (let ch = 0; ch < c; ch++) data[ch * h * w + y * w + x] = ch < 3 ? 1 + ((x * 7 + y * 3 + ch) % 5) * 0.1 : inside ? 2 + ch * 0.3 : 0;
      }
    }
    return { c, h, w, data };
  };

  it('finds the window holding the query object, at its shape', () => {
    const obj = { x: 7, y: 2, w: 3, h: 4 };
    const map = scene(obj);
    // The query: the object's own GeM (with a little of the background it was cut with).
    const query = l2normalize(gem(map, 3, obj));
    const found = localise(map, query, { aspect: 3 / 4 });
    expect(found.region).toEqual(obj);
    expect(found.score).toBeGreaterThan(0.99);
  });

  it('without a shape, any window; a map of one cell is its own answer', () => {
    const obj = { x: 4, y: 6, w: 5, h: 2 };
    const map = scene(obj);
    // The object's inside is uniform, so any window of it with half its rows or more scores as well.
    const r = localise(map, l2normalize(gem(map, 3, obj))).region;
    expect(r.x).toBe(obj.x);
    expect(r.w).toBe(obj.w);
    expect(r.y).toBeGreaterThanOrEqual(obj.y);
    expect(r.y + r.h).toBeLessThanOrEqual(obj.y + obj.h);
    const one: FeatureMap = { c: 2, h: 1, w: 1, data: Float32Array.of(1, 2) };
    expect(localise(one, l2normalize(Float32Array.of(1, 2)))).toMatchObject({ region: { x: 0, y: 0, w: 1, h: 1 } });
  });
});
