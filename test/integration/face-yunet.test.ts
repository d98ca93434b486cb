/**
 * The YuNet detector family (OpenCV Zoo's, MIT), read as OpenCV's FaceDetectorYN reads it: a
 * synthetic model with YuNet's structure — a BGR picture of 0..255 in, cls/obj/bbox/kps heads per
 * stride out — whose weights make it answer where the picture is blue, run by onnxruntime. What
 * it finds is where the decoding says it must be; a red square (blue in RGB order) is not found,
 * which shows the channels go in as BGR.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaceDetector, type RgbPicture } from '../../main/encoders/faces.js';
import { tempDir } from '../helpers/fixtures.js';
import { YUNET_KPS as KPS, yunetModel } from '../../models/synthetic.js';

const SIDE = 320;
const STRIDES = [8, 16, 32];
const t = tempDir();
let detector: FaceDetector;

/** A black picture with one square of colour, 32 px, on the 32-px grid at cell (5, 3). */
function picture(rgb: [number, number, number]): RgbPicture {
  const data = new Uint8Array(SIDE * SIDE * 3);
  for (let y = 96; y < 128; y++) for (let x = 160; x < 192; x++) data.set(rgb, (y * SIDE + x) * 3);
  return { data, width: SIDE, height: SIDE };
}

describe('the YuNet family', () => {
  beforeAll(async () => {
    const dir = join(t.dir, 'yunet');
    mkdirSync(dir);
    writeFileSync(join(dir, 'model.onnx'), yunetModel(SIDE, STRIDES));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({
      task: 'face-detection', family: 'yunet', format: { file: 'model.onnx' },
      input: { name: 'input', shape: [1, 3, SIDE, SIDE], normalization: { scale: 1, offset: 0 }, channel_order: 'BGR' },
      strides: STRIDES,
    }));
    detector = await FaceDetector.load(dir);
  });

  afterAll(async () => {
    await detector?.close();
    t.cleanup();
  });

  it('decodes its heads: score √(cls·obj), the cell box, five landmarks in MediaPipe order', async () => {
    const faces = await detector.detect(picture([0, 0, 255]), { wholeOnly: true });
    expect(faces).toHaveLength(1);
    const [f] = faces;
    expect(f!.score).toBeGreaterThan(0.99);
    // Centre (cell + 0.5)·32, size e⁰·32: exactly the blue square.
    expect([f!.box.x1, f!.box.y1, f!.box.x2, f!.box.y2]).toEqual([160, 96, 192, 128]);
    const k = (i: number): [number, number] => [(5 + KPS[2 * i]!) * 32, (3 + KPS[2 * i + 1]!) * 32];
    const mouth: [number, number] = [(k(3)[0] + k(4)[0]) / 2, (k(3)[1] + k(4)[1]) / 2];
    f!.keypoints.forEach((p, i) => {
      const want = [k(0), k(1), k(2), mouth, k(3), k(4)][i]!;
      expect(p[0]).toBeCloseTo(want[0], 3);
      expect(p[1]).toBeCloseTo(want[1], 3);
    });
  });

  it('reads the picture as BGR: red is not blue', async () => {
    expect(await detector.detect(picture([255, 0, 0]), { wholeOnly: true })).toEqual([]);
  });

  it('finds it through tiles of a larger picture too, at the same place', async () => {
    const big = new Uint8Array(960 * 640 * 3);
    for (let y = 400; y < 464; y++) for (let x = 700; x < 764; x++) big.set([0, 0, 255], (y * 960 + x) * 3);
    const faces = await detector.detect({ data: big, width: 960, height: 640 }, { minScore: 0.5, tileMinScore: 0.5 });
    expect(faces.length).toBeGreaterThan(0);
    const [f] = faces;
    expect((f!.box.x1 + f!.box.x2) / 2).toBeGreaterThan(690);
    expect((f!.box.x1 + f!.box.x2) / 2).toBeLessThan(774);
    expect((f!.box.y1 + f!.box.y2) / 2).toBeGreaterThan(390);
    expect((f!.box.y1 + f!.box.y2) / 2).toBeLessThan(474);
  });
});
