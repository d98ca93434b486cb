/**
 * The results on screen: the view, and its hits fetched a page at a time as the grid needs them.
 * A newer view makes answers for an older one void (generations), so pages never mix.
 */
import type { SearchHit, SearchResponse } from '../../../main/contract/api.js';
import { api } from './client.js';
import { failures } from './errors.svelte.js';
import type { View } from './view.js';

export const PAGE = 200;

export class Results {
  view = $state<View>({ kind: 'search', request: { sort: 'newest' }, title: 'All photos' });
  hits = $state<(SearchHit | undefined)[]>([]);
  total = $state(0);
  notes = $state<string[]>([]);
  /** Photos ranked past where the sentence's relevance ends (shown when asked: "Show all"). */
  beyond = $state(0);
  tookMs = $state<number | null>(null);
  loading = $state(false);
  private generation = 0;
  private readonly pending = new Set<number>();

  private fetchPage(offset: number): Promise<SearchResponse> {
    const v = this.view;
    if (v.kind === 'album') return api.albumPhotos(v.album.id, offset, PAGE);
    if (v.kind === 'suggestions') return Promise.resolve({ hits: v.hits.slice(offset, offset + PAGE), total: v.hits.length, offset, space: null, tookMs: 0, notes: [] });
    if (v.kind === 'people' || v.kind === 'places' || v.kind === 'map') return Promise.resolve({ hits: [], total: 0, offset, space: null, tookMs: 0, notes: [] });
    if (v.kind === 'person') return api.search({ filters: { people: [v.person.id] }, sort: 'newest', offset, limit: PAGE });
    return api.search({ ...v.request, offset, limit: PAGE });
  }

  /** Loads the page holding `offset` (once, however often the grid asks). */
  async load(offset: number): Promise<void> {
    const start = Math.floor(offset / PAGE) * PAGE;
    if (this.pending.has(start)) return;
    this.pending.add(start);
    const gen = this.generation;
    try {
      const r = await this.fetchPage(start);
      if (gen !== this.generation) return;
      const next = this.hits.slice();
      r.hits.forEach((h, i) => (next[start + i] = h));
      this.hits = next;
      this.total = r.total;
      if (start === 0) {
        this.notes = [...r.notes];
        this.beyond = r.beyond ?? 0;
        this.tookMs = r.tookMs;
      }
    } catch (err) {
      if (gen === this.generation) failures.fail(err);
    } finally {
      this.pending.delete(start);
    }
  }

  /** Shows a view from its first page. */
  async show(v: View): Promise<void> {
    this.view = v;
    this.generation++;
    this.pending.clear();
    this.hits = [];
    this.total = 0;
    this.notes = [];
    this.beyond = 0;
    this.tookMs = null;
    this.loading = true;
    failures.dismiss();
    await this.load(0);
    this.loading = false;
  }
}
