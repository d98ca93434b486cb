/**
 * The one search entry point: a SearchRequest (sentence, example photo, region, category, or
 * nothing but filters) answered from the serving embedding spaces, the vector index and SQLite.
 *
 * Flow: parse → query vector(s) → candidates from the index (or an exact scan when filters leave
 * few pictures) → re-ranking (query expansion, diffusion, negative terms) → name matches →
 * contents to photos → sort → page.
 */
import sharp from 'sharp';
import type { Box, DuplicateGroup, ModelKind, PhotoRecord, SearchHit, SearchRequest, SearchResponse } from '../contract/api.js';
import { float32s } from '../db/blobs.js';
import type { Db } from '../db/database.js';
import type { EncoderCache } from '../encoders/cache.js';
import { applyWhitening } from '../embed/pca-whitening.js';
import type { IndexSet } from '../index/spaces.js';
import type { VectorIndex } from '../index/vector-index.js';
import { servingSpace } from '../embed/embedder.js';
import { toRecord, type PhotoRow } from '../ingest/photos.js';
import type { ThumbnailStore } from '../ingest/thumbnails.js';
import { currentWhitening } from '../embed/whitener.js';
import { assignClasses, classEmbeddings, exampleItems, findClass, loadTaxonomy, scoreAll, storedModel, trainCategory, userCategory } from './categories.js';
import { BROWSE_ORDER, eligiblePhotos, filterSql, hasFilters, passing, relativeNames } from './filters.js';
import { fillTemplate, parseQuery, wantsPrompts } from './query.js';
import {
  alphaQueryExpansion, combineQuery, diffusionScores, dotProduct, groups, nearDuplicate, page, penalizeNegatives,
  stableOrder, weightedMean, type Edge, type Scored,
} from './rank.js';
import { parseSearchRequest } from '../contract/search-request.js';
import { UserError } from '../contract/errors.js';
import { errorMessage } from '../util/errors.js';

/** The user's to act on (see contract/errors.ts). */
export class SearchError extends UserError {}

export interface SearchContext {
  readonly db: Db;
  readonly indexes: IndexSet;
  readonly encoders: EncoderCache;
  readonly thumbs: ThumbnailStore;
}

/**
 * Templates for short queries: the first four of the seven CLIP's authors selected for ImageNet,
 * led by the plain caption. Four, not seven or eighty: each costs a text-model run per query.
 */
export const QUERY_TEMPLATES: readonly string[] = ['a photo of a {}.', 'itap of a {}.', 'a bad photo of the {}.', 'a photo of the large {}.'];

/** Candidates ranked per query; paging past them fetches the next thousand. */
export const POOL = 1000;
/** Filters leaving at most this many pictures are answered by an exact scan of their vectors. */
const EXACT_SCAN = 20_000;
/** Zero-shot category members: the class is the picture's most likely one, at least this probable. */
export const CATEGORY_THRESHOLD = 0.2;


interface Candidate extends Scored {
  /** The vector id that matched (its region), when it came from the index. */
  readonly vectorId: number | null;
}

interface SpaceInfo {
  readonly space: string;
  readonly kind: ModelKind;
  readonly pack: string;
  readonly dim: number;
  /** Set when the space is a whitened one: on-the-fly descriptors are whitened the same way. */
  readonly whiten: ((v: Float32Array) => Float32Array) | null;
}

export class Searcher {
  private readonly textCache = new Map<string, Float32Array>();
  /** Relative paths for name matching, rebuilt when the database has changed since. */
  private names: { version: string; rows: { id: number; name: string }[] } | null = null;
  /** The last few filters' eligible pictures (users refine the sentence under a fixed filter). */
  private readonly eligibleCache = new Map<string, { version: string; items: ReadonlySet<number> }>();

  constructor(private readonly ctx: SearchContext) {}

  /** The space search answers from for a kind, or null when nothing has been embedded with it yet. */
  space(kind: ModelKind): SpaceInfo | null {
    const { db } = this.ctx;
    const space = servingSpace(db, kind);
    if (!space) return null;
    const row = db.prepare('SELECT dim FROM vectors WHERE space = ? LIMIT 1').get(space) as { dim: number } | undefined;
    if (!row) return null;
    const raw = (db.prepare('SELECT raw_space FROM whitenings WHERE space = ?').get(space) as { raw_space: string } | undefined)?.raw_space;
    const w = raw ? currentWhitening(db, raw) : null;
    const whitening = w && w.space === space ? w.whitening : null;
    return {
      space, kind, dim: row.dim, pack: (raw ?? space).slice(kind.length + 1),
      whiten: whitening ? (v: Float32Array): Float32Array => applyWhitening(whitening, v) : null,
    };
  }

  private requireSpace(kind: ModelKind, why: string): SpaceInfo {
    const s = this.space(kind);
    if (s) return s;
    throw new SearchError(kind === 'clip'
      ? `${why} needs a CLIP model pack and embedded photos: install one (\`loupe models install clip-vit-b32-q8\`) and run \`loupe index\``
      : `${why} needs a CNN model pack (object and place descriptors): install one (\`loupe models install resnet50\`) and run \`loupe index\``);
  }

  /** A sentence's embedding (prompt-ensembled when short), cached per space. */
  async embedText(s: SpaceInfo, text: string): Promise<Float32Array> {
    const key = `${s.space}\0${text}`;
    const hit = this.textCache.get(key);
    if (hit) return hit;
    const enc = await this.ctx.encoders.clip(s.pack);
    const texts = wantsPrompts(text) ? QUERY_TEMPLATES.map((t) => fillTemplate(t, text)) : [text];
    const v = weightedMean(await enc.embedTexts(texts));
    if (this.textCache.size >= 512) this.textCache.delete(this.textCache.keys().next().value!);
    this.textCache.set(key, v);
    return v;
  }

  private contentOfPhoto(photoId: number): { contentId: number; hash: string; path: string } {
    const r = this.ctx.db.prepare(`SELECT c.id, p.hash, p.path FROM photos p JOIN contents c ON c.hash = p.hash WHERE p.id = ?`).get(photoId) as
      | { id: number; hash: string; path: string }
      | undefined;
    if (!r) throw new SearchError(`photo ${photoId} is not in the library or not indexed yet`);
    return { contentId: r.id, hash: r.hash, path: r.path };
  }

  private storedVector(space: string, contentId: number): Float32Array | null {
    const r = this.ctx.db.prepare('SELECT data FROM vectors WHERE space = ? AND content_id = ? AND region = 0').get(space, contentId) as { data: Buffer } | undefined;
    return r ? float32s(r.data) : null;
  }

  /** The example photo's vector in a space: stored for library photos, computed (never stored) for others. */
  private async photoVector(s: SpaceInfo, photo: NonNullable<SearchRequest['photo']>): Promise<{ vector: Float32Array; exclude: number | null }> {
    if ('id' in photo) {
      const c = this.contentOfPhoto(photo.id);
      const stored = this.storedVector(s.space, c.contentId);
      if (stored) return { vector: stored, exclude: c.contentId };
      return { vector: await this.embedPicture(s, this.picturePath(c.hash, c.path)), exclude: c.contentId };
    }
    const input = 'path' in photo ? photo.path : Buffer.from(photo.bytes, 'base64');
    try {
      return { vector: await this.embedPicture(s, input), exclude: null };
    } catch (err) {
      throw new SearchError(`could not read the example photo: ${errorMessage(err)}`);
    }
  }

  /** The 1024-px thumbnail (enough pixels for a region's crop), else the original. */
  private picturePath(hash: string, path: string): string {
    return this.ctx.thumbs.encoderInput(hash, path, Infinity);
  }

  private async embedPicture(s: SpaceInfo, input: string | Buffer): Promise<Float32Array> {
    if (s.kind === 'clip') {
      const enc = await this.ctx.encoders.clip(s.pack);
      return (await enc.embedImages([input]))[0]!;
    }
    const enc = await this.ctx.encoders.cnn(s.pack);
    const d = await enc.describe(input);
    return s.whiten ? s.whiten(d.global) : d.global;
  }

  /** The descriptor of a box drawn on a library photo (the crop run through the CNN). */
  private async regionVector(s: SpaceInfo, photoId: number, box: Box): Promise<{ vector: Float32Array; exclude: number }> {
    const c = this.contentOfPhoto(photoId);
    const src = this.picturePath(c.hash, c.path);
    // Decoded once to raw pixels (upright), cut, and handed on losslessly without compression:
    // re-encoding the whole photo cost more than the cut.
    const { data, info } = await sharp(src, { failOn: 'error' }).autoOrient().raw().toBuffer({ resolveWithObject: true });
    const left = Math.max(0, Math.min(info.width - 1, Math.floor(box.x * info.width)));
    const top = Math.max(0, Math.min(info.height - 1, Math.floor(box.y * info.height)));
    const width = Math.max(1, Math.min(info.width - left, Math.round(box.w * info.width)));
    const height = Math.max(1, Math.min(info.height - top, Math.round(box.h * info.height)));
    const crop = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
      .extract({ left, top, width, height }).png({ compressionLevel: 0 }).toBuffer();
    return { vector: await this.embedPicture(s, crop), exclude: c.contentId };
  }

  private async index(s: SpaceInfo): Promise<VectorIndex> {
    return this.ctx.indexes.get(s.space, s.dim);
  }

  /** Top candidates for a query vector: the index, or an exact scan over a small filtered set. */
  private async candidates(s: SpaceInfo, q: Float32Array, pool: number, allowed: ReadonlySet<number> | null, exclude: number | null): Promise<Candidate[]> {
    const ok = (item: number): boolean => item !== exclude && (allowed === null || allowed.has(item));
    if (allowed !== null && allowed.size <= EXACT_SCAN) {
      const best = new Map<number, Candidate>();
      const rows = this.ctx.db.prepare(`SELECT id, content_id AS item, data FROM vectors WHERE space = ? AND content_id IN (SELECT value FROM json_each(?))`)
        .iterate(s.space, JSON.stringify([...allowed])) as Iterable<{ id: number; item: number; data: Buffer }>;
      for (const r of rows) {
        if (!ok(r.item)) continue;
        const score = dotProduct(q, float32s(r.data));
        const prev = best.get(r.item);
        if (!prev || score > prev.score) best.set(r.item, { item: r.item, score, vectorId: r.id });
      }
      return [...best.values()].sort((a, b) => b.score - a.score || a.item - b.item).slice(0, pool);
    }
    const index = await this.index(s);
    return index.search(q, { k: pool, filter: allowed === null && exclude === null ? undefined : ok, groupByItem: true })
      .map((h) => ({ item: h.item, score: h.score, vectorId: h.id }));
  }

  private vectorsById(ids: readonly number[]): Map<number, { item: number; vector: Float32Array; box: Box | null }> {
    const rows = this.ctx.db.prepare(`SELECT id, content_id, data, box_x, box_y, box_w, box_h FROM vectors WHERE id IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(ids)) as { id: number; content_id: number; data: Buffer; box_x: number | null; box_y: number | null; box_w: number | null; box_h: number | null }[];
    return new Map(rows.map((r) => [r.id, { item: r.content_id, vector: float32s(r.data), box: boxOf(r) }]));
  }

  /** The region box of each candidate's matched vector (box columns only; null for CLIP vectors). */
  private boxes(candidates: readonly (Candidate | undefined)[]): Map<number, { box: Box | null }> {
    const ids = candidates.map((c) => c?.vectorId).filter((x): x is number => x !== null && x !== undefined);
    if (ids.length === 0) return new Map();
    const rows = this.ctx.db.prepare('SELECT v.id, v.box_x, v.box_y, v.box_w, v.box_h FROM json_each(?) j CROSS JOIN vectors v ON v.id = j.value')
      .all(JSON.stringify(ids)) as { id: number; box_x: number | null; box_y: number | null; box_w: number | null; box_h: number | null }[];
    return new Map(rows.map((r) => [r.id, { box: boxOf(r) }]));
  }

  private globalVectors(space: string, items: readonly number[]): Map<number, Float32Array> {
    const rows = this.ctx.db.prepare(`SELECT content_id, data FROM vectors WHERE space = ? AND region = 0 AND content_id IN (SELECT value FROM json_each(?))`)
      .all(space, JSON.stringify(items)) as { content_id: number; data: Buffer }[];
    return new Map(rows.map((r) => [r.content_id, float32s(r.data)]));
  }

  /** Contents in a zero-shot category (most likely class, above the threshold), with their probability. */
  private async categoryMembers(s: SpaceInfo, taxonomy: string, classIndex: number): Promise<Map<number, number>> {
    const t = loadTaxonomy(taxonomy);
    const enc = await this.ctx.encoders.clip(s.pack);
    const classes = await classEmbeddings(this.ctx.db, enc, s.space, t);
    assignClasses(this.ctx.db, s.space, t.name, classes);
    const rows = this.ctx.db.prepare('SELECT content_id, prob FROM class_assignments WHERE space = ? AND taxonomy = ? AND class = ? AND prob >= ?')
      .all(s.space, t.name, classIndex, CATEGORY_THRESHOLD) as { content_id: number; prob: number }[];
    return new Map(rows.map((r) => [r.content_id, r.prob]));
  }

  /** A user-taught category's pictures: its examples, and those its classifier accepts. */
  userCategoryMembers(s: SpaceInfo, categoryId: number): Map<number, number> {
    const { db } = this.ctx;
    const name = (db.prepare('SELECT name FROM user_categories WHERE id = ?').get(categoryId) as { name: string }).name;
    const model = storedModel(db, categoryId, s.space) ?? trainCategory(db, name, s.space);
    const out = new Map<number, number>([...exampleItems(db, categoryId, true)].map((i) => [i, 1] as const));
    for (const sug of scoreAll(db, s.space, model, exampleItems(db, categoryId))) out.set(sug.item, sug.prob);
    return out;
  }

  async search(request: SearchRequest): Promise<SearchResponse> {
    const started = performance.now();
    const req = parseSearchRequest(request);
    const parsed = parseQuery(req.text ?? '');
    const offset = req.offset ?? 0;
    const limit = req.limit ?? 100;
    const notes: string[] = [];
    const ranking = parsed.text !== '' || parsed.categories.length > 0 || req.photo !== undefined || req.region !== undefined;
    if (!ranking) return this.browse(req, started, notes, parsed.negatives.length > 0);

    const filtered = hasFilters(req.filters);
    let allowed: ReadonlySet<number> | null = filtered ? this.eligible(req.filters) : null;
    const pool = POOL * Math.max(1, Math.ceil((offset + limit) / POOL));

    const kind: ModelKind = req.region || (req.photo && req.mode === 'same') ? 'cnn' : 'clip';
    const s = this.requireSpace(kind, req.region ? 'Region search' : kind === 'cnn' ? '"Same object or place" search' : req.photo ? 'Photo search' : 'Sentence search');

    // Query vector.
    let q: Float32Array | null = null;
    let exclude: number | null = null;
    // Widened on purpose: restrictTo() below assigns it, which control-flow narrowing cannot see.
    let categoryScores = null as Map<number, number> | null;
    if (req.region) {
      ({ vector: q, exclude } = await this.regionVector(s, req.region.photoId, req.region.box));
    } else if (req.photo) {
      ({ vector: q, exclude } = await this.photoVector(s, req.photo));
    }
    const clip = kind === 'clip' ? s : this.space('clip');
    const textParts: Float32Array[] = [];
    if (parsed.text !== '') {
      if (!clip) notes.push('the sentence was not used: no CLIP model has embedded the library yet');
      else if (kind === 'clip') textParts.push(await this.embedText(clip, parsed.text));
      else notes.push('the sentence was not used: "same object" and region search rank by the picture alone');
    }
    // Each category term narrows the pictures allowed (and, alone, ranks them by its score).
    const restrictTo = (members: Map<number, number>): void => {
      categoryScores = categoryScores ? new Map([...members].filter(([k]) => categoryScores!.has(k))) : members;
      allowed = allowed ? new Set([...allowed].filter((x) => members.has(x))) : new Set(members.keys());
    };
    for (const term of parsed.categories) {
      const own = term.taxonomy === null && clip ? userCategory(this.ctx.db, term.name) : null;
      if (own && clip) {
        restrictTo(this.userCategoryMembers(clip, own.id));
        continue;
      }
      const found = findClass(term.name, term.taxonomy);
      if (!found) {
        notes.push(`no category named "${term.name}"${term.taxonomy ? ` in ${term.taxonomy}` : ''}`);
        allowed = new Set();
        continue;
      }
      if (!clip) {
        notes.push('categories need a CLIP model pack');
        continue;
      }
      restrictTo(await this.categoryMembers(clip, found.taxonomy, found.index));
    }
    if (textParts.length > 0) {
      const text = weightedMean(textParts);
      q = q ? combineQuery(q, text, req.textWeight ?? 0.5) : text;
    }

    let ranked: Candidate[];
    if (q === null && categoryScores !== null) {
      // Category alone: its members, most probable first.
      ranked = [...categoryScores].filter(([item]) => allowed === null || allowed.has(item))
        .map(([item, prob]) => ({ item, score: prob, vectorId: null })).sort((a, b) => b.score - a.score || a.item - b.item);
    } else if (q === null) {
      ranked = [];
    } else {
      ranked = await this.candidates(s, q, pool, allowed, exclude);
      if (req.expand ?? kind === 'cnn') {
        const top = this.vectorsById(ranked.slice(0, 10).map((c) => c.vectorId).filter((x): x is number => x !== null));
        const neighbours = ranked.slice(0, 10).map((c) => (c.vectorId === null ? undefined : top.get(c.vectorId)?.vector)).filter((v): v is Float32Array => v !== undefined);
        if (neighbours.length > 0) ranked = await this.candidates(s, alphaQueryExpansion(q, neighbours), pool, allowed, exclude);
      }
      if (req.diffusion) ranked = this.diffuse(q, ranked);
    }
    if (parsed.negatives.length > 0 && clip && kind === 'clip') {
      const negs = await Promise.all(parsed.negatives.map((n) => this.embedText(clip, n)));
      const vectors = this.globalVectors(clip.space, ranked.map((c) => c.item));
      const penalized = penalizeNegatives(ranked, vectors, negs);
      ranked = ranked.map((c, i) => ({ ...c, score: penalized[i]!.score }));
    }

    // File and folder names: quoted phrases, and the whole sentence.
    const named = new Set<number>();
    for (const phrase of new Set([...parsed.phrases, parsed.text].filter((p) => p.length >= 3))) {
      for (const id of this.nameMatches(phrase, req.filters)) named.add(id);
    }

    const sort = req.sort ?? 'relevance';
    if (sort === 'relevance') {
      // Only the page's photos are read; the total is counted in SQL.
      const order = stableOrder(ranked.map((c) => ({ ...c, id: c.item })));
      const out: SearchHit[] = this.namedHits(named, exclude, order, req);
      const namedCount = out.length;
      const step = Math.max(offset + limit - namedCount, 50);
      for (let i = 0; i < order.length && out.length < offset + limit; i += step) out.push(...this.toHits(order.slice(i, i + step), named, req));
      const items = new Set(ranked.map((c) => c.item));
      const namedInRanked = this.contentsOfPhotos([...named]).filter((c) => items.has(c)).length;
      const total = namedCount + this.countPhotos([...items], req) - namedInRanked;
      return { hits: page(out, offset, limit), total, offset, space: s.space, tookMs: performance.now() - started, notes };
    }
    const hits = [...this.namedHits(named, exclude, ranked, req), ...this.toHits(ranked, named, req)];
    const sorted = sortHits(hits.map((h) => ({ ...h, id: h.photo.id })), sort).map(({ id: _, ...h }) => h);
    return { hits: page(sorted, offset, limit), total: sorted.length, offset, space: s.space, tookMs: performance.now() - started, notes };
  }

  /** Changes whenever this connection or another one has written to the database. */
  private dbVersion(): string {
    const t = (this.ctx.db.prepare('SELECT total_changes() AS t').get() as { t: number }).t;
    return `${t}:${String(this.ctx.db.pragma('data_version', { simple: true }))}`;
  }

  /** Content ids of the photos passing the filters, remembered until the database changes. */
  private eligible(filters: SearchRequest['filters']): ReadonlySet<number> {
    const key = JSON.stringify(filters);
    const version = this.dbVersion();
    const hit = this.eligibleCache.get(key);
    if (hit?.version === version) return hit.items;
    const items = new Set(eligiblePhotos(this.ctx.db, filters).map((e) => e.contentId));
    this.eligibleCache.delete(key);
    if (this.eligibleCache.size >= 8) this.eligibleCache.delete(this.eligibleCache.keys().next().value!);
    this.eligibleCache.set(key, { version, items });
    return items;
  }

  private nameMatches(phrase: string, filters: SearchRequest['filters']): number[] {
    const term = phrase.trim().toLowerCase();
    if (term.length < 3) return [];
    const version = this.dbVersion();
    if (this.names?.version !== version) this.names = { version, rows: relativeNames(this.ctx.db) };
    // A phrase in more names than a page of candidates is not a name (".jpg", "img"): it would bury the ranking.
    const ids = this.names.rows.filter((r) => r.name.includes(term)).map((r) => r.id);
    if (ids.length > POOL) return [];
    return hasFilters(filters) ? passing(this.ctx.db, ids, filters) : ids;
  }

  /** The content id of each photo (one per photo that has one). */
  private contentsOfPhotos(photoIds: readonly number[]): number[] {
    return (this.ctx.db.prepare('SELECT c.id FROM json_each(?) j CROSS JOIN photos p ON p.id = j.value JOIN contents c ON c.hash = p.hash')
      .all(JSON.stringify(photoIds)) as { id: number }[]).map((r) => r.id);
  }

  private countPhotos(items: readonly number[], req: SearchRequest): number {
    const { where, params } = filterSql(req.filters);
    return (this.ctx.db.prepare(`SELECT count(*) AS n FROM json_each(?) j CROSS JOIN contents c ON c.id = j.value CROSS JOIN photos p ON p.hash = c.hash WHERE ${where}`)
      .get(JSON.stringify(items), ...params) as { n: number }).n;
  }

  /** Photos matched by name, first: 1 + their picture's score when the ranking has it. */
  private namedHits(named: ReadonlySet<number>, exclude: number | null, ranked: readonly Candidate[], req: SearchRequest): SearchHit[] {
    if (named.size === 0) return [];
    const rows = this.ctx.db.prepare('SELECT p.*, c.id AS content_id FROM json_each(?) j CROSS JOIN photos p ON p.id = j.value JOIN contents c ON c.hash = p.hash')
      .all(JSON.stringify([...named])) as (PhotoRow & { content_id: number })[];
    const byItem = new Map(ranked.map((c) => [c.item, c]));
    const kept = rows.filter((p) => p.content_id !== exclude);
    const boxes = this.boxes(kept.map((p) => byItem.get(p.content_id)));
    const hits = kept.map((p) => {
      const c = byItem.get(p.content_id);
      return { id: p.id, photo: toRecord(p), score: 1 + (c?.score ?? 0), box: c ? shownBox(c, boxes) : null, matchedName: true };
    });
    return sortHits(hits, req.sort ?? 'relevance').map(({ id: _, ...h }) => h);
  }

  /** Re-ranks the top candidates by diffusion on their neighbour graph; the rest keep their order below. */
  private diffuse(q: Float32Array, ranked: Candidate[]): Candidate[] {
    const head = ranked.slice(0, 100);
    const vecs = this.vectorsById(head.map((c) => c.vectorId).filter((x): x is number => x !== null));
    const usable = head.filter((c) => c.vectorId !== null && vecs.has(c.vectorId));
    if (usable.length < 3) return ranked;
    const f = diffusionScores(q, usable.map((c) => vecs.get(c.vectorId!)!.vector));
    const max = Math.max(...f, 1e-12);
    const rescored = usable.map((c, i) => ({ ...c, score: f[i]! / max })).sort((a, b) => b.score - a.score || a.item - b.item);
    const used = new Set(usable.map((c) => c.item));
    const floor = Math.min(...rescored.map((c) => c.score));
    return [...rescored, ...ranked.filter((c) => !used.has(c.item)).map((c) => ({ ...c, score: Math.min(c.score, floor - 1e-6) }))];
  }

  private photosOf(items: readonly number[], req: SearchRequest): Map<number, PhotoRow[]> {
    const { where, params } = filterSql(req.filters);
    const rows = this.ctx.db.prepare(
      // CROSS JOIN fixes the join order (SQLite's rule): from the wanted ids out, never a scan of photos.
      `SELECT p.*, c.id AS content_id FROM json_each(?) j CROSS JOIN contents c ON c.id = j.value CROSS JOIN photos p ON p.hash = c.hash
       WHERE ${where} ORDER BY p.id`,
    ).all(JSON.stringify(items), ...params) as (PhotoRow & { content_id: number })[];
    const out = new Map<number, PhotoRow[]>();
    for (const r of rows) out.set(r.content_id, [...(out.get(r.content_id) ?? []), r]);
    return out;
  }

  /** Candidates (in order) as photo hits; name-matched photos are left to namedHits. */
  private toHits(ranked: readonly Candidate[], named: ReadonlySet<number>, req: SearchRequest): SearchHit[] {
    const photos = this.photosOf(ranked.map((c) => c.item), req);
    const boxes = this.boxes(ranked);
    const out: SearchHit[] = [];
    for (const c of ranked) {
      const box = shownBox(c, boxes);
      for (const p of photos.get(c.item) ?? []) {
        if (!named.has(p.id)) out.push({ photo: toRecord(p), score: c.score, box, matchedName: false });
      }
    }
    return out;
  }

  /** No query: the filtered library by date (newest first unless asked otherwise). */
  private browse(req: SearchRequest, started: number, notes: string[], negativesOnly: boolean): SearchResponse {
    if (negativesOnly) notes.push('negative terms need something to search for');
    const { where, params } = filterSql(req.filters);
    const offset = req.offset ?? 0;
    const limit = req.limit ?? 100;
    const order = BROWSE_ORDER[req.sort === 'oldest' ? 'oldest' : 'newest'];
    const total = (this.ctx.db.prepare(`SELECT count(*) AS n FROM photos p WHERE ${where}`).get(...params) as { n: number }).n;
    const rows = this.ctx.db.prepare(`SELECT p.* FROM photos p WHERE ${where} ORDER BY ${order} LIMIT ? OFFSET ?`).all(...params, limit, offset) as PhotoRow[];
    return {
      hits: rows.map((p) => ({ photo: toRecord(p), score: 0, box: null, matchedName: false })),
      total, offset, space: null, tookMs: performance.now() - started, notes,
    };
  }

  /**
   * Groups of near-identical photos (copies, near-duplicates, bursts), for clean-up: each
   * picture's nearest neighbours in the CLIP space joined when nearDuplicate() says so.
   */
  async duplicates(opts: { threshold?: number; burstThreshold?: number; burstMs?: number; filters?: SearchRequest['filters'] } = {}): Promise<DuplicateGroup[]> {
    const s = this.requireSpace('clip', 'Finding near-duplicates');
    const index = await this.index(s);
    const eligible = eligiblePhotos(this.ctx.db, opts.filters);
    const allowed = new Set(eligible.map((e) => e.contentId));
    const meta = new Map<number, { takenAtMs: number | null; camera: string | null }>();
    for (const r of this.ctx.db.prepare(`SELECT c.id, p.taken_at_ms, p.camera_make, p.camera_model FROM photos p JOIN contents c ON c.hash = p.hash WHERE p.state = 'ok' ORDER BY p.id`).iterate() as Iterable<{ id: number; taken_at_ms: number | null; camera_make: string | null; camera_model: string | null }>) {
      if (!meta.has(r.id)) meta.set(r.id, { takenAtMs: r.taken_at_ms, camera: r.camera_make || r.camera_model ? `${r.camera_make ?? ''} ${r.camera_model ?? ''}` : null });
    }
    const edges: Edge[] = [];
    const sims = new Map<string, number>();
    for (const r of this.ctx.db.prepare('SELECT content_id AS item, data FROM vectors WHERE space = ? AND region = 0').iterate(s.space) as Iterable<{ item: number; data: Buffer }>) {
      if (!allowed.has(r.item)) continue;
      for (const h of index.search(float32s(r.data), { k: 8, filter: (i) => i !== r.item && allowed.has(i) })) {
        if (h.item < r.item) continue;
        if (nearDuplicate(h.score, meta.get(r.item)!, meta.get(h.item)!, { duplicate: opts.threshold, burst: opts.burstThreshold, burstMs: opts.burstMs })) {
          edges.push({ a: r.item, b: h.item });
          sims.set(`${r.item}:${h.item}`, h.score);
        }
      }
    }
    // Copies of one picture (same content) are duplicates by definition.
    const byContent = new Map<number, PhotoRow[]>();
    for (const e of eligible) byContent.set(e.contentId, []);
    const rows = this.ctx.db.prepare(`SELECT p.*, c.id AS content_id FROM photos p JOIN contents c ON c.hash = p.hash WHERE ${filterSql(opts.filters).where} ORDER BY p.id`)
      .all(...filterSql(opts.filters).params) as (PhotoRow & { content_id: number })[];
    for (const r of rows) byContent.get(r.content_id)?.push(r);
    const grouped = groups(edges);
    const inGroup = new Set(grouped.flat());
    for (const [item, ps] of byContent) if (ps.length > 1 && !inGroup.has(item)) grouped.push([item]);
    return grouped.map((g) => {
      const photos: PhotoRecord[] = g.flatMap((item) => (byContent.get(item) ?? []).map(toRecord));
      let min = 1;
      for (let i = 0; i < g.length; i++) for (let j = i + 1; j < g.length; j++) {
        const a = Math.min(g[i]!, g[j]!);
        const b = Math.max(g[i]!, g[j]!);
        const sim = sims.get(`${a}:${b}`);
        if (sim !== undefined) min = Math.min(min, sim);
      }
      return { photos, similarity: min };
    }).filter((g) => g.photos.length > 1).sort((a, b) => b.photos.length - a.photos.length || a.photos[0]!.id - b.photos[0]!.id);
  }

  /** Class embeddings of a taxonomy in the serving CLIP space (computed once), and every picture's most likely class. */
  async prepareTaxonomy(taxonomy: string, onProgress?: (done: number, total: number) => void): Promise<{ space: SpaceInfo; classes: Float32Array[] }> {
    const s = this.requireSpace('clip', 'Categories');
    const t = loadTaxonomy(taxonomy);
    const enc = await this.ctx.encoders.clip(s.pack);
    const classes = await classEmbeddings(this.ctx.db, enc, s.space, t, onProgress);
    assignClasses(this.ctx.db, s.space, t.name, classes);
    return { space: s, classes };
  }

  clipSpace(why: string): SpaceInfo {
    return this.requireSpace('clip', why);
  }
}

function boxOf(r: { box_x: number | null; box_y: number | null; box_w: number | null; box_h: number | null }): Box | null {
  return r.box_x === null || r.box_y === null || r.box_w === null || r.box_h === null ? null : { x: r.box_x, y: r.box_y, w: r.box_w, h: r.box_h };
}

/** A hit's matched region, unless it is the whole picture. */
function shownBox(c: Candidate, boxes: Map<number, { box: Box | null }> | null): Box | null {
  const box = c.vectorId !== null ? boxes?.get(c.vectorId)?.box ?? null : null;
  return box && !(box.x === 0 && box.y === 0 && box.w === 1 && box.h === 1) ? box : null;
}

function sortHits<T extends SearchHit & { id: number }>(hits: T[], sort: NonNullable<SearchRequest['sort']>): T[] {
  if (sort === 'relevance') return hits.sort((a, b) => b.score - a.score || a.id - b.id);
  const dir = sort === 'newest' ? -1 : 1;
  return hits.sort((a, b) => {
    const ta = a.photo.takenAtMs;
    const tb = b.photo.takenAtMs;
    if (ta === null || tb === null) return (ta === null ? 1 : 0) - (tb === null ? 1 : 0) || a.id - b.id;
    return dir * (ta - tb) || a.id - b.id;
  });
}
