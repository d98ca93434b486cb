/**
 * Generated group photos: the real faces of ../shared/data/photos (the astronaut's, the walker's
 * in darknet-person.jpg, and the cat's and the dog's, which a face detector may take for people's) pasted, with the margin around each, into a real scene at known places
 * and sizes, mirrored or not. Each picture says where each face is and whose it is, so detection,
 * grouping and `person:` searches can be checked against the truth on photos with several people.
 */
import { join } from 'node:path';
import sharp, { type OverlayOptions } from 'sharp';
import type { PixelBox } from '../../main/encoders/face-geometry.js';
import { SHARED_PHOTOS } from './shared.js';

/** Two people, and two animals whose faces BlazeFace takes for people's at the scores of small real ones. */
export type Who = 'astronaut' | 'walker' | 'cat' | 'dog';

/** Each real face: the photo, the face box marked by hand, and the patch around it that is pasted. */
const FACES: Record<Who, { photo: string; face: PixelBox; patch: { left: number; top: number; width: number; height: number } }> = {
  astronaut: { photo: 'objects/skimage-astronaut.png', face: { x1: 170, y1: 70, x2: 280, y2: 185 }, patch: { left: 126, top: 24, width: 198, height: 207 } },
  walker: { photo: 'objects/darknet-person.jpg', face: { x1: 220, y1: 110, x2: 249, y2: 134 }, patch: { left: 206, top: 96, width: 57, height: 54 } },
  cat: { photo: 'objects/skimage-chelsea.png', face: { x1: 72, y1: 71, x2: 292, y2: 218 }, patch: { left: 40, top: 30, width: 290, height: 240 } },
  dog: { photo: 'objects/darknet-dog.jpg', face: { x1: 245, y1: 253, x2: 298, y2: 293 }, patch: { left: 200, top: 200, width: 150, height: 150 } },
};

export interface Placed {
  readonly who: Who;
  /** The face's width in the group photo, in pixels. */
  readonly size: number;
  readonly flip?: boolean;
  /** Where the patch's top-left corner goes, as fractions of the free width and height. */
  readonly at: readonly [number, number];
}

export interface GroupPhoto {
  readonly png: Buffer;
  readonly width: number;
  readonly height: number;
  readonly faces: readonly { readonly who: Who; readonly box: PixelBox }[];
}

/** A scene (a path under data/photos) at width×height with `placed` faces pasted into it. */
export async function groupPhoto(scene: string, placed: readonly Placed[], width = 1024, height = 683): Promise<GroupPhoto> {
  const base = await sharp(join(SHARED_PHOTOS, scene)).resize(width, height, { fit: 'cover' }).png().toBuffer();
  const layers: OverlayOptions[] = [];
  const faces: { who: Who; box: PixelBox }[] = [];
  for (const p of placed) {
    const f = FACES[p.who];
    const k = p.size / (f.face.x2 - f.face.x1);
    const [pw, ph] = [Math.round(f.patch.width * k), Math.round(f.patch.height * k)];
    let patch = sharp(join(SHARED_PHOTOS, f.photo)).extract(f.patch).resize(pw, ph);
    if (p.flip) patch = patch.flop();
    const left = Math.round(p.at[0] * (width - pw));
    const top = Math.round(p.at[1] * (height - ph));
    layers.push({ input: await patch.png().toBuffer(), left, top });
    const fx1 = p.flip ? f.patch.width - (f.face.x2 - f.patch.left) : f.face.x1 - f.patch.left;
    faces.push({
      who: p.who,
      box: { x1: left + fx1 * k, y1: top + (f.face.y1 - f.patch.top) * k, x2: left + (fx1 + f.face.x2 - f.face.x1) * k, y2: top + (f.face.y2 - f.patch.top) * k },
    });
  }
  return { png: await sharp(base).composite(layers).png().toBuffer(), width, height, faces };
}
