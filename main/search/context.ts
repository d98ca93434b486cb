/** What every part of search reads: the library's repositories, the indexes, the encoders and the spaces. */
import type { ModelKind } from '../contract/api.js';
import { UserError } from '../contract/errors.js';
import type { Repos } from '../db/repos/index.js';
import type { SpaceInfo, SpaceRegistry } from '../embed/spaces.js';
import type { EncoderCache } from '../encoders/cache.js';
import type { IndexSet } from '../index/spaces.js';
import type { ThumbnailStore } from '../ingest/thumbnails.js';

export interface SearchContext {
  readonly repos: Repos;
  readonly indexes: IndexSet;
  readonly encoders: EncoderCache;
  readonly thumbs: ThumbnailStore;
  readonly spaces: SpaceRegistry;
}

/** The user's to act on (see contract/errors.ts). */
export class SearchError extends UserError {}

/** The serving space of a kind, or an error that says what to install and run. */
export function requireSpace(ctx: SearchContext, kind: ModelKind, why: string): SpaceInfo {
  const s = ctx.spaces.info(kind);
  if (s) return s;
  throw new SearchError(kind === 'clip'
    ? `${why} needs a CLIP model pack and embedded photos: install one (in the app's Settings, or \`loupe models install clip-vit-b32-q8\`)`
    : `${why} needs a CNN model pack (object and place descriptors): install one (in the app's Settings, or \`loupe models install resnet50\`)`);
}
