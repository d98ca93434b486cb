/** Ranked contents become photo hits: name matches first, boxes where a region matched, sorting. */
import type { Box, SearchHit, SearchRequest } from '../contract/api.js';
import type { LibraryQueries } from '../db/repos/library-queries.js';
import { toRecord, type PhotoRow } from '../db/repos/photos.js';
import type { Placement, VectorStore } from '../db/repos/vectors.js';
import type { Scored } from './rank.js';

export interface Candidate extends Scored {
  /** The vector id that matched (its region), when it came from the index. */
  readonly vectorId: number | null;
}

/** A hit's matched region (unless it is the whole picture) and its moment in a video. */
function shown(c: Candidate | undefined, placements: ReadonlyMap<number, Placement>): { box: Box | null; atMs: number | null } {
  const p = c && c.vectorId !== null ? placements.get(c.vectorId) : undefined;
  const box = p?.box ?? null;
  return { box: box && !(box.x === 0 && box.y === 0 && box.w === 1 && box.h === 1) ? box : null, atMs: p?.atMs ?? null };
}

export function sortHits<T extends SearchHit & { id: number }>(hits: T[], sort: NonNullable<SearchRequest['sort']>): T[] {
  if (sort === 'relevance') return hits.sort((a, b) => b.score - a.score || a.id - b.id);
  const dir = sort === 'newest' ? -1 : 1;
  return hits.sort((a, b) => {
    const ta = a.photo.takenAtMs;
    const tb = b.photo.takenAtMs;
    if (ta === null || tb === null) return (ta === null ? 1 : 0) - (tb === null ? 1 : 0) || a.id - b.id;
    return dir * (ta - tb) || a.id - b.id;
  });
}

/** Sorts hits by the request's order (photo id breaks ties). */
export function sortedHits(hits: readonly SearchHit[], sort: NonNullable<SearchRequest['sort']>): SearchHit[] {
  return sortHits(hits.map((h) => ({ ...h, id: h.photo.id })), sort).map(({ id: _, ...h }) => h);
}

/** Reciprocal-rank fusion's term for a 0-based rank (k = 60, as Cormack et al. propose). */
export const rrf = (rank: number): number => 1 / (60 + rank + 1);

export class HitMaker {
  constructor(private readonly queries: LibraryQueries, private readonly vectors: VectorStore) {}

  private placements(candidates: readonly (Candidate | undefined)[]): Map<number, Placement> {
    return this.vectors.placements(candidates.map((c) => c?.vectorId).filter((x): x is number => x !== null && x !== undefined));
  }

  /**
   * Photos matched by their words, first, in the order of reciprocal-rank fusion (RRF, k = 60) of
   * their rank in the word index (BM25; photos matched otherwise, by a keyword or a place named,
   * rank after those) and their rank in the picture ranking: 1 + 1/(60 + word rank) + 1/(60 +
   * picture rank), the second term 0 for a photo the ranking did not reach. Exact matches stay
   * first ("IMG_2041" never depends on the model), and among them the picture reorders.
   */
  named(named: ReadonlyMap<number, number>, exclude: number | null, ranked: readonly Candidate[], req: SearchRequest): SearchHit[] {
    if (named.size === 0) return [];
    const byItem = new Map(ranked.map((c, i) => [c.item, { c, rank: i }]));
    const kept = this.queries.photosWithContent(new Set(named.keys())).filter((p) => p.content_id !== exclude);
    const placements = this.placements(kept.map((p) => byItem.get(p.content_id)?.c));
    const hits = kept.map((p) => {
      const at = byItem.get(p.content_id);
      const score = 1 + rrf(named.get(p.id) ?? named.size) + (at ? rrf(at.rank) : 0);
      return { photo: toRecord(p), score, ...shown(at?.c, placements), matchedName: true };
    });
    return sortedHits(hits, req.sort ?? 'relevance');
  }

  /** Candidates (in order) as photo hits; name-matched photos are left to named(). */
  ranked(ranked: readonly Candidate[], named: ReadonlyMap<number, number>, req: SearchRequest): SearchHit[] {
    const photos = new Map<number, PhotoRow[]>();
    for (const r of this.queries.photosOfContents(
      ranked.map((c) => c.item),
      req.filters,
    ))
      photos.set(r.content_id, [...(photos.get(r.content_id) ?? []), r]);
    const placements = this.placements(ranked);
    const out: SearchHit[] = [];
    for (const c of ranked) {
      const where = shown(c, placements);
      for (const p of photos.get(c.item) ?? []) {
        if (!named.has(p.id)) out.push({ photo: toRecord(p), score: c.score, ...where, matchedName: false });
      }
    }
    return out;
  }
}
