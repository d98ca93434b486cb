/**
 * The face stage: every indexed picture is looked at once per face pack (by content hash, so a
 * moved or copied photo is never looked at again): faces are found on its 1024-px thumbnail, over
 * the whole picture and its tiles (encoders/faces.ts), embedded upright, stored with their boxes
 * and landmarks, and grouped into people as they come (cluster.ts). Resumable: what was looked at
 * is recorded with the faces, in one transaction per picture, so a stopped run carries on.
 */
import type { Box, FacesSummary } from '../contract/api.js';
import type { Repos } from '../db/repos/index.js';
import type { NewFace } from '../db/repos/faces.js';
import type { FaceDetector, FaceEmbedder, FoundFace } from '../encoders/faces.js';
import { confirmedFaces, rgbPicture } from '../encoders/faces.js';
import { iou, type PixelBox } from '../encoders/face-geometry.js';
import type { ThumbnailStore } from '../ingest/thumbnails.js';
import { errorMessage } from '../util/errors.js';
import { centres, closestPerson, joined, MIN_QUALITY, type Grouping, type PersonCentre } from './cluster.js';

export interface FaceModels {
  /** The face pack's name: faces are kept per pack. */
  readonly name: string;
  readonly detector: FaceDetector;
  readonly embedder: FaceEmbedder;
  /** A second detector that must confirm each face (where the pack has one). */
  readonly verifier?: FaceDetector | null;
  /** The pack's own thresholds for its space, where it names them. */
  readonly grouping?: Grouping;
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

/** A face just stored: its id, box, quality and vector. */
type StoredFace = { readonly id: number; readonly box: Box; readonly quality: number; readonly vector: Float32Array };

/** A picture whose thumbnail is not there (yet): indexing makes it again, and the next pass looks. */
class NotReady extends Error {}

/** Finds the faces of one picture and stores them; returns their ids and vectors. */
async function scanPicture(ctx: FaceStageContext, m: FaceModels, hash: string): Promise<StoredFace[]> {
  if (!ctx.thumbs.hasFile(hash, 1024)) throw new NotReady();
  const p = await rgbPicture(ctx.thumbs.pathFor(hash, 1024));
  const found = await confirmedFaces(p, m.detector, m.verifier ?? null);
  const vectors = await m.embedder.embed(found.map((f) => m.embedder.crop(p, f)));
  const faces = found.map((f, i) => toNew(f, vectors[i]!, p.width, p.height));
  const ids = ctx.repos.faces.put(m.name, hash, faces, Date.now());
  return ids.map((id, i) => ({ id, box: faces[i]!.box, quality: faces[i]!.quality, vector: faces[i]!.vector }));
}

/** How much a region someone named in another app must overlap a found face to name it. */
const REGION_IOU = 0.3;

/** Intersection over union of two boxes given as fractions (the geometry's own iou, on corners). */
const corners = (b: Box): PixelBox => ({ x1: b.x, y1: b.y, x2: b.x + b.w, y2: b.y + b.h });
const boxIou = (a: Box, b: Box): number => iou(corners(a), corners(b));

/**
 * The names someone already gave faces in another app (face regions in the photo's XMP, as
 * Lightroom, digiKam or Picasa write): the found face each region covers, and its name.
 */
function regionNames(ctx: FaceStageContext, hash: string, faces: readonly StoredFace[]): Map<number, string> {
  const named = new Map<number, string>();
  const regions = ctx.repos.faces.namedRegions(hash);
  if (regions.length === 0) return named;
  for (const r of regions) {
    const best = faces.map((f) => ({ f, iou: boxIou(f.box, r.box) })).filter((x) => !named.has(x.f.id))
      .sort((a, b) => b.iou - a.iou)[0];
    if (best && best.iou >= REGION_IOU) named.set(best.f.id, r.name);
  }
  return named;
}

/**
 * The person a face named in another app is: the one with that name; else the unnamed person the
 * face clearly is, who takes the name; else someone new of that name. A face of someone unnamed
 * who also has a named double joins them, the unnamed one merged in (the name is the user's word).
 */
function namedPerson(
  ctx: FaceStageContext, people: Map<number, PersonCentre>, face: StoredFace, name: string, grouping?: Grouping,
): number {
  const repo = ctx.repos.faces;
  const now = Date.now();
  const match = closestPerson(face.vector, people.values(), () => false, grouping);
  const unnamedMatch = match && repo.person(match.id)?.name === null ? match.id : null;
  const existing = repo.byName(name);
  if (existing === null) {
    if (unnamedMatch !== null) {
      repo.setName(unnamedMatch, name, now);
      return unnamedMatch;
    }
    return repo.createPerson(now, name);
  }
  if (unnamedMatch !== null && unnamedMatch !== existing) {
    repo.moveAll(unnamedMatch, existing);
    const a = people.get(unnamedMatch)!;
    const b = people.get(existing);
    people.delete(unnamedMatch);
    people.set(existing, b ? { id: existing, sum: b.sum.map((x, i) => x + a.sum[i]!), count: a.count + b.count } : { ...a, id: existing });
  }
  return existing;
}

/**
 * Who each face already is by another face pack's word (the same face, found on the same picture
 * by the pack used before): a newly active pack carries names and corrections over.
 */
type Earlier = { readonly personId: number; readonly by: 'user' | 'cluster' };

function inherited(ctx: FaceStageContext, model: string, hash: string, faces: readonly StoredFace[]): Map<number, Earlier> {
  const out = new Map<number, Earlier>();
  const before = ctx.repos.faces.othersOnPicture(hash, model);
  if (before.length === 0) return out;
  for (const f of faces) {
    const best = before.map((b) => ({ b, iou: boxIou(b.box, f.box) })).sort((x, y) => y.iou - x.iou)[0];
    if (best && best.iou >= 0.5) out.set(f.id, { personId: best.b.personId, by: best.b.assignedBy === 'user' ? 'user' : 'cluster' });
  }
  return out;
}

/**
 * Groups new faces: those named in another app go to that person; each other joins the person it
 * clearly is, or starts one; poor faces stay no one.
 */
function group(
  ctx: FaceStageContext, model: string, people: Map<number, PersonCentre>, hash: string, faces: readonly StoredFace[], grouping?: Grouping,
): number {
  let started = 0;
  const { faces: repo } = ctx.repos;
  ctx.repos.transaction(() => {
    const names = regionNames(ctx, hash, faces);
    const earlier = inherited(ctx, model, hash, faces);
    for (const f of faces) {
      const name = names.get(f.id);
      const was = earlier.get(f.id);
      if (name === undefined && !was && f.quality < MIN_QUALITY) continue;
      const match = name === undefined && !was ? closestPerson(f.vector, people.values(), () => false, grouping) : null;
      const id = name !== undefined ? namedPerson(ctx, people, f, name, grouping)
        : was?.personId ?? match?.id ?? repo.createPerson(Date.now());
      if (name === undefined && !was && !match) started++;
      repo.assign(f.id, id, name !== undefined ? 'user' : was?.by ?? 'cluster');
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
        newPeople += group(ctx, m.name, people, hash, faces, m.grouping);
      } catch (err) {
        // Not looked at: left for the next pass, which finds the thumbnail remade.
        if (err instanceof NotReady) continue;
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
