/**
 * Query vectors: a sentence (prompt-ensembled when short), an example photo (stored for library
 * photos, computed and never stored for others), or a box drawn on a photo (the crop through the CNN).
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import sharp from 'sharp';
import type { Box, SearchRequest } from '../contract/api.js';
import type { SpaceInfo } from '../embed/spaces.js';
import { errorMessage } from '../util/errors.js';
import { SearchError, type SearchContext } from './context.js';
import { fillTemplate, wantsPrompts } from './query.js';
import { weightedMean } from './rank.js';

/**
 * Templates for short queries: the first four of the seven CLIP's authors selected for ImageNet,
 * led by the plain caption. Four, not seven or eighty: each costs a text-model run per query.
 */
export const QUERY_TEMPLATES: readonly string[] = ['a photo of a {}.', 'itap of a {}.', 'a bad photo of the {}.', 'a photo of the large {}.'];

export interface QueryVector {
  readonly vector: Float32Array;
  /** The picture the query came from, left out of its own results. */
  readonly exclude: number | null;
  /** A region's unwhitened descriptor and its box's width/height in pixels, which localisation compares windows with. */
  readonly region?: { readonly raw: Float32Array; readonly aspect: number };
}

/** Smallest side a region is read at: a few feature cells (stride 32) for the CNN to pool. */
const MIN_REGION_SIDE = 96;

/** Example pictures from outside the library whose descriptors are kept (paging a result asks again). */
const PICTURE_CACHE = 64;

export class QueryVectors {
  private readonly textCache = new Map<string, Float32Array>();
  /** Descriptors of pictures from outside the library, before any whitening, by pack and content. */
  private readonly pictureCache = new Map<string, Float32Array>();

  constructor(private readonly ctx: SearchContext) {}

  /** A sentence's embedding (prompt-ensembled when short), cached per space. */
  async text(s: SpaceInfo, text: string): Promise<Float32Array> {
    const enc = await this.ctx.encoders.clip(s.pack);
    // As the tower reads it: an NLLB tower's language code is part of the sentence.
    const key = `${s.space}\0${enc.prepareText(text)}`;
    const hit = this.textCache.get(key);
    if (hit) return hit;
    // English templates around a sentence in another language would only blur it: multilingual towers read it as it is.
    const texts = wantsPrompts(text) && !enc.manifest.multilingual ? QUERY_TEMPLATES.map((t) => fillTemplate(t, text)) : [text];
    const v = weightedMean(await enc.embedTexts(texts));
    if (this.textCache.size >= 512) this.textCache.delete(this.textCache.keys().next().value!);
    this.textCache.set(key, v);
    return v;
  }

  private contentOf(photoId: number): { contentId: number; hash: string; path: string } {
    const c = this.ctx.repos.photos.contentOf(photoId);
    if (!c) throw new SearchError(`photo ${photoId} is not in the library or not indexed yet`);
    return c;
  }

  /** The example photo's vector in a space. */
  async photo(s: SpaceInfo, photo: NonNullable<SearchRequest['photo']>): Promise<QueryVector> {
    if ('id' in photo) {
      const c = this.contentOf(photo.id);
      const stored = this.ctx.repos.vectors.global(s.space, c.contentId);
      if (stored) return { vector: stored, exclude: c.contentId };
      return { vector: await this.picture(s, this.picturePath(c.hash, c.path)), exclude: c.contentId };
    }
    const input = 'path' in photo ? photo.path : Buffer.from(photo.bytes, 'base64');
    try {
      return { vector: await this.picture(s, input, pictureKey(input)), exclude: null };
    } catch (err) {
      throw new SearchError(`could not read the example photo: ${errorMessage(err)}`);
    }
  }

  /** The descriptor of a box drawn on a library photo (the crop run through the CNN). */
  async region(s: SpaceInfo, photoId: number, box: Box): Promise<QueryVector> {
    const c = this.contentOf(photoId);
    const src = this.picturePath(c.hash, c.path);
    // Decoded once to raw pixels (upright), cut, and handed on losslessly without compression:
    // re-encoding the whole photo cost more than the cut.
    const { data, info } = await sharp(src, { failOn: 'error' }).autoOrient().raw().toBuffer({ resolveWithObject: true });
    const left = Math.max(0, Math.min(info.width - 1, Math.floor(box.x * info.width)));
    const top = Math.max(0, Math.min(info.height - 1, Math.floor(box.y * info.height)));
    const width = Math.max(1, Math.min(info.width - left, Math.round(box.w * info.width)));
    const height = Math.max(1, Math.min(info.height - top, Math.round(box.h * info.height)));
    const enc = await this.ctx.encoders.cnn(s.pack);
    // At the scale the photo itself was read at (fitted to maxSide), not blown up to fill it: the
    // object then spans as many feature cells as it does in the photos it is to be found in.
    const scale = Math.min(1, enc.manifest.maxSide / Math.max(info.width, info.height));
    const side = (v: number): number => Math.max(MIN_REGION_SIDE, Math.round(v * scale));
    const crop = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
      .extract({ left, top, width, height }).resize(side(width), side(height), { fit: 'fill' }).png({ compressionLevel: 0 }).toBuffer();
    const raw = (await enc.describe(await enc.pixels(crop, { enlarge: false }))).global;
    return { vector: s.whiten ? s.whiten(raw) : raw, exclude: c.contentId, region: { raw, aspect: width / height } };
  }

  /** The 1024-px thumbnail (enough pixels for a region's crop), else the original. */
  private picturePath(hash: string, path: string): string {
    return this.ctx.thumbs.encoderInput(hash, path, Infinity);
  }

  /** The picture's vector in the space; `key` (what the picture is) keeps it for the next ask. */
  private async picture(s: SpaceInfo, input: string | Buffer, key: string | null = null): Promise<Float32Array> {
    const cacheKey = key === null ? null : `${s.kind}\0${s.pack}\0${key}`;
    let raw = cacheKey === null ? undefined : this.pictureCache.get(cacheKey);
    if (!raw) {
      raw = await this.embedPicture(s, input);
      if (cacheKey !== null) {
        if (this.pictureCache.size >= PICTURE_CACHE) this.pictureCache.delete(this.pictureCache.keys().next().value!);
        this.pictureCache.set(cacheKey, raw);
      }
    }
    return s.kind === 'cnn' && s.whiten ? s.whiten(raw) : raw;
  }

  /** The pack's own vector of the picture: CLIP's embedding, or the CNN's global descriptor (unwhitened). */
  private async embedPicture(s: SpaceInfo, input: string | Buffer): Promise<Float32Array> {
    if (s.kind === 'clip') {
      const enc = await this.ctx.encoders.clip(s.pack);
      return (await enc.embedImages([input]))[0]!;
    }
    const enc = await this.ctx.encoders.cnn(s.pack);
    return (await enc.describe(input)).global;
  }
}

/** What an example picture is: its bytes' hash, or its path with size and time (a changed file is read again); null if unreadable. */
function pictureKey(input: string | Buffer): string | null {
  if (Buffer.isBuffer(input)) return `bytes:${createHash('sha1').update(input).digest('hex')}`;
  try {
    const st = statSync(input);
    return `path:${input}:${st.size}:${st.mtimeMs}`;
  } catch {
    return null;
  }
}
