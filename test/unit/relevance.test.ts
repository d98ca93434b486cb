/**
 * The relevance cut-off on synthetic cross-modal spaces with known relevant sets, built as CLIP's
 * spaces are: pictures and sentences each sit on their own side of a modality gap, every topic
 * has a direction, and each query carries its own offset towards everything (some words match
 * all pictures a little), so that no single cosine separates relevant from not for every query.
 */
import { describe, expect, it } from 'vitest';
import { gaussian, rng, type Rng } from '../../main/index/random.js';
import {
  calibrateNull, keptCount, nullThreshold, robustStats, sigmoidProbability, sigmoidThreshold, SIGMOID_MIN_PROBABILITY,
} from '../../main/search/relevance.js';

const D = 256;

function unit(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  return v.map((x) => x / n);
}

function randomDir(r: Rng): Float32Array {
  return unit(Float32Array.from({ length: D }, () => gaussian(r)));
}

function mix(parts: readonly [Float32Array, number][], r: Rng, noise: number): Float32Array {
  const v = Float32Array.from({ length: D }, () => noise * gaussian(r));
  for (const [dir, w] of parts) for (let i = 0; i < D; i++) v[i]! += w * dir[i]!;
  return unit(v);
}

interface Space {
  readonly pictures: Float32Array[];
  /** Each picture's topic (−1: none of the queried ones). */
  readonly topic: number[];
  readonly topics: Float32Array[];
  readonly imageGap: Float32Array;
  readonly textGap: Float32Array;
  readonly r: Rng;
}

/** 3,000 pictures: topics 0–9 with 30–120 pictures each, the rest of topics 10–29 never asked about; 30–59 are in no picture. */
function space(seed: number): Space {
  const r = rng(seed);
  const topics = Array.from({ length: 60 }, () => randomDir(r));
  const imageGap = randomDir(r);
  const textGap = randomDir(r);
  const pictures: Float32Array[] = [];
  const topic: number[] = [];
  for (let t = 0; t < 10; t++) {
    for (let i = 0; i < 30 + 10 * t; i++) {
      pictures.push(mix([[topics[t]!, 0.6], [imageGap, 0.8]], r, 0.03));
      topic.push(t);
    }
  }
  while (pictures.length < 3000) {
    const other = 10 + Math.floor(r() * 20);
    pictures.push(mix([[topics[other]!, 0.6], [imageGap, 0.8]], r, 0.03));
    topic.push(-1);
  }
  return { pictures, topic, topics, imageGap, textGap, r };
}

/** A sentence about topic t; `pull` leans it towards every picture (the per-query offset). */
function query(s: Space, t: number, pull: number): Float32Array {
  return mix([[s.topics[t]!, 0.55], [s.textGap, 0.75], [s.imageGap, pull]], s.r, 0.03);
}

function scores(q: Float32Array, pictures: readonly Float32Array[]): number[] {
  return pictures.map((p) => p.reduce((a, x, i) => a + x * q[i]!, 0));
}

/** Precision and recall of keeping the pictures at or above the threshold. */
function judge(s: Space, q: Float32Array, t: number, threshold: number): { precision: number; recall: number; kept: number } {
  const sc = scores(q, s.pictures);
  let kept = 0;
  let hits = 0;
  sc.forEach((v, i) => {
    if (v >= threshold) {
      kept++;
      if (s.topic[i] === t) hits++;
    }
  });
  const relevant = s.topic.filter((x) => x === t).length;
  return { precision: kept === 0 ? 1 : hits / kept, recall: relevant === 0 ? 1 : hits / relevant, kept };
}

/** Captions of random things, none of them in the library, with offsets of their own. */
function nullQueries(s: Space): Float32Array[] {
  return Array.from({ length: 48 }, (_, i) => query(s, 30 + (i % 30), 0.1 * (i % 4)));
}

describe('relevance cut-off', () => {
  const s = space(7);
  const sample = s.pictures.filter((_, i) => i % 3 === 0);
  const k = calibrateNull(nullQueries(s), sample);

  it('keeps what each query is about and stops there, whatever its offset', () => {
    for (const [t, pull] of [[0, 0], [3, 0.25], [6, 0.5], [9, 0.1]] as const) {
      const q = query(s, t, pull);
      const r = judge(s, q, t, nullThreshold(q, sample, k));
      expect(r.precision, `topic ${t} pull ${pull}`).toBeGreaterThan(0.8);
      expect(r.recall, `topic ${t} pull ${pull}`).toBeGreaterThan(0.9);
    }
  });

  it('returns almost nothing for a query about nothing in the library', () => {
    const absent = mix([[randomDir(s.r), 0.55], [s.textGap, 0.75], [s.imageGap, 0.3]], s.r, 0.03);
    expect(judge(s, absent, -2, nullThreshold(absent, sample, k)).kept).toBeLessThanOrEqual(3);
  });

  it('does what no flat threshold can: the best one for one query fails another', () => {
    const a = query(s, 2, 0);
    const b = query(s, 2, 0.5);
    // The flat threshold that is right for a (its own calibrated cut) …
    const flat = nullThreshold(a, sample, k);
    expect(judge(s, a, 2, flat).recall).toBeGreaterThan(0.9);
    // … floods b with everything its offset lifts, where b's own cut does not.
    expect(judge(s, b, 2, flat).precision).toBeLessThan(0.2);
    expect(judge(s, b, 2, nullThreshold(b, sample, k)).precision).toBeGreaterThan(0.8);
  });

  it('calibrates k from the null without being moved by the null captions the library holds', () => {
    expect(k).toBeGreaterThan(2);
    expect(k).toBeLessThan(12);
    // A few of the random captions are about what the library does hold: the median is not moved.
    const withHeld = [...nullQueries(s).slice(0, 40), ...Array.from({ length: 8 }, (_, i) => query(s, i, 0))];
    expect(Math.abs(calibrateNull(withHeld, sample) - k)).toBeLessThan(1);
  });

  it('reads a sigmoid model’s own probability', () => {
    const [scale, bias] = [20, -12];
    const th = sigmoidThreshold(scale, bias);
    expect(sigmoidProbability(th, scale, bias)).toBeCloseTo(SIGMOID_MIN_PROBABILITY, 9);
    // Pairs the model calls likely are kept; ones it calls unlikely are not.
    expect(sigmoidProbability(0.7, scale, bias)).toBeGreaterThan(0.5);
    expect(0.7).toBeGreaterThan(th);
    expect(0.3).toBeLessThan(th);
  });

  it('robust statistics ignore the relevant tail and keptCount finds the cut in sorted scores', () => {
    const st = robustStats([...Array.from({ length: 100 }, (_, i) => 0.2 + 0.001 * (i % 10)), 0.9, 0.95]);
    expect(st.centre).toBeCloseTo(0.205, 3);
    expect(st.spread).toBeLessThan(0.01);
    expect(keptCount([0.9, 0.5, 0.3, 0.1], 0.3)).toBe(3);
    expect(keptCount([0.9, 0.5], 1)).toBe(0);
  });
});
