/**
 * Where a sentence's results stop being relevant, per query. A flat cosine threshold does not
 * transfer: CLIP-style spaces put one query's unrelated pictures at 0.18 and another's at 0.26
 * (the modality gap, words that match everything a little), so the cut-off is read against the
 * query's own distribution over the library.
 *
 *  - Sigmoid models (SigLIP) were trained to say, per pair, how likely the picture matches:
 *    σ(scale·cos + bias) with the checkpoint's scale and bias is that probability.
 *  - CLIP-style (softmax-trained) models say nothing absolute. Per query, the library's scores are
 *    mostly unrelated pictures: their median and spread (MAD) over a fixed sample of the library
 *    are the query's null, and a picture is relevant when its score stands out by more than k
 *    spreads. k is calibrated once per space on captions of things picked at random (most are
 *    not in the library): the typical largest standing-out of such a caption over the sample.
 */
import { dotProduct } from './rank.js';


/** A picture must be at least this probable for a sigmoid model to count it (log-odds −2.9). */
export const SIGMOID_MIN_PROBABILITY = 0.05;

/** Library vectors the null is read over. */
export const NULL_SAMPLE = 2000;

/** Below this many pictures a library's null is not read (its median and spread would be noise): nothing is cut. */
export const NULL_MIN_PICTURES = 50;

export interface RobustStats {
  readonly centre: number;
  readonly spread: number;
}

function median(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return 0;
  return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/** Median and MAD (scaled to a normal's σ) of scores; the spread never falls to 0. */
export function robustStats(scores: ArrayLike<number>): RobustStats {
  const s = Array.from(scores).sort((a, b) => a - b);
  const centre = median(s);
  const dev = s.map((v) => Math.abs(v - centre)).sort((a, b) => a - b);
  return { centre, spread: Math.max(1.4826 * median(dev), 1e-6) };
}

/** A query's scores over the sample. */
export function sampleScores(q: Float32Array, sample: readonly Float32Array[]): Float64Array {
  return Float64Array.from(sample, (v) => dotProduct(q, v));
}

/** How far a score stands out of the query's null, in spreads. */
export function standing(score: number, stats: RobustStats): number {
  return (score - stats.centre) / stats.spread;
}

/**
 * k for a space: the median, over captions of random things, of each one's largest standing-out
 * over the sample — a query for nothing in particular then returns about one picture in
 * NULL_SAMPLE, and a caption that happens to be in the library does not move it.
 */
export function calibrateNull(nullQueries: readonly Float32Array[], sample: readonly Float32Array[]): number {
  if (nullQueries.length === 0 || sample.length < 20) return 4;
  const tops = nullQueries.map((q) => {
    const scores = sampleScores(q, sample);
    const stats = robustStats(scores);
    let top = -Infinity;
    for (const s of scores) top = Math.max(top, standing(s, stats));
    return top;
  }).sort((a, b) => a - b);
  return median(tops);
}

/** The lowest cosine a calibrated CLIP-style space keeps for this query. */
export function nullThreshold(q: Float32Array, sample: readonly Float32Array[], k: number): number {
  const stats = robustStats(sampleScores(q, sample));
  return stats.centre + k * stats.spread;
}

export function sigmoidProbability(cos: number, scale: number, bias: number): number {
  return 1 / (1 + Math.exp(-(scale * cos + bias)));
}

/** The lowest cosine a sigmoid model gives at least `p`. */
export function sigmoidThreshold(scale: number, bias: number, p = SIGMOID_MIN_PROBABILITY): number {
  return (Math.log(p / (1 - p)) - bias) / scale;
}

/** How many of the scores (best first) are at or above the threshold. */
export function keptCount(sortedScores: readonly number[], threshold: number): number {
  let lo = 0;
  let hi = sortedScores.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sortedScores[mid]! >= threshold) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Captions of things picked at random, the null a CLIP-style space is calibrated on: everyday
 * objects, animals and scenes across what photo libraries hold, so that the few a library does
 * hold weigh no more than the median lets them.
 */
export const NULL_CAPTIONS: readonly string[] = [
  'a photo of a stapler', 'a photo of a harmonica', 'a photo of a tractor', 'a photo of a jellyfish', 'a photo of a chess board',
  'a photo of a volcano', 'a photo of a lighthouse', 'a photo of a saxophone', 'a photo of a cactus', 'a photo of a submarine',
  'a photo of a wedding cake', 'a photo of a parrot', 'a photo of a fire truck', 'a photo of a snowboard', 'a photo of a microscope',
  'a photo of a pineapple', 'a photo of a windmill', 'a photo of a kangaroo', 'a photo of a typewriter', 'a photo of a hot air balloon',
  'a photo of a violin', 'a photo of a bulldozer', 'a photo of a flamingo', 'a photo of a toaster', 'a photo of a glacier',
  'a photo of a skateboard', 'a photo of a tennis racket', 'a photo of an octopus', 'a photo of a cathedral', 'a photo of a sewing machine',
  'a photo of a zebra', 'a photo of a traffic cone', 'a photo of a telescope', 'a photo of a canoe', 'a photo of a pretzel',
  'a photo of a waterfall', 'a photo of an accordion', 'a photo of a lobster', 'a photo of a helicopter', 'a photo of a cash register',
  'a photo of a porcupine', 'a photo of a vending machine', 'a photo of a mosque', 'a photo of a trombone', 'a photo of a beehive',
  'a photo of an ambulance', 'a photo of a yurt', 'a photo of a hedgehog',
];
