/** Ranking functions against values computed by hand (in the comments). */
import { describe, expect, it } from 'vitest';
import {
  alphaQueryExpansion, combineQuery, diffusionScores, groups, nearDuplicate, normalized, page, penalizeNegatives, softmax, stableOrder,
  weightedMean,
} from '../../main/search/rank.js';

const v = (...x: number[]): Float32Array => Float32Array.from(x);
const close = (a: ArrayLike<number>, b: readonly number[], digits = 5): void => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < b.length; i++) expect(a[i]!).toBeCloseTo(b[i]!, digits);
};

describe('vector combinations', () => {
  it('normalises, and leaves a zero vector zero', () => {
    close(normalized(v(3, 4)), [0.6, 0.8]);
    close(normalized(v(0, 0)), [0, 0]);
  });

  it('weightedMean of [1,0] and [0,1] is [1/√2, 1/√2]; weights 3:1 give [3,1]/√10', () => {
    close(weightedMean([v(1, 0), v(0, 1)]), [Math.SQRT1_2, Math.SQRT1_2]);
    close(weightedMean([v(1, 0), v(0, 1)], [3, 1]), [3 / Math.sqrt(10), 1 / Math.sqrt(10)]);
    expect(() => weightedMean([])).toThrow(RangeError);
    expect(() => weightedMean([v(1, 0), v(1, 0, 0)])).toThrow(RangeError);
  });

  it('combineQuery: weight 0 is the photo, 1 the text, ½ their bisector; out-of-range weights are clamped', () => {
    const photo = v(1, 0);
    const text = v(0, 1);
    close(combineQuery(photo, text, 0), [1, 0]);
    close(combineQuery(photo, text, 1), [0, 1]);
    close(combineQuery(photo, text, 0.5), [Math.SQRT1_2, Math.SQRT1_2]);
    close(combineQuery(photo, text, 7), [0, 1]);
  });
});

describe('negative terms', () => {
  it('push down the candidates that show the negative more than the candidates do on average', () => {
    // sims to the negative [1,0]: item 1 → 1, item 2 → 0; baseline ½.
    // item 1: 0.9 − (1 − ½) = 0.4; item 2: 0.8 − max(0, 0 − ½) = 0.8.
    const out = penalizeNegatives([{ item: 1, score: 0.9 }, { item: 2, score: 0.8 }], new Map([[1, v(1, 0)], [2, v(0, 1)]]), [v(1, 0)]);
    expect(out.map((c) => c.item)).toEqual([1, 2]);
    expect(out[0]!.score).toBeCloseTo(0.4, 6);
    expect(out[1]!.score).toBeCloseTo(0.8, 6);
  });

  it('with two negatives, each candidate pays for the closer one; no negatives changes nothing', () => {
    // negatives a=[1,0], b=[0,1] over items 1=[1,0], 2=[0,1], 3=[.6,.8]:
    // sims a: 1, 0, .6 (mean .5333); b: 0, 1, .8 (mean .6).
    // item 1: max(.4667, −.6) = .4667; item 2: max(−.5333, .4) = .4; item 3: max(.0667, .2) = .2.
    const cands = [{ item: 1, score: 1 }, { item: 2, score: 1 }, { item: 3, score: 1 }];
    const vecs = new Map([[1, v(1, 0)], [2, v(0, 1)], [3, v(0.6, 0.8)]]);
    const out = penalizeNegatives(cands, vecs, [v(1, 0), v(0, 1)]);
    close(out.map((c) => c.score), [1 - (1 - 1.6 / 3), 1 - 0.4, 1 - 0.2]);
    expect(penalizeNegatives(cands, vecs, [])).toEqual(cands);
  });
});

describe('α query expansion', () => {
  it('adds each neighbour weighted by its similarity^α', () => {
    // q=[1,0], n=[.6,.8], α=3: weight .216 → [1.1296, .1728] / 1.142741.
    close(alphaQueryExpansion(v(1, 0), [v(0.6, 0.8)]), [1.1296 / 1.142741, 0.1728 / 1.142741], 4);
    // α=0 is the plain average: [1.6, .8]/|..|.
    close(alphaQueryExpansion(v(1, 0), [v(0.6, 0.8)], 10, 0), [1.6 / Math.hypot(1.6, 0.8), 0.8 / Math.hypot(1.6, 0.8)]);
  });

  it('uses only the top n neighbours and ignores anti-correlated ones', () => {
    close(alphaQueryExpansion(v(1, 0), [v(0, 1), v(1, 0)], 1), [1, 0]);
    close(alphaQueryExpansion(v(1, 0), [v(-1, 0)]), [1, 0]);
  });
});

describe('diffusion', () => {
  it('without graph edges is (1 − α) · similarity^γ', () => {
    // k = 0 (one candidate): f = 0.1 · 0.8³ = 0.0512.
    close(diffusionScores(v(1, 0), [v(0.8, 0.6)]), [0.0512], 6);
  });

  it('lifts pictures reachable through a chain of close neighbours above an isolated look-alike', () => {
    const deg = Math.PI / 180;
    const arc = [15, 30, 45, 60, 75].map((a) => v(Math.cos(a * deg), Math.sin(a * deg), 0));
    const lookAlike = v(0.6, 0, 0.8);
    const q = v(1, 0, 0);
    // By cosine the look-alike (0.6) beats the chain at 60° (0.5) and 75° (0.26).
    const f = diffusionScores(q, [...arc, lookAlike], { k: 2 });
    expect(f[3]!).toBeGreaterThan(f[5]!);
    expect(f[4]!).toBeGreaterThan(f[5]!);
    // Plain cosine would have put the look-alike above both.
    expect(0.6).toBeGreaterThan(Math.cos(60 * deg));
  });
});

describe('ordering and paging', () => {
  it('sorts by score, then id, so equal scores page the same way every time', () => {
    const list = [{ id: 5, score: 0.5 }, { id: 2, score: 0.9 }, { id: 3, score: 0.5 }, { id: 1, score: 0.5 }];
    expect(stableOrder(list).map((x) => x.id)).toEqual([2, 1, 3, 5]);
    expect(stableOrder([...list].reverse()).map((x) => x.id)).toEqual([2, 1, 3, 5]);
    const all = stableOrder(list);
    expect([...page(all, 0, 2), ...page(all, 2, 2), ...page(all, 4, 2)]).toEqual(all);
    expect(page(all, -3, 1)).toEqual([all[0]]);
  });

  it('softmax with CLIP scale: scores 0 and 0.01 give 1/(1+e) and e/(1+e)', () => {
    close(softmax([0, 0.01]), [1 / (1 + Math.E), Math.E / (1 + Math.E)], 6);
    close(softmax([0.3, 0.3, 0.3], 1), [1 / 3, 1 / 3, 1 / 3]);
  });
});

describe('near-duplicate groups', () => {
  it('joins chains into one group and leaves singletons out', () => {
    expect(groups([{ a: 2, b: 3 }, { a: 6, b: 5 }, { a: 1, b: 2 }])).toEqual([[1, 2, 3], [5, 6]]);
    expect(groups([])).toEqual([]);
  });

  it('duplicates by similarity alone; bursts need the same camera within the window', () => {
    const a = { takenAtMs: 1_000_000, camera: 'X' };
    expect(nearDuplicate(0.96, a, { takenAtMs: null, camera: null })).toBe(true);
    expect(nearDuplicate(0.9, a, { takenAtMs: 1_005_000, camera: 'X' })).toBe(true);
    expect(nearDuplicate(0.9, a, { takenAtMs: 1_005_000, camera: 'Y' })).toBe(false);
    expect(nearDuplicate(0.9, a, { takenAtMs: 1_060_000, camera: 'X' })).toBe(false);
    expect(nearDuplicate(0.8, a, { takenAtMs: 1_001_000, camera: 'X' })).toBe(false);
  });
});
