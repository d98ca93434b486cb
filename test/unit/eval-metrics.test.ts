import { describe, expect, it } from 'vitest';
import {
  averagePrecision, classRank, groupHits, hitAtK, mean, orderPessimistic, overlapAtK, percentile, positiveRanks, precisionAtK, queryAp, type Ranked,
} from '../../eval/metrics.js';

/** A ranking from keys in order, with strictly falling scores (no ties) unless scores are given. */
function ranking(ids: string[], scores?: number[]): Ranked[] {
  return ids.map((id, i) => ({ id, score: scores?.[i] ?? 1 - i / 100 }));
}

describe('average precision (trapezoid rule, as Oxford / revisitop / Holidays compute it)', () => {
  it('is 1 when the positives lead the ranking', () => {
    expect(queryAp(ranking(['a', 'b', 'c', 'd']), new Set(['a', 'b']))).toBe(1);
  });

  it('matches a hand computation with a gap', () => {
    // Positives a and c of a,b,c,d: ranks 0 and 2, two positives (recall step 1/2).
    // a: precision before 1, after 1/1 → (1+1)/2·½ = 0.5
    // c: precision before 1/2 (1 found in 2), after 2/3 → (1/2+2/3)/2·½ = 7/24
    expect(positiveRanks(ranking(['a', 'b', 'c', 'd']), new Set(['a', 'c']))).toEqual([0, 2]);
    expect(queryAp(ranking(['a', 'b', 'c', 'd']), new Set(['a', 'c']))).toBeCloseTo(0.5 + 7 / 24, 12);
  });

  it('ignores junk: a junk image ranked between positives costs nothing', () => {
    const r = ranking(['a', 'j', 'c', 'd']);
    expect(queryAp(r, new Set(['a', 'c']), new Set(['j']))).toBe(1);
    // The same ranking with j an ordinary negative is the gap case above.
    expect(queryAp(r, new Set(['a', 'c']))).toBeCloseTo(0.5 + 7 / 24, 12);
  });

  it('junk also shifts the ranks of later positives (ranks are counted without it)', () => {
    // x, j, c with c positive, j junk: c is at rank 1 once j is out. AP = (0/1 + 1/2)/2 = 1/4.
    expect(positiveRanks(ranking(['x', 'j', 'c']), new Set(['c']), new Set(['j']))).toEqual([1]);
    expect(queryAp(ranking(['x', 'j', 'c']), new Set(['c']), new Set(['j']))).toBeCloseTo(0.25, 12);
  });

  it('counts positives never retrieved in the denominator', () => {
    // One of two positives at rank 0; the other not in the ranking at all: 0.5.
    expect(queryAp(ranking(['a', 'b']), new Set(['a', 'z']))).toBe(0.5);
  });

  it('gives no credit for ties: a positive tied with a negative is ranked after it', () => {
    // a 0.9, then b and c tied at 0.5 with c positive: c is taken at rank 2 whichever order they came in.
    // AP = (0/2 + 1/3)/2 = 1/6.
    const one = ranking(['a', 'c', 'b'], [0.9, 0.5, 0.5]);
    const other = ranking(['a', 'b', 'c'], [0.9, 0.5, 0.5]);
    expect(queryAp(one, new Set(['c']))).toBeCloseTo(1 / 6, 12);
    expect(queryAp(other, new Set(['c']))).toBeCloseTo(1 / 6, 12);
    // An untied ranking with c second earns (1/1... ) = (0/1 + 1/2)/2 = 1/4.
    expect(queryAp(ranking(['a', 'c', 'b'], [0.9, 0.6, 0.5]), new Set(['c']))).toBeCloseTo(0.25, 12);
  });

  it('is NaN without positives, and the mean leaves such queries out', () => {
    expect(averagePrecision([], 0)).toBeNaN();
    expect(mean([1, NaN, 0.5])).toBe(0.75);
    expect(mean([NaN])).toBeNaN();
  });

  it('orders ties pessimistically but keeps the order otherwise', () => {
    const r = orderPessimistic(ranking(['p', 'n', 'm'], [0.5, 0.5, 0.7]), (id) => id === 'p');
    expect(r.map((x) => x.id)).toEqual(['m', 'n', 'p']);
  });
});

describe('precision at k (revisitop)', () => {
  it('is taken over min(k, the last positive found)', () => {
    // Positives at 1-based ranks 1 and 3: P@1 = 1, P@5 over min(5, 3) = 3 ranks → 2/3, P@10 too.
    expect(precisionAtK([0, 2], 1)).toBe(1);
    expect(precisionAtK([0, 2], 5)).toBeCloseTo(2 / 3, 12);
    expect(precisionAtK([0, 2], 10)).toBeCloseTo(2 / 3, 12);
    // Positives at ranks 2, 4, 6, 8, 10, 12: P@5 → 2/5, P@10 → 5/10.
    expect(precisionAtK([1, 3, 5, 7, 9, 11], 5)).toBeCloseTo(2 / 5, 12);
    expect(precisionAtK([1, 3, 5, 7, 9, 11], 10)).toBeCloseTo(0.5, 12);
    expect(precisionAtK([], 5)).toBe(0);
  });
});

describe('UKBench N-S score', () => {
  it('counts the group (query included) in the top 4', () => {
    const group = new Set(['q', 'g1', 'g2', 'g3']);
    expect(groupHits(ranking(['q', 'g1', 'x', 'g2', 'g3']), group)).toBe(3);
    expect(groupHits(ranking(['q', 'g1', 'g2', 'g3', 'x']), group)).toBe(4);
    // g3 ties with x for the fourth place: the tie goes against it.
    expect(groupHits(ranking(['q', 'g1', 'g2', 'g3', 'x'], [1, 0.9, 0.8, 0.7, 0.7]), group)).toBe(3);
  });
});

describe('Recall@k', () => {
  it('is 1 when any positive is within the top k', () => {
    const r = ranking(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(hitAtK(r, new Set(['c']), 1)).toBe(0);
    expect(hitAtK(r, new Set(['c']), 3)).toBe(1);
    expect(hitAtK(r, new Set(['f', 'b']), 5)).toBe(1);
    expect(hitAtK(r, new Set(['z']), 10)).toBe(0);
    // A tie at the border: c and d tied at rank 2–3, d positive, k = 3 → d is taken as 4th.
    expect(hitAtK(ranking(['a', 'b', 'd', 'c'], [0.9, 0.8, 0.5, 0.5]), new Set(['d']), 3)).toBe(0);
  });
});

describe('classification rank (top-1 / top-5)', () => {
  it('counts the classes scoring at least as high as the true one', () => {
    expect(classRank([0.1, 0.7, 0.2], 1)).toBe(0);
    expect(classRank([0.1, 0.7, 0.2], 2)).toBe(1);
    expect(classRank([0.1, 0.7, 0.2], 0)).toBe(2);
    // A tie with the best: not a top-1 hit.
    expect(classRank([0.7, 0.7, 0.2], 0)).toBe(1);
  });
});

describe('index recall and percentiles', () => {
  it('compares top-k sets', () => {
    expect(overlapAtK([1, 2, 3, 4], [1, 2, 3, 5], 4)).toBe(0.75);
    expect(overlapAtK([2, 1], [1, 2], 2)).toBe(1);
    expect(overlapAtK(['a', 'b', 'c'], ['a', 'b'], 10)).toBe(1);
    expect(overlapAtK([], [], 10)).toBeNaN();
  });

  it('takes the nearest rank', () => {
    const v = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
});
