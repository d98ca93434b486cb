/**
 * Retrieval and classification metrics, as the literature's official evaluation code computes
 * them. Pure functions over rankings of dataset keys (an image's path in the dataset folder).
 *
 * Ties: equal scores give no credit. Within a run of equal scores the items that count as
 * relevant are placed last, so a model that cannot tell items apart scores as badly as its
 * worst ordering, never by the luck of an id order.
 */

export interface Ranked {
  readonly id: string;
  readonly score: number;
}

/** The ranking by score, descending; ties keep their order except that relevant items go last. */
export function orderPessimistic<T extends Ranked>(ranking: readonly T[], relevant: (id: string) => boolean): T[] {
  return ranking
    .map((r, i) => ({ r, i, rel: relevant(r.id) ? 1 : 0 }))
    .sort((a, b) => b.r.score - a.r.score || a.rel - b.rel || a.i - b.i)
    .map((x) => x.r);
}

/** 0-based positions of the positives in the ranking once junk is taken out of it. */
export function positiveRanks(ranking: readonly Ranked[], positives: ReadonlySet<string>, junk: ReadonlySet<string> = new Set()): number[] {
  const ranks: number[] = [];
  let at = 0;
  for (const r of orderPessimistic(ranking, (id) => positives.has(id))) {
    if (junk.has(r.id) && !positives.has(r.id)) continue;
    if (positives.has(r.id)) ranks.push(at);
    at++;
  }
  return ranks;
}

/**
 * Average precision from the (junk-free, ascending) ranks of the positives found, out of
 * `positives` in all: the area under the precision–recall curve by the trapezoid rule, as in
 * Oxford's compute_ap.cpp, revisitop's compute_ap and the INRIA Holidays script. Positives never
 * retrieved add nothing. NaN when there are no positives (such a query is left out of the mean).
 */
export function averagePrecision(ranks: readonly number[], positives: number): number {
  if (positives === 0) return NaN;
  const step = 1 / positives;
  let ap = 0;
  ranks.forEach((rank, j) => {
    const before = rank === 0 ? 1 : j / rank;
    const after = (j + 1) / (rank + 1);
    ap += ((before + after) / 2) * step;
  });
  return ap;
}

/** AP of one query's ranking: positives and junk as sets of keys. */
export function queryAp(ranking: readonly Ranked[], positives: ReadonlySet<string>, junk: ReadonlySet<string> = new Set()): number {
  return averagePrecision(positiveRanks(ranking, positives, junk), positives.size);
}

/** Mean over the queries that have positives (revisitop leaves the others out). */
export function mean(values: readonly number[]): number {
  const defined = values.filter((v) => !Number.isNaN(v));
  return defined.length === 0 ? NaN : defined.reduce((s, v) => s + v, 0) / defined.length;
}

/**
 * Precision at k as revisitop computes it: over min(k, the rank of the last positive found), so a
 * query with fewer positives than k is not punished for the ranks after its last one.
 */
export function precisionAtK(ranks: readonly number[], k: number): number {
  if (ranks.length === 0) return 0;
  const oneBased = ranks.map((r) => r + 1);
  const kq = Math.min(Math.max(...oneBased), k);
  return oneBased.filter((r) => r <= kq).length / kq;
}

/** UKBench's N-S score for one query: how many of its group (itself included) are in the top k (4). */
export function groupHits(ranking: readonly Ranked[], group: ReadonlySet<string>, k = 4): number {
  return orderPessimistic(ranking, (id) => group.has(id)).slice(0, k).filter((r) => group.has(r.id)).length;
}

/** Recall@k for one query: 1 when any of its positives is in the top k, else 0. */
export function hitAtK(ranking: readonly Ranked[], positives: ReadonlySet<string>, k: number): number {
  return orderPessimistic(ranking, (id) => positives.has(id)).slice(0, k).some((r) => positives.has(r.id)) ? 1 : 0;
}

/** The 0-based rank of the true class among class scores: classes scoring higher, and every other tied one. */
export function classRank(scores: ArrayLike<number>, label: number): number {
  const s = scores[label]!;
  let rank = 0;
  for (let i = 0; i < scores.length; i++) if (i !== label && scores[i]! >= s) rank++;
  return rank;
}

/** How much of the exact top k an approximate search found (ids compared as a set). */
export function overlapAtK(approx: readonly (string | number)[], exact: readonly (string | number)[], k: number): number {
  const want = new Set(exact.slice(0, k));
  if (want.size === 0) return NaN;
  return approx.slice(0, k).filter((id) => want.has(id)).length / want.size;
}

/** Nearest-rank percentile (p in 0–100) of a sample. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The dot product of two vectors of one length (cosine similarity for unit vectors). */
export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
