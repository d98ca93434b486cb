/**
 * Grouping faces into people as they arrive, without re-clustering the library: each new face
 * joins the person whose faces it is closest to — only when it is clearly that person (close
 * enough, and clearly closer than to anyone else) — or starts a person of its own. Conservative
 * on purpose: people complain far more of two people merged than of one person split, and a split
 * is one merge away. The user's "not this person" is never overruled.
 */

import { FACE_MIN_QUALITY } from '../db/repos/library-queries.js';

/** Cosine to a person's centre at or above which a face may join them. */
export const JOIN_SIMILARITY = 0.75;
/** How much closer to the best person than to the next one a face must be to join. */
export const JOIN_MARGIN = 0.05;
/** Faces of lower quality (face-geometry.ts, quality) are kept but not grouped: too poor to tell who. */
export const MIN_QUALITY = FACE_MIN_QUALITY;

/** When a face joins a person: cosine to their centre at least `join`, and `margin` more than to the next. */
export interface Grouping {
  readonly join: number;
  readonly margin: number;
}

export const DEFAULT_GROUPING: Grouping = { join: JOIN_SIMILARITY, margin: JOIN_MARGIN };

export interface PersonCentre {
  readonly id: number;
  /** The mean of the person's face vectors (not normalised), and how many. */
  readonly sum: Float32Array;
  readonly count: number;
}

const dot = (a: Float32Array, b: Float32Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** The cosine of a unit face vector to a person's centre. */
export function similarityTo(face: Float32Array, p: PersonCentre): number {
  const n = Math.sqrt(dot(p.sum, p.sum));
  return n > 0 ? dot(face, p.sum) / n : 0;
}

/** Centres of the people from their faces' vectors. */
export function centres(faces: Iterable<{ readonly personId: number; readonly vector: Float32Array }>): Map<number, PersonCentre> {
  const out = new Map<number, PersonCentre>();
  for (const f of faces) {
    const c = out.get(f.personId);
    const sum = c ? c.sum : new Float32Array(f.vector.length);
    for (let i = 0; i < sum.length; i++) sum[i]! += f.vector[i]!;
    out.set(f.personId, { id: f.personId, sum, count: (c?.count ?? 0) + 1 });
  }
  return out;
}

/**
 * The person a face is, among `people`, or null when it is no one yet (too far from all, or too
 * close to two); people the user said it is not are passed over.
 */
export function closestPerson(
  face: Float32Array, people: Iterable<PersonCentre>, rejected: (personId: number) => boolean, grouping: Grouping = DEFAULT_GROUPING,
): { id: number; similarity: number } | null {
  let best: { id: number; similarity: number } | null = null;
  let second = -1;
  for (const p of people) {
    if (rejected(p.id)) continue;
    const s = similarityTo(face, p);
    if (!best || s > best.similarity) {
      second = best?.similarity ?? -1;
      best = { id: p.id, similarity: s };
    } else if (s > second) second = s;
  }
  if (!best || best.similarity < grouping.join || best.similarity - second < grouping.margin) return null;
  return best;
}

/** Adds a face to a person's centre (in place of the old centre). */
export function joined(p: PersonCentre, face: Float32Array): PersonCentre {
  const sum = p.sum.slice();
  for (let i = 0; i < sum.length; i++) sum[i]! += face[i]!;
  return { id: p.id, sum, count: p.count + 1 };
}
