/**
 * The face stage: every indexed picture is looked at once per face pack (by content hash, so a
 * moved or copied photo is never looked at again): faces are found on its 1024-px thumbnail, over
 * the whole picture and its tiles (encoders/faces.ts), embedded upright, stored with their boxes
 * and landmarks, and grouped into people as they come (cluster.ts). Resumable: what was looked at
 * is recorded with the faces, in one transaction per picture, so a stopped run carries on.
 */
import type { FacesSummary } from '../contract/api.js';
import type { Repos } from '../db/repos/index.js';
import type { NewFace } from '../db/repos/faces.js';
import type { FaceDetector, FaceEmbedder, FoundFace } from '../encoders/faces.js';
import { rgbPicture } from '../encoders/faces.js';
import type { ThumbnailStore } from '../ingest/thumbnails.js';
import { errorMessage } from '../util/errors.js';
import { centres, closestPerson, joined, MIN_QUALITY, type PersonCentre } from './cluster.js';

export interface FaceModels {
  /** The face pack's name: faces are kept per pack. */
  readonly name: string;
  readonly detector: FaceDetector;
  readonly embedder: FaceEmbedder;
}

export interface FaceStageContext {
  readonly repos: Repos;
  readonly thumbs: ThumbnailStore;
}

export type FaceSummary = FacesSummary;

/** The setting naming the active face pack. */
export const FACE_PACK_SETTING = 'model.face';

export interface FaceStageOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

/** A face as stored: its box and landmarks as fractions of the picture. */
function toNew(f: FoundFace, vector: Float32Array, width: number, height: number): NewFace {
  const x = Math.max(0, f.box.x1 / width);
  const y = Math.max(0, f.box.y1 / height);
  return {
    box: { x, y, w: Math.min(1, f.box.x2 / width) - x, h: Math.min(1, f.box.y2 / height) - y },
    landmarks: f.keypoints.map(([kx, ky]) => [kx / width, ky / height] as const),
    score: f.score, quality: f.quality, vector,
  };
}

/** Finds the faces of one picture and stores them; returns their ids and vectors. */
type StoredFace = { readonly id: number; readonly quality: number; readonly vector: Float32Array };

async function scanPicture(ctx: FaceStageContext, m: FaceModels, hash: string): Promise<StoredFace[]> {
  if (!ctx.thumbs.hasFile(hash, 1024)) throw new Error('its 1024-px thumbnail is missing (indexing makes it again)');
  const p = await rgbPicture(ctx.thumbs.pathFor(hash, 1024));
  const found = await m.detector.detect(p);
  const vectors = await m.embedder.embed(found.map((f) => m.embedder.crop(p, f)));
  const faces = found.map((f, i) => toNew(f, vectors[i]!, p.width, p.height));
  const ids = ctx.repos.faces.put(m.name, hash, faces, Date.now());
  return ids.map((id, i) => ({ id, quality: faces[i]!.quality, vector: faces[i]!.vector }));
}

/** Groups new faces: each joins the person it clearly is, or starts one; poor faces stay no one. */
function group(ctx: FaceStageContext, people: Map<number, PersonCentre>, faces: readonly StoredFace[]): number {
  let started = 0;
  const { faces: repo } = ctx.repos;
  ctx.repos.transaction(() => {
    for (const f of faces) {
      if (f.quality < MIN_QUALITY) continue;
      const match = closestPerson(f.vector, people.values(), () => false);
      const id = match?.id ?? repo.createPerson(Date.now());
      if (!match) started++;
      repo.assign(f.id, id, 'cluster');
      const c = people.get(id);
      people.set(id, c ? joined(c, f.vector) : { id, sum: f.vector.slice(), count: 1 });
    }
  });
  return started;
}

/** Looks at every picture the face pack has not seen yet. */
export async function findFaces(ctx: FaceStageContext, m: FaceModels, opts: FaceStageOptions = {}): Promise<FaceSummary> {
  const started = Date.now();
  const { faces: repo } = ctx.repos;
  repo.collectOrphans();
  const total = repo.countTodo(m.name);
  const people = centres(repo.assigned(m.name));
  let pictures = 0;
  let found = 0;
  let failed = 0;
  let newPeople = 0;
  let after = '';
  for (;;) {
    const page = repo.todo(m.name, after, 64);
    if (page.length === 0) break;
    for (const { hash } of page) {
      if (opts.signal?.aborted) return { pictures, faces: found, failed, newPeople, ms: Date.now() - started };
      try {
        const faces = await scanPicture(ctx, m, hash);
        found += faces.length;
        newPeople += group(ctx, people, faces);
      } catch (err) {
        repo.recordFailure(m.name, hash, errorMessage(err), Date.now());
        failed++;
      }
      pictures++;
      opts.onProgress?.(pictures, total);
    }
    after = page[page.length - 1]!.hash;
  }
  return { pictures, faces: found, failed, newPeople, ms: Date.now() - started };
}
