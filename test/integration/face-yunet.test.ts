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
import { buildModel, DataType, floatTensor, int64Tensor, type NodeSpec, type TensorInit, type ValueInfo } from '../../main/onnx/proto.js';
import { FaceDetector, type RgbPicture } from '../../main/encoders/faces.js';
import { tempDir } from '../helpers/fixtures.js';

const SIDE = 320;
const STRIDES = [8, 16, 32];
const KPS = [0.3, 0.4, 0.7, 0.4, 0.5, 0.55, 0.35, 0.75, 0.65, 0.75];
const t = tempDir();
let detector: FaceDetector;

/** Per stride: average each cell, then 1×1 convolutions for the four heads, laid out [1, cells, C] as YuNet's are. */
function yunetLike(): Uint8Array {
  const nodes: NodeSpec[] = [];
  const inits: TensorInit[] = [];
  const outputs: ValueInfo[] = [];
  for (const s of STRIDES) {
    nodes.push({ op: 'AveragePool', inputs: ['input'], outputs: [`p${s}`], attrs: { kernel_shape: [s, s], strides: [s, s] } });
    // Only the 32 stride answers, and only to blue (channel 0 of BGR): cls = sigmoid(0.1·B − 12.75).
    const fires = s === 32;
    const head = (name: string, c: number, weight: number[], bias: number[], sigmoid: boolean): void => {
      inits.push(floatTensor(`w_${name}_${s}`, [c, 3, 1, 1], Float32Array.from(weight)), floatTensor(`b_${name}_${s}`, [c], Float32Array.from(bias)));
      nodes.push({ op: 'Conv', inputs: [`p${s}`, `w_${name}_${s}`, `b_${name}_${s}`], outputs: [`c_${name}_${s}`] });
      const last = sigmoid ? `s_${name}_${s}` : `c_${name}_${s}`;
      if (sigmoid) nodes.push({ op: 'Sigmoid', inputs: [`c_${name}_${s}`], outputs: [last] });
      nodes.push({ op: 'Transpose', inputs: [last], outputs: [`t_${name}_${s}`], attrs: { perm: [0, 2, 3, 1] } });
      inits.push(int64Tensor(`shape_${name}_${s}`, [3], [1, -1, c]));
      nodes.push({ op: 'Reshape', inputs: [`t_${name}_${s}`, `shape_${name}_${s}`], outputs: [`${name}_${s}`] });
      outputs.push({ name: `${name}_${s}`, type: DataType.FLOAT, shape: [1, (SIDE / s) ** 2, c] });
    };
    head('cls', 1, fires ? [0.1, 0, 0] : [0, 0, 0], [fires ? -12.75 : -12], true);
    head('obj', 1, [0, 0, 0], [8], true);
    head('bbox', 4, new Array(12).fill(0), [0.5, 0.5, 0, 0], false);
    head('kps', 10, new Array(30).fill(0), KPS, false);
  }
  return buildModel({
    name: 'yunet-like', opset: 17, initializers: inits, nodes,
    inputs: [{ name: 'input', type: DataType.FLOAT, shape: [1, 3, SIDE, SIDE] }], outputs,
  });
}

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
    writeFileSync(join(dir, 'model.onnx'), yunetLike());
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
