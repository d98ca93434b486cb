/**
 * The one space registry. An embedding space is where one model's vectors live: `<kind>.<pack>`
 * for a pack's raw vectors, `<kind>.<pack>.w<version>` for a PCA-whitened space derived from it.
 * Per kind the library records the active pack (what embedding computes) and the serving space
 * (what search reads: the last space that covered the library, kept while a newly chosen pack
 * catches up). Promoting, dropping and the whitened spaces derived from a raw one are here alone.
 */
import type { ModelKind } from '../contract/api.js';
import type { Repos } from '../db/repos/index.js';
import type { IndexSet } from '../index/spaces.js';
import { applyWhitening } from './pca-whitening.js';

export interface SpaceId {
  readonly kind: ModelKind;
  readonly pack: string;
  /** The whitening version of a whitened space; null for a pack's raw space. */
  readonly whitening: number | null;
}

const WHITENED = /\.w(\d+)$/;

export function formatSpace(id: SpaceId): string {
  return `${id.kind}.${id.pack}${id.whitening === null ? '' : `.w${id.whitening}`}`;
}

/** Reads a space name; null for one that is not a space of a known kind. */
export function parseSpace(space: string): SpaceId | null {
  const dot = space.indexOf('.');
  const kind = space.slice(0, dot);
  if (dot < 0 || (kind !== 'clip' && kind !== 'cnn')) return null;
  const w = WHITENED.exec(space);
  const pack = space.slice(dot + 1, w ? w.index : undefined);
  return pack === '' ? null : { kind, pack, whitening: w ? Number(w[1]) : null };
}

/** A pack's raw space. */
export const rawSpace = (kind: ModelKind, pack: string): string => formatSpace({ kind, pack, whitening: null });

/** The raw space a space belongs to (itself when raw). */
export function rawOf(space: string): string {
  const id = parseSpace(space);
  return id ? rawSpace(id.kind, id.pack) : space;
}

/** What search needs to know of a serving space. */
export interface SpaceInfo {
  readonly space: string;
  readonly kind: ModelKind;
  readonly pack: string;
  readonly dim: number;
  /** Set when the space is a whitened one: on-the-fly descriptors are whitened the same way. */
  readonly whiten: ((v: Float32Array) => Float32Array) | null;
  /** The mean raw descriptor the whitening centres by (a whitened space), else null. */
  readonly centre: Float32Array | null;
}

const activeKey = (kind: ModelKind): string => `model.${kind}`;
const servingKey = (kind: ModelKind): string => `serving.${kind}`;

export class SpaceRegistry {
  constructor(private readonly repos: Repos, private readonly indexes: IndexSet) {}

  /** The pack embedding computes vectors with, per kind. */
  active(kind: ModelKind): string | null {
    return this.repos.settings.get(activeKey(kind));
  }

  setActive(kind: ModelKind, pack: string | null): void {
    this.repos.settings.set(activeKey(kind), pack);
  }

  /**
   * The space search uses for a kind: the last one that covered the library (kept while a newly
   * chosen pack catches up), else the active one as far as it has got.
   */
  serving(kind: ModelKind): string | null {
    const active = this.active(kind);
    return this.repos.settings.get(servingKey(kind)) ?? (active ? rawSpace(kind, active) : null);
  }

  setServing(kind: ModelKind, space: string | null): void {
    this.repos.settings.set(servingKey(kind), space);
  }

  /** Whether search serves this pack's vectors (raw or whitened). */
  isServing(kind: ModelKind, pack: string): boolean {
    const serving = this.serving(kind);
    return serving !== null && rawOf(serving) === rawSpace(kind, pack);
  }

  /** The serving space of a kind with its dimension and whitening, or null when nothing is embedded in it yet. */
  info(kind: ModelKind): SpaceInfo | null {
    const space = this.serving(kind);
    if (!space) return null;
    const dim = this.repos.vectors.dimOf(space);
    if (dim === null) return null;
    const raw = this.repos.whitenings.rawOf(space);
    const w = raw ? this.repos.whitenings.current(raw) : null;
    const whitening = w && w.space === space ? w.whitening : null;
    return {
      space, kind, dim, pack: parseSpace(space)!.pack,
      whiten: whitening ? (v: Float32Array): Float32Array => applyWhitening(whitening, v) : null,
      centre: whitening?.mean ?? null,
    };
  }

  /** The active space covers the library: serve it, and drop the spaces of earlier packs of this kind. */
  async promote(kind: ModelKind, space: string): Promise<void> {
    // Earlier packs' spaces, and the whitened spaces derived from them (not this space's own).
    const derived = new Set(this.repos.whitenings.derivedFrom(space));
    // A whitened space of this one, once serving, keeps serving (the whitener decides when it changes).
    const serving = this.repos.settings.get(servingKey(kind));
    if (serving !== space && !(serving !== null && derived.has(serving))) this.setServing(kind, space);
    const old = this.repos.vectors.spaces().filter((s) => parseSpace(s)?.kind === kind && s !== space && !derived.has(s));
    for (const s of old) await this.drop(s);
  }

  /** A whitened space is complete: search uses it, and the earlier whitenings of its raw space go. */
  async serveWhitened(kind: ModelKind, space: string): Promise<void> {
    this.setServing(kind, space);
    for (const s of this.repos.whitenings.derivedFrom(rawOf(space))) if (s !== space) await this.drop(s);
  }

  /** Deletes a space's vectors, failures and whitenings (learned from it or producing it), with the derived spaces, and their indexes. */
  async drop(space: string): Promise<void> {
    for (const s of [space, ...this.repos.whitenings.derivedFrom(space)]) {
      this.repos.transaction(() => {
        this.repos.vectors.deleteSpace(s);
        this.repos.whitenings.deleteFor(s);
      });
      await this.indexes.drop(s);
    }
  }

  /** Forgets a pack: its spaces go, and search stops serving them. */
  async dropPack(kind: ModelKind, pack: string): Promise<void> {
    const wasServing = this.isServing(kind, pack) && this.repos.settings.get(servingKey(kind)) !== null;
    await this.drop(rawSpace(kind, pack));
    if (wasServing) this.setServing(kind, null);
  }
}
