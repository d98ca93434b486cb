/** The arithmetic of faces: anchors, windows, NMS, pose, and grouping faces into people. */
import { describe, expect, it } from 'vitest';
import { anchorCentres, detectionWindows, iou, nms, uprightCrop, yaw, type Detection } from '../../main/encoders/face-geometry.js';
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
