/**
 * The one search entry point: a SearchRequest (sentence, example photo, region, category, or
 * nothing but filters) answered from the serving embedding spaces, the vector index and SQLite.
 *
 * Flow: parse → query vector(s) → candidates from the index (or an exact scan when filters leave
 * few pictures) → re-ranking (query expansion, diffusion, negative terms) → name matches →
 * contents to photos → sort → page.
 */
import type { DuplicateGroup, ModelKind, SearchHit, SearchRequest, SearchResponse } from '../contract/api.js';
import { parseSearchRequest } from '../contract/search-request.js';
import { hasFilters } from '../db/repos/library-queries.js';
import { toRecord } from '../db/repos/photos.js';
import { placeKey } from '../db/repos/places.js';
import type { SpaceInfo } from '../embed/spaces.js';
import { requireSpace, type SearchContext } from './context.js';
import { findDuplicates, type DuplicateOptions } from './duplicates.js';
import { HitMaker, rrf, sortedHits, type Candidate } from './hits.js';
import { parseQuery, placeInSentence, type ParsedQuery } from './query.js';
import { QueryVectors, type QueryVector } from './query-vectors.js';
import { keptCount } from './relevance.js';
import { RelevanceCut } from './relevance-cut.js';
import { alphaQueryExpansion, combineQuery, diffusionScores, dotProduct, page, penalizeNegatives, stableOrder, weightedMean } from './rank.js';
import { members as taughtMembers } from './taught.js';
import { findClass, loadTaxonomy } from './taxonomies.js';
import { assignClasses, classEmbeddings } from './zero-shot.js';

export { QUERY_TEMPLATES } from './query-vectors.js';
export { SearchError } from './context.js';

/** Candidates ranked per query; paging past them fetches the next thousand. */
export const POOL = 1000;
/** Region search hits whose box is found again on their picture by default: a first screen of results. */
export const REFINED_BOXES = 12;
/** Filters leaving at most this many pictures are answered by an exact scan of their vectors. */
const EXACT_SCAN = 20_000;
/** Zero-shot category members: the class is the picture's most likely one, at least this probable. */
export const CATEGORY_THRESHOLD = 0.2;

/** The pictures a query may return (null: all) and, for category terms, their scores. */
interface Restriction {
  allowed: ReadonlySet<number> | null;
  categoryScores: Map<number, number> | null;
}

export class Searcher {
  private readonly vectors: QueryVectors;
  private readonly hits: HitMaker;
  /** Relative paths for name matching, rebuilt when the database has changed since. */
  /** The last few filters' eligible pictures (users refine the sentence under a fixed filter). */
  private readonly eligibleCache = new Map<string, { version: string; items: ReadonlySet<number> }>();

  private readonly relevance: RelevanceCut;

  constructor(private readonly ctx: SearchContext) {
    this.vectors = new QueryVectors(ctx);
    this.relevance = new RelevanceCut(ctx, (s, text) => this.vectors.text(s, text));
    this.hits = new HitMaker(ctx.repos.queries, ctx.repos.vectors);
  }

  /** The space search answers from for a kind, or null when nothing has been embedded with it yet. */
  space(kind: ModelKind): SpaceInfo | null {
    return this.ctx.spaces.info(kind);
  }

  clipSpace(why: string): SpaceInfo {
    return requireSpace(this.ctx, 'clip', why);
  }

  async search(request: SearchRequest): Promise<SearchResponse> {
    const started = performance.now();
    const asked = parseSearchRequest(request);
    const parsed = this.placesNamed(parseQuery(asked.text ?? ''));
    const notes: string[] = [];
    // person:Ana, -person:Leo, place:Lisbon are filters, so they combine with everything else.
    const withPlaces = this.placeFilters(parsed, this.textFilters(parsed, asked), notes);
    const req = withPlaces && this.peopleFilters(parsed, withPlaces, notes);
    if (!req) return { hits: [], total: 0, offset: asked.offset ?? 0, space: null, tookMs: performance.now() - started, notes };
    const ranking = parsed.text !== '' || parsed.categories.length > 0 || req.photo !== undefined || req.region !== undefined;
    if (!ranking) return this.browse(req, started, notes, parsed.negatives.length > 0);

    const kind: ModelKind = req.region || (req.photo && req.mode === 'same') ? 'cnn' : 'clip';
    // A sentence before any CLIP pack has read the photos: its exact words still answer ("IMG_2041", "Lisbon").
    if (kind === 'clip' && !req.photo && parsed.categories.length === 0 && !this.space('clip')) {
      const words = this.exactMatches(req, parsed);
      if (words.size > 0) return this.wordsOnly(req, words, started, notes);
    }
    const s = requireSpace(this.ctx, kind, req.region ? 'Region search'
      : kind === 'cnn' ? '"Same object or place" search' : req.photo ? 'Photo search' : 'Sentence search');
    const clip = kind === 'clip' ? s : this.space('clip');

    let q: Float32Array | null = null;
    let exclude: number | null = null;
    let region: QueryVector['region'];
    if (req.region) ({ vector: q, exclude, region } = await this.vectors.region(s, req.region.photoId, req.region.box));
    else if (req.photo) ({ vector: q, exclude } = await this.vectors.photo(s, req.photo));
    if (parsed.text !== '') {
      if (!clip) notes.push('the sentence was not used: no CLIP model has embedded the library yet');
      else if (kind === 'clip') {
        const text = weightedMean([await this.vectors.text(clip, parsed.text)]);
        q = q ? combineQuery(q, text, req.textWeight ?? 0.5) : text;
      } else notes.push('the sentence was not used: "same object" and region search rank by the picture alone');
    }
    const restriction = await this.restrict(req, parsed, clip, notes);
    let ranked = await this.rank(req, parsed, s, clip, q, exclude, restriction);
    // A sentence alone: its results end where relevance does, unless every picture is asked for.
    let beyond = 0;
    if (q !== null && kind === 'clip' && !req.photo && parsed.text !== '' && parsed.categories.length === 0 && !req.all && !req.diffusion) {
      const threshold = await this.relevance.threshold(s, q);
      const kept = keptCount(ranked.map((c) => c.score), threshold);
      beyond = ranked.length - kept;
      ranked = ranked.slice(0, kept);
    }
    const answer = { ...this.answer(req, parsed, s, ranked, exclude, started, notes), ...(beyond > 0 ? { beyond } : {}) };
    return region ? this.refineBoxes(answer, s, region, req.refineBoxes ?? REFINED_BOXES, started) : answer;
  }

  /**
   * The first hits of a region search boxed where the object is in each picture: the window of
   * its feature map closest to the query region (pooling.ts localise). The stored grid's squares
   * only say which part of the picture matched; an object seldom fills one of them.
   */
  private async refineBoxes(
    res: SearchResponse, s: SpaceInfo, region: NonNullable<QueryVector['region']>, count: number, started: number,
  ): Promise<SearchResponse> {
    if (count <= 0 || res.hits.length === 0) return res;
    const enc = await this.ctx.encoders.cnn(s.pack);
    const refined = await Promise.all(res.hits.slice(0, count).map(async (h) => {
      const c = this.ctx.repos.photos.contentOf(h.photo.id);
      if (!c) return h;
      try {
        const picture = this.ctx.thumbs.encoderInput(c.hash, c.path, Infinity);
        const found = await enc.localise(picture, region.raw, { centre: s.centre, aspect: region.aspect });
        return { ...h, box: found.box };
      } catch {
        // The picture cannot be read now (moved, damaged): the grid's box stands.
        return h;
      }
    }));
    return { ...res, hits: [...refined, ...res.hits.slice(count)], tookMs: performance.now() - started };
  }

  /**
   * The query with a place its sentence ends on ("beach in Lisbon", or just "Lisbon") taken out
   * as a place: term, where some photo was taken there; the rest of the sentence ranks.
   */
  private placesNamed(parsed: ParsedQuery): ParsedQuery {
    if (parsed.text === '' || parsed.phrases.length > 0) return parsed;
    const known = new Set(this.ctx.repos.places.knownKeys());
    if (known.size === 0) return parsed;
    const found = placeInSentence(parsed.text, (name) => known.has(placeKey(name)));
    if (!found) return parsed;
    // "Lisbon" alone: the photos taken there first, then names ("Lisbon 2019") and pictures as ever.
    if (found.text === '') return { ...parsed, namedPlace: found.place };
    return { ...parsed, text: found.text, places: [...parsed.places, found.place] };
  }

  /** The request with its text: terms ("hotel aurora" on a sign) as text filters. */
  private textFilters(parsed: ParsedQuery, req: SearchRequest): SearchRequest {
    if (parsed.texts.length === 0) return req;
    const f = req.filters ?? {};
    return { ...req, filters: { ...f, texts: [...(f.texts ?? []), ...parsed.texts] } };
  }

  /** The request with its place: terms as place filters; null when no photo was taken in one of them. */
  private placeFilters(parsed: ParsedQuery, req: SearchRequest, notes: string[]): SearchRequest | null {
    if (parsed.places.length === 0 && parsed.notPlaces.length === 0) return req;
    const unknown = parsed.places.find((p) => !this.ctx.repos.places.known(placeKey(p)));
    if (unknown !== undefined) {
      notes.push(`no photo was taken in "${unknown}" (places come from photos' GPS; \`loupe places\` lists them)`);
      return null;
    }
    const f = req.filters ?? {};
    const places = [...(f.places ?? []), ...parsed.places];
    return { ...req, filters: { ...f, places, notPlaces: [...(f.notPlaces ?? []), ...parsed.notPlaces] } };
  }

  /** The request with its person: terms as people filters; null when a name is no one's. */
  private peopleFilters(parsed: ParsedQuery, req: SearchRequest, notes: string[]): SearchRequest | null {
    if (parsed.people.length === 0 && parsed.notPeople.length === 0) return req;
    const resolve = (names: readonly string[]): number[] | null => {
      const ids: number[] = [];
      for (const n of names) {
        const id = this.ctx.repos.faces.byName(n);
        if (id === null) {
          notes.push(`no one is named "${n}" yet: name people in the People view, or with \`loupe people name\``);
          return null;
        }
        ids.push(id);
      }
      return ids;
    };
    const people = resolve(parsed.people);
    const notPeople = resolve(parsed.notPeople);
    if (!people || !notPeople) return null;
    const f = req.filters ?? {};
    return { ...req, filters: { ...f, people: [...(f.people ?? []), ...people], notPeople: [...(f.notPeople ?? []), ...notPeople] } };
  }

  /** The filters' pictures, narrowed by each category term (which, alone, ranks them by its score). */
  private async restrict(req: SearchRequest, parsed: ParsedQuery, clip: SpaceInfo | null, notes: string[]): Promise<Restriction> {
    const r: Restriction = { allowed: hasFilters(req.filters) ? this.eligible(req.filters) : null, categoryScores: null };
    const narrow = (members: Map<number, number>): void => {
      const prev = r.categoryScores;
      r.categoryScores = prev ? new Map([...members].filter(([k]) => prev.has(k))) : members;
      r.allowed = r.allowed ? new Set([...r.allowed].filter((x) => members.has(x))) : new Set(members.keys());
    };
    for (const term of parsed.categories) {
      const own = term.taxonomy === null && clip ? this.ctx.repos.categories.byName(term.name.trim()) : null;
      if (own && clip) {
        narrow(taughtMembers(this.ctx.repos, clip.space, own.id));
        continue;
      }
      const found = findClass(term.name, term.taxonomy);
      if (!found) {
        notes.push(`no category named "${term.name}"${term.taxonomy ? ` in ${term.taxonomy}` : ''}`);
        r.allowed = new Set();
        continue;
      }
      if (!clip) {
        notes.push('categories need a CLIP model pack');
        continue;
      }
      narrow(await this.categoryMembers(clip, found.taxonomy, found.index));
    }
    return r;
  }

  /** Ranked candidates: the index (with query expansion and diffusion when asked), category scores, negative terms. */
  private async rank(
    req: SearchRequest, parsed: ParsedQuery, s: SpaceInfo, clip: SpaceInfo | null,
    q: Float32Array | null, exclude: number | null, r: Restriction,
  ): Promise<Candidate[]> {
    const pool = POOL * Math.max(1, Math.ceil(((req.offset ?? 0) + (req.limit ?? 100)) / POOL));
    let ranked: Candidate[];
    if (q === null && r.categoryScores !== null) {
      // Category alone: its members, most probable first.
      ranked = [...r.categoryScores].filter(([item]) => r.allowed === null || r.allowed.has(item))
        .map(([item, prob]) => ({ item, score: prob, vectorId: null })).sort((a, b) => b.score - a.score || a.item - b.item);
    } else if (q === null) {
      ranked = [];
    } else {
      ranked = await this.candidates(s, q, pool, r.allowed, exclude);
      // αQE by default only in a whitened CNN space: on raw descriptors, whose cosines all sit near 1,
      // it pulls the query towards unrelated neighbours (Copydays: mAP 0.80 → 0.55 at 40 pictures).
      if (req.expand ?? (s.kind === 'cnn' && s.whiten !== null)) {
        const top = this.ctx.repos.vectors.byIds(ranked.slice(0, 10).map((c) => c.vectorId).filter((x): x is number => x !== null));
        const neighbours = ranked.slice(0, 10).map((c) => (c.vectorId === null ? undefined : top.get(c.vectorId)?.vector))
          .filter((v): v is Float32Array => v !== undefined);
        if (neighbours.length > 0) ranked = await this.candidates(s, alphaQueryExpansion(q, neighbours), pool, r.allowed, exclude);
      }
      if (req.diffusion) ranked = this.diffuse(q, ranked);
    }
    if (parsed.negatives.length > 0 && clip && s.kind === 'clip') {
      const negs = await Promise.all(parsed.negatives.map((n) => this.vectors.text(clip, n)));
      const vectors = this.ctx.repos.vectors.globals(clip.space, ranked.map((c) => c.item));
      const penalized = penalizeNegatives(ranked, vectors, negs);
      ranked = ranked.map((c, i) => ({ ...c, score: penalized[i]!.score }));
    }
    return ranked;
  }

  /**
   * The photos the sentence names exactly, each with its rank in the word index (the first list
   * that has it; matches by a keyword or a place named come after): the word index (names, titles,
   * descriptions, keywords, places, people, text read, albums) for quoted phrases as they are and
   * for every word of the sentence, then keywords equal to a word, then the photos of a place named alone.
   */
  private exactMatches(req: SearchRequest, parsed: ParsedQuery): Map<number, number> {
    const named = new Map<number, number>();
    const add = (ids: readonly number[], ranked: boolean): void => {
      ids.forEach((id, i) => {
        if (!named.has(id)) named.set(id, ranked ? i : Number.MAX_SAFE_INTEGER - 1e6);
      });
    };
    for (const phrase of parsed.phrases) add(this.wordMatches(phrase, req.filters, true), true);
    if (parsed.text.length >= 2) add(this.wordMatches(parsed.text, req.filters, false), true);
    if (parsed.namedPlace !== undefined) {
      add(this.ctx.repos.queries.passing(this.ctx.repos.places.photosIn(placeKey(parsed.namedPlace)), req.filters), false);
    }
    const words = [...new Set(parsed.text.split(/\s+/).filter((w) => w.length >= 3))];
    add(this.ctx.repos.queries.passing(this.ctx.repos.queries.withKeywords(words), req.filters), false);
    return named;
  }

  /** Only the exact matches, by word rank: a sentence before any CLIP pack has read the photos. */
  private wordsOnly(req: SearchRequest, named: ReadonlyMap<number, number>, started: number, notes: string[]): SearchResponse {
    const offset = req.offset ?? 0;
    // No vectors, so no contents to go through: the photos themselves, in word-rank order (ties by id).
    const order = [...named].sort((a, b) => a[1] - b[1] || a[0] - b[0]).map(([id]) => id);
    const rows = page(order, offset, req.limit ?? 100).flatMap((id) => this.ctx.repos.photos.byId(id) ?? []);
    const hits = rows.map((p) => ({ photo: toRecord(p), score: 1 + rrf(named.get(p.id) ?? 0), box: null, atMs: null, matchedName: true }));
    notes.push('only exact words matched: no CLIP model pack has read the photos yet, so nothing is found by what is in them');
    return { hits, total: order.length, offset, space: null, tookMs: performance.now() - started, notes };
  }

  /** Name matches first, then the ranking's photos, sorted and paged. */
  private answer(
    req: SearchRequest, parsed: ParsedQuery, s: SpaceInfo, ranked: Candidate[], exclude: number | null, started: number, notes: string[],
  ): SearchResponse {
    const offset = req.offset ?? 0;
    const limit = req.limit ?? 100;
    const named = this.exactMatches(req, parsed);
    const done = (hits: SearchHit[], total: number): SearchResponse =>
      ({ hits: page(hits, offset, limit), total, offset, space: s.space, tookMs: performance.now() - started, notes });
    const sort = req.sort ?? 'relevance';
    if (sort !== 'relevance') {
      const sorted = sortedHits([...this.hits.named(named, exclude, ranked, req), ...this.hits.ranked(ranked, named, req)], sort);
      return done(sorted, sorted.length);
    }
    // Only the page's photos are read; the total is counted in SQL.
    const order = stableOrder(ranked.map((c) => ({ ...c, id: c.item })));
    const out: SearchHit[] = this.hits.named(named, exclude, order, req);
    const namedCount = out.length;
    const step = Math.max(offset + limit - namedCount, 50);
    for (let i = 0; i < order.length && out.length < offset + limit; i += step) {
      out.push(...this.hits.ranked(order.slice(i, i + step), named, req));
    }
    const items = new Set(ranked.map((c) => c.item));
    const { queries } = this.ctx.repos;
    const namedInRanked = queries.contentsOfPhotos(named.keys()).filter((c) => items.has(c)).length;
    return done(out, namedCount + queries.countPhotosOfContents([...items], req.filters) - namedInRanked);
  }

  /** Top candidates for a query vector: the index, or an exact scan over a small filtered set. */
  private async candidates(
    s: SpaceInfo, q: Float32Array, pool: number, allowed: ReadonlySet<number> | null, exclude: number | null,
  ): Promise<Candidate[]> {
    const ok = (item: number): boolean => item !== exclude && (allowed === null || allowed.has(item));
    if (allowed !== null && allowed.size <= EXACT_SCAN) {
      const best = new Map<number, Candidate>();
      for (const r of this.ctx.repos.vectors.ofItems(s.space, allowed)) {
        if (!ok(r.item)) continue;
        const score = dotProduct(q, r.vector);
        const prev = best.get(r.item);
        if (!prev || score > prev.score) best.set(r.item, { item: r.item, score, vectorId: r.id });
      }
      return [...best.values()].sort((a, b) => b.score - a.score || a.item - b.item).slice(0, pool);
    }
    const index = await this.ctx.indexes.get(s.space, s.dim);
    return index.search(q, { k: pool, filter: allowed === null && exclude === null ? undefined : ok, groupByItem: true })
      .map((h) => ({ item: h.item, score: h.score, vectorId: h.id }));
  }

  /** Re-ranks the top candidates by diffusion on their neighbour graph; the rest keep their order below. */
  private diffuse(q: Float32Array, ranked: Candidate[]): Candidate[] {
    const head = ranked.slice(0, 100);
    const vecs = this.ctx.repos.vectors.byIds(head.map((c) => c.vectorId).filter((x): x is number => x !== null));
    const usable = head.filter((c) => c.vectorId !== null && vecs.has(c.vectorId));
    if (usable.length < 3) return ranked;
    const f = diffusionScores(q, usable.map((c) => vecs.get(c.vectorId!)!.vector));
    const max = Math.max(...f, 1e-12);
    const rescored = usable.map((c, i) => ({ ...c, score: f[i]! / max })).sort((a, b) => b.score - a.score || a.item - b.item);
    const used = new Set(usable.map((c) => c.item));
    const floor = Math.min(...rescored.map((c) => c.score));
    return [...rescored, ...ranked.filter((c) => !used.has(c.item)).map((c) => ({ ...c, score: Math.min(c.score, floor - 1e-6) }))];
  }

  /** Content ids of the photos passing the filters, remembered until the database changes. */
  private eligible(filters: SearchRequest['filters']): ReadonlySet<number> {
    const key = JSON.stringify(filters);
    const version = this.ctx.repos.queries.version();
    const hit = this.eligibleCache.get(key);
    if (hit?.version === version) return hit.items;
    const items = new Set(this.ctx.repos.queries.eligible(filters).map((e) => e.contentId));
    this.eligibleCache.delete(key);
    if (this.eligibleCache.size >= 8) this.eligibleCache.delete(this.eligibleCache.keys().next().value!);
    this.eligibleCache.set(key, { version, items });
    return items;
  }

  /**
   * Photos whose words (name, what people wrote, place, people, text read, albums) hold every word
   * of the phrase (or, quoted, the phrase itself), best first, through the request's filters.
   */
  private wordMatches(phrase: string, filters: SearchRequest['filters'], contiguous: boolean): number[] {
    const { words, queries } = this.ctx.repos;
    words.sync();
    const ids = words.match(phrase, POOL + 1, contiguous);
    // A word in more photos than a page of candidates is not a name (".jpg", "img"): it would bury the ranking.
    if (ids.length > POOL) return [];
    // Always through the filters: they also leave out a RAW that is one photo with its JPEG. In word-rank order.
    const passing = new Set(queries.passing(ids, filters));
    return ids.filter((id) => passing.has(id));
  }

  /** No query: the filtered library by date (newest first unless asked otherwise). */
  private browse(req: SearchRequest, started: number, notes: string[], negativesOnly: boolean): SearchResponse {
    if (negativesOnly) notes.push('negative terms need something to search for');
    const offset = req.offset ?? 0;
    const { rows, total } = this.ctx.repos.queries.browse(req.filters, req.sort === 'oldest' ? 'oldest' : 'newest', req.limit ?? 100, offset);
    return {
      hits: rows.map((p) => ({ photo: toRecord(p), score: 0, box: null, atMs: null, matchedName: false })),
      total, offset, space: null, tookMs: performance.now() - started, notes,
    };
  }

  /** Contents in a zero-shot category (most likely class, above the threshold), with their probability. */
  private async categoryMembers(s: SpaceInfo, taxonomy: string, classIndex: number): Promise<Map<number, number>> {
    await this.prepareTaxonomy(taxonomy, undefined, s);
    return this.ctx.repos.categories.members(s.space, taxonomy, classIndex, CATEGORY_THRESHOLD);
  }

  duplicates(opts: DuplicateOptions = {}): Promise<DuplicateGroup[]> {
    return findDuplicates(this.ctx, opts);
  }

  /** Class embeddings of a taxonomy in the serving CLIP space (computed once), and every picture's most likely class. */
  async prepareTaxonomy(
    taxonomy: string, onProgress?: (done: number, total: number) => void, space?: SpaceInfo,
  ): Promise<{ space: SpaceInfo; classes: Float32Array[] }> {
    const s = space ?? this.clipSpace('Categories');
    const t = loadTaxonomy(taxonomy);
    const enc = await this.ctx.encoders.clip(s.pack);
    const classes = await classEmbeddings(this.ctx.repos.categories, enc, s.space, t, onProgress);
    assignClasses(this.ctx.repos.categories, s.space, t.name, classes);
    return { space: s, classes };
  }
}
