/**
 * The trial run a pack passes before it is installed: its models load on the CPU and run one
 * input. The pack store (a lower room) is handed this, so it never imports the encoders.
 */
import type { FaceManifest, PackManifest } from '../models/manifest.js';
import { PackError, type TrialRun } from '../models/packs.js';
import { errorMessage } from '../util/errors.js';
import { ClipEncoder } from './clip.js';
import { CnnEncoder } from './cnn.js';
import { FacePack } from './faces.js';

/** Loads the pack's models once on the CPU and runs one input: the embedding dimension, and a CNN's fixed picture size. */
export const trialRun: TrialRun = async (dir: string, manifest: PackManifest) => {
  try {
    if (manifest.kind === 'face') return { dim: await faceTrial(dir, manifest) };
    const size = manifest.inputSize;
    if (manifest.kind === 'clip') {
      const enc = await ClipEncoder.load(dir, manifest, { device: 'cpu', threads: 1 });
      try {
        const { width, height } = enc.inputSize;
        const [img] = await enc.embedPixels([new Float32Array(3 * width * height)]);
        const [txt] = await enc.embedTexts(['a photo']);
        if (img!.length !== txt!.length) throw new PackError(`image embeddings are ${img!.length}-d but text embeddings ${txt!.length}-d`);
        return { dim: img!.length };
      } finally {
        await enc.close();
      }
    }
    const enc = await CnnEncoder.load(dir, manifest, { device: 'cpu', threads: 1 });
    try {
      const [h, w] = enc.fixed ? [enc.fixed.height, enc.fixed.width] : [size, size];
      const map = await enc.featureMap({ tensor: new Float32Array(3 * w * h), width: w, height: h });
      return enc.fixed ? { dim: map.c, fixedInput: [h, w] as const } : { dim: map.c };
    } finally {
      await enc.close();
    }
  } catch (err) {
    if (err instanceof PackError) throw err;
    throw new PackError(`${manifest.name}: the models do not load or run (${errorMessage(err)})`);
  }
};

/** A face pack's trial: the detector looks at a grey picture (no face), the embedder reads a grey face. */
async function faceTrial(dir: string, manifest: FaceManifest): Promise<number> {
  const pack = await FacePack.load(dir, manifest, { device: 'cpu', threads: 1 });
  try {
    const size = pack.detector.inputSize;
    await pack.detector.detect({ data: new Uint8Array(size * size * 3).fill(128), width: size, height: size }, { wholeOnly: true });
    const e = pack.embedder;
    const [v] = await e.embed([new Float32Array(e.size * e.size * 3).fill(100)]);
    if (!v || v.length === 0) throw new PackError('the face embedder gave no vector');
    return v.length;
  } finally {
    await pack.close();
  }
}
