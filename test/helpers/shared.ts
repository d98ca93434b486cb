/**
 * The real photos and weights beside the repository (../shared: see its README). Tests use them
 * where they are; where a checkout has none, the tests whose logic does not depend on what the
 * pictures show use generated pictures instead (LOUPE_TEST_NO_SHARED=1 forces that, to test it).
 */
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { imageBuffer } from './fixtures.js';

export const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));
export const SHARED_PHOTOS = join(SHARED, 'data', 'photos');
export const SHARED_MODELS = join(SHARED, 'models');
export const HAVE_SHARED_PHOTOS = !process.env['LOUPE_TEST_NO_SHARED'] && existsSync(SHARED_PHOTOS);

/** A real photo (a path under data/photos) resized to cover width×height, as PNG; without ../shared, a seeded generated picture of that size. */
export async function realOrGenerated(photo: string, seed: number, width: number, height: number): Promise<Buffer> {
  if (HAVE_SHARED_PHOTOS) return sharp(join(SHARED_PHOTOS, photo)).resize(width, height, { fit: 'cover' }).png().toBuffer();
  return sharp(await imageBuffer({ width, height, seed: seed * 7 + 3 })).png().toBuffer();
}

/** The real face models a face pack is made of (../shared/models). */
export const HAVE_FACE_MODELS = ['blazeface-back', 'facemesh-detection-full', 'mobilefacenet'].every((m) => existsSync(join(SHARED_MODELS, m, 'model.onnx')));

/**
 * A face pack folder made from the real models, ready to import: detector/ BlazeFace, verifier/
 * the full-range detector (which confirms each face BlazeFace finds), embedder/ MobileFaceNet.
 */
export function facePackFromShared(dir: string, verifier = true): string {
  cpSync(join(SHARED_MODELS, 'blazeface-back'), join(dir, 'detector'), { recursive: true });
  cpSync(join(SHARED_MODELS, 'mobilefacenet'), join(dir, 'embedder'), { recursive: true });
  if (verifier) cpSync(join(SHARED_MODELS, 'facemesh-detection-full'), join(dir, 'verifier'), { recursive: true });
  return dir;
}
