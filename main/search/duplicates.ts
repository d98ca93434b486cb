/**
 * Groups of near-identical photos (copies, near-duplicates, bursts), for clean-up: each
 * picture's nearest neighbours in the CLIP space joined when nearDuplicate() says so.
 */
import type { DuplicateGroup, PhotoRecord, SearchFilters } from '../contract/api.js';
import { toRecord, type PhotoRow } from '../db/repos/photos.js';
import { requireSpace, type SearchContext } from './context.js';
import { groups, nearDuplicate, type Edge } from './rank.js';

export interface DuplicateOptions {
  readonly threshold?: number;
  readonly burstThreshold?: number;
  readonly burstMs?: number;
  readonly filters?: SearchFilters;
}

/** The lowest similarity between any two members of a group that were joined by an edge. */
function minSimilarity(g: readonly number[], sims: ReadonlyMap<string, number>): number {
  let min = 1;
  for (let i = 0; i < g.length; i++) for (let j = i + 1; j < g.length; j++) {
    const sim = sims.get(`${Math.min(g[i]!, g[j]!)}:${Math.max(g[i]!, g[j]!)}`);
    if (sim !== undefined) min = Math.min(min, sim);
  }
  return min;
}

export async function findDuplicates(ctx: SearchContext, opts: DuplicateOptions = {}): Promise<DuplicateGroup[]> {
  const s = requireSpace(ctx, 'clip', 'Finding near-duplicates');
  const { queries, vectors } = ctx.repos;
  const index = await ctx.indexes.get(s.space, s.dim);
  const eligible = queries.eligible(opts.filters);
  const allowed = new Set(eligible.map((e) => e.contentId));
  const meta = queries.captureInfo();
  const edges: Edge[] = [];
  const sims = new Map<string, number>();
  for (const r of vectors.eachGlobal(s.space)) {
    if (!allowed.has(r.item)) continue;
    for (const h of index.search(r.vector, { k: 8, filter: (i) => i !== r.item && allowed.has(i), groupByItem: true })) {
      if (h.item < r.item) continue;
      if (
        nearDuplicate(h.score, meta.get(r.item)!, meta.get(h.item)!, {
          duplicate: opts.threshold,
          burst: opts.burstThreshold,
          burstMs: opts.burstMs,
        })
      ) {
        edges.push({ a: r.item, b: h.item });
        sims.set(`${r.item}:${h.item}`, h.score);
      }
    }
  }
  // Copies of one picture (same content) are duplicates by definition.
  const byContent = new Map<number, PhotoRow[]>();
  for (const e of eligible) byContent.set(e.contentId, []);
  for (const r of queries.filteredWithContent(opts.filters)) byContent.get(r.content_id)?.push(r);
  const grouped = groups(edges);
  const inGroup = new Set(grouped.flat());
  for (const [item, ps] of byContent) if (ps.length > 1 && !inGroup.has(item)) grouped.push([item]);
  return grouped.map((g) => {
    const photos: PhotoRecord[] = g.flatMap((item) => (byContent.get(item) ?? []).map(toRecord));
    return { photos, similarity: minSimilarity(g, sims) };
  }).filter((g) => g.photos.length > 1).sort((a, b) => b.photos.length - a.photos.length || a.photos[0]!.id - b.photos[0]!.id);
}
