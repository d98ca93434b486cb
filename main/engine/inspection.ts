/** The library's own quality checks, as the facade offers them to the evaluation harness. */
import type { ModelKind } from '../contract/api.js';
import type { SearchContext } from '../search/context.js';
import { classVectors, embedTexts, indexAgreement, photoVector, spaceSize, type IndexAgreement } from '../search/inspect.js';

export interface Inspection {
  photoVector(photoId: number, kind: ModelKind): Float32Array | null;
  embedTexts(texts: readonly string[]): Promise<Float32Array[]>;
  /** Class vectors made with the templates of the shipped taxonomy `templatesOf`. */
  classVectors(name: string, classes: readonly string[], templatesOf: string): Promise<Float32Array[]>;
  indexAgreement(kind: ModelKind, queries: readonly Float32Array[], k: number): Promise<IndexAgreement>;
  spaceSize(kind: ModelKind): { pictures: number; vectors: number };
}

export function inspection(ctx: SearchContext): Inspection {
  return {
    photoVector: (photoId, kind) => photoVector(ctx, photoId, kind),
    embedTexts: (texts) => embedTexts(ctx, texts),
    classVectors: (name, classes, templates) => classVectors(ctx, name, classes, templates),
    indexAgreement: (kind, queries, k) => indexAgreement(ctx, kind, queries, k),
    spaceSize: (kind) => spaceSize(ctx, kind),
  };
}
