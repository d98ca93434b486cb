import { describe, expect, it } from 'vitest';
import { probability, trainLinear } from '../../main/search/learn.js';
import { normalized } from '../../main/search/rank.js';

/** Unit vectors around a direction, with a shared common component (as CLIP embeddings have). */
function cluster(dir: number, n: number, seed: number, dim = 32): Float32Array[] {
  let s = seed;
  const rnd = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
  return Array.from({ length: n }, () => {
    const v = new Float32Array(dim);
    v[0] = 3; // common component
    v[1 + dir] = 1;
    for (let i = 0; i < dim; i++) v[i]! += 0.3 * rnd();
    return normalized(v);
  });
}

describe('few-shot linear classifier', () => {
  it('learns a category from three examples against a background and generalises to unseen members', () => {
    const pos = cluster(0, 3, 1);
    const background = [...cluster(1, 40, 2), ...cluster(2, 40, 3), ...cluster(3, 40, 4)];
    const m = trainLinear(pos, [], background);
    for (const x of cluster(0, 20, 9)) expect(probability(m, x)).toBeGreaterThan(0.5);
    for (const x of [...cluster(1, 20, 10), ...cluster(2, 20, 11)]) expect(probability(m, x)).toBeLessThan(0.5);
  });

  it('counter-examples move the boundary away from a near class', () => {
    const pos = cluster(0, 3, 1);
    const near = cluster(0, 3, 5).map((v) => { const w = Float32Array.from(v); w[2]! += 0.9; return normalized(w); });
    const background = cluster(3, 40, 4);
    const without = trainLinear(pos, [], background);
    const withNeg = trainLinear(pos, near, background);
    const probe = cluster(0, 5, 6).map((v) => { const w = Float32Array.from(v); w[2]! += 0.9; return normalized(w); });
    const mean = (m: typeof without): number => probe.reduce((a, x) => a + probability(m, x), 0) / probe.length;
    expect(mean(withNeg)).toBeLessThan(mean(without));
    expect(mean(withNeg)).toBeLessThan(0.5);
  });

  it('is deterministic and refuses a category with no example', () => {
    const a = trainLinear(cluster(0, 3, 1), [], cluster(1, 10, 2));
    const b = trainLinear(cluster(0, 3, 1), [], cluster(1, 10, 2));
    expect(Buffer.from(a.weights.buffer).equals(Buffer.from(b.weights.buffer))).toBe(true);
    expect(a.bias).toBe(b.bias);
    expect(() => trainLinear([], [], cluster(1, 10, 2))).toThrow(RangeError);
  });
});
