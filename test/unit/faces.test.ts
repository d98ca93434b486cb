/** The arithmetic of faces: anchors, windows, NMS, pose, and grouping faces into people. */
import { describe, expect, it } from 'vitest';
import { alignedCrop, anchorCentres, ARCFACE_TEMPLATE, decodeYunet, detectionWindows, iou, nms, similarityFit, uprightCrop, yaw, type Detection } from '../../main/encoders/face-geometry.js';
import { centres, closestPerson, JOIN_SIMILARITY } from '../../main/faces/cluster.js';

const det = (score: number, x1: number, y1: number, x2: number, y2: number, noseX = (x1 + x2) / 2): Detection => ({
  score, box: { x1, y1, x2, y2 },
  keypoints: [[x1 + (x2 - x1) * 0.3, y1 + 10], [x1 + (x2 - x1) * 0.7, y1 + 10], [noseX, y1 + 20], [(x1 + x2) / 2, y1 + 30], [x1, y1 + 15], [x2, y1 + 15]],
});

describe('face geometry', () => {
  it("lays out BlazeFace's 896 anchors and the full-range detector's 2304 in output order", () => {
    const blaze = anchorCentres([{ stride: 16, grid: 16, anchorsPerCell: 2 }, { stride: 32, grid: 8, anchorsPerCell: 6 }]);
    expect(blaze.length / 2).toBe(896);
    expect([...blaze.subarray(0, 6)]).toEqual([8, 8, 8, 8, 24, 8]);
    expect([...blaze.subarray(512 * 2, 512 * 2 + 2)]).toEqual([16, 16]);
    expect(anchorCentres([{ stride: 4, grid: 48, anchorsPerCell: 1 }]).length / 2).toBe(2304);
  });

  it('covers the picture with the whole of it and overlapping tiles down to the input size', () => {
    const w = detectionWindows(1024, 683, 256);
    expect(w[0]).toEqual({ x: 0, y: 0, w: 1024, h: 683 });
    for (const t of w) expect(t.x + t.w <= 1024 && t.y + t.h <= 683).toBe(true);
    const smallest = w.filter((t) => t.w === 256);
    // Every pixel is in some smallest tile.
    for (const [x, y] of [[0, 0], [1023, 682], [512, 340], [700, 100]] as const) {
      expect(smallest.some((t) => x >= t.x && x < t.x + t.w && y >= t.y && y < t.y + t.h)).toBe(true);
    }
    expect(detectionWindows(200, 150, 256)).toHaveLength(1);
  });

  it('keeps the best of overlapping detections, and drops a half face a tile saw inside a whole one', () => {
    const whole = det(0.9, 5, 5, 105, 105);
    const kept = nms([det(0.8, 0, 0, 100, 100), whole, det(0.7, 300, 300, 350, 350), det(0.85, 10, 10, 50, 50)], 0.3);
    expect(kept.map((d) => d.score)).toEqual([0.9, 0.7]);
    expect(kept[0]).toBe(whole);
    expect(iou({ x1: 0, y1: 0, x2: 10, y2: 10 }, { x1: 5, y1: 0, x2: 15, y2: 10 })).toBeCloseTo(1 / 3);
  });

  it('reads a frontal face as frontal and a turned one as turned', () => {
    expect(yaw(det(1, 0, 0, 100, 100))).toBeCloseTo(0);
    expect(yaw(det(1, 0, 0, 100, 100, 68))).toBeGreaterThan(0.8);
  });

  it('crops upright: the eye line, running down a face lying on its side, comes out level', () => {
    // A 4×4 picture with two white pixels one above the other (column 2, rows 0 and 3): an eye line
    // pointing down the picture. Turned by its angle, the two lie in one row of the crop.
    const rgb = new Uint8Array(4 * 4 * 3);
    for (const at of [2, 14]) rgb.set([255, 255, 255], at * 3);
    const crop = uprightCrop(rgb, 4, 4, { cx: 2, cy: 2, side: 4 }, Math.PI / 2, 4);
    const white = [...Array(16).keys()].filter((i) => crop[i * 3]! > 200);
    expect(white).toEqual([4, 7]);
  });
});

describe('alignment to the ArcFace template', () => {
  it('fits the similarity transform between two sets of points', () => {
    // Turned 30°, scaled 1.5, moved (10, −4).
    const [c, s] = [Math.cos(Math.PI / 6) * 1.5, Math.sin(Math.PI / 6) * 1.5];
    const from = [[0, 0], [10, 0], [3, 7], [8, 12]] as const;
    const to = from.map(([x, y]) => [c * x - s * y + 10, s * x + c * y - 4] as const);
    const t = similarityFit(from, to);
    expect(t.a).toBeCloseTo(c, 9);
    expect(t.b).toBeCloseTo(s, 9);
    expect(t.tx).toBeCloseTo(10, 9);
    expect(t.ty).toBeCloseTo(-4, 9);
  });

  it('puts the landmarks where the template has them, whatever the face\'s turn and size', () => {
    // A 300×300 picture with white dots where a turned, enlarged face's landmarks are.
    const [c, s] = [Math.cos(0.4) * 1.8, Math.sin(0.4) * 1.8];
    const landmarks = ARCFACE_TEMPLATE.map(([x, y]) => [c * x - s * y + 120, s * x + c * y + 20] as const);
    const rgb = new Uint8Array(300 * 300 * 3);
    for (const [x, y] of landmarks) {
      for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) rgb.set([255, 255, 255], ((Math.round(y) + dy) * 300 + Math.round(x) + dx) * 3);
    }
    const crop = alignedCrop(rgb, 300, 300, landmarks, 112);
    for (const [x, y] of ARCFACE_TEMPLATE) expect(crop[(Math.round(y) * 112 + Math.round(x)) * 3]!).toBeGreaterThan(200);
    // And nowhere else much: the corners are dark.
    expect(crop[0]).toBe(0);
  });
});

describe("YuNet's heads", () => {
  it('decode a cell to its box and landmarks, and drop cells below the score', () => {
    const cells = 4 * 4; // a 32-px input at stride 8
    const cls = new Float32Array(cells);
    const obj = new Float32Array(cells).fill(1);
    const bbox = new Float32Array(cells * 4);
    const kps = new Float32Array(cells * 10);
    cls[6] = 0.81; // row 1, column 2: score √0.81 = 0.9
    bbox.set([0.5, 0.5, Math.log(2), Math.log(2)], 6 * 4);
    kps.set([0.2, 0.3, 0.8, 0.3, 0.5, 0.5, 0.3, 0.8, 0.7, 0.8], 6 * 10);
    const [d, ...rest] = decodeYunet({ heads: [{ stride: 8, cls, obj, bbox, kps }], inputWidth: 32, inputHeight: 32, window: { x: 100, y: 0, w: 64, h: 32 }, minScore: 0.5 });
    expect(rest).toEqual([]);
    expect(d!.score).toBeCloseTo(0.9);
    // Centre (2.5, 1.5)·8 = (20, 12), size 16; the window doubles x and starts at 100.
    const { x1, y1, x2, y2 } = d!.box;
    [x1, y1, x2, y2].forEach((v, i) => expect(v).toBeCloseTo([100 + 12 * 2, 4, 100 + 28 * 2, 20][i]!, 5));
    expect(d!.keypoints[0]![0]).toBeCloseTo(100 + 2.2 * 8 * 2, 4);
    expect(d!.keypoints[0]![1]).toBeCloseTo(1.3 * 8, 4);
    expect(d!.keypoints[3]![1]).toBeCloseTo(1.8 * 8);
  });
});

describe('grouping faces into people', () => {
  const unit = (v: number[]): Float32Array => {
    const n = Math.hypot(...v);
    return Float32Array.from(v.map((x) => x / n));
  };
  const people = centres([
    { personId: 1, vector: unit([1, 0, 0]) }, { personId: 1, vector: unit([0.95, 0.1, 0]) },
    { personId: 2, vector: unit([0, 1, 0]) },
  ]);

  it('joins the person a face clearly is', () => {
    expect(closestPerson(unit([0.98, 0.05, 0.02]), people.values(), () => false)?.id).toBe(1);
  });

  it('starts someone new when the face is far from all, or as close to two (a split beats a merge)', () => {
    expect(closestPerson(unit([0, 0, 1]), people.values(), () => false)).toBeNull();
    expect(closestPerson(unit([1, 1, 0.1]), people.values(), () => false)).toBeNull();
    expect(JOIN_SIMILARITY).toBeGreaterThan(0.5);
  });

  it('never suggests a person the user said it is not', () => {
    expect(closestPerson(unit([0.98, 0.05, 0.02]), people.values(), (id) => id === 1)).toBeNull();
  });
});
