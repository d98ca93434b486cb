/** PP-OCR's pre- and post-processing (main/encoders/ocr-geometry.ts) on maps and pictures with known answers. */
import { describe, expect, it } from 'vitest';
import { convexHull, corners, cropLine, ctcDecode, dbBoxes, minAreaRect, rotate180, textRect } from '../../main/encoders/ocr-geometry.js';

/** A probability map with filled rectangles (optionally turned about their centres). */
function map(width: number, height: number, rects: { cx: number; cy: number; w: number; h: number; angle?: number; p?: number }[]): Float32Array {
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (const r of rects) {
        const a = r.angle ?? 0;
        const [dx, dy] = [x + 0.5 - r.cx, y + 0.5 - r.cy];
        const u = dx * Math.cos(a) + dy * Math.sin(a);
        const v = -dx * Math.sin(a) + dy * Math.cos(a);
        if (Math.abs(u) <= r.w / 2 && Math.abs(v) <= r.h / 2) out[y * width + x] = r.p ?? 0.9;
      }
    }
  }
  return out;
}

describe('DB post-processing', () => {
  it('finds each region as a box grown by the unclip ratio, in reading order', () => {
    const m = map(200, 100, [{ cx: 150, cy: 70, w: 60, h: 10 }, { cx: 50, cy: 20, w: 80, h: 12 }, { cx: 40, cy: 70, w: 40, h: 10 }]);
    const boxes = dbBoxes(m, 200, 100);
    expect(boxes).toHaveLength(3);
    // Top line first, then the lower line left to right.
    expect(boxes.map((b) => Math.round((b.quad[0][0] + b.quad[2][0]) / 2))).toEqual([50, 40, 150]);
    const [top] = boxes;
    // 80×12, grown by area·1.5/perimeter = 1440/184 ≈ 7.8 px on each side.
    const w = Math.hypot(top!.quad[1][0] - top!.quad[0][0], top!.quad[1][1] - top!.quad[0][1]);
    const h = Math.hypot(top!.quad[3][0] - top!.quad[0][0], top!.quad[3][1] - top!.quad[0][1]);
    expect(w).toBeCloseTo(80 + 2 * (80 * 12 * 1.5) / (2 * 92), 0);
    expect(h).toBeCloseTo(12 + 2 * (80 * 12 * 1.5) / (2 * 92), 0);
    expect(top!.score).toBeCloseTo(0.9, 5);
  });

  it('follows a turned line with a turned box, its width along the text', () => {
    const angle = (12 * Math.PI) / 180;
    const [b] = dbBoxes(map(200, 120, [{ cx: 100, cy: 60, w: 120, h: 14, angle }]), 200, 120);
    const along = Math.atan2(b!.quad[1][1] - b!.quad[0][1], b!.quad[1][0] - b!.quad[0][0]);
    expect(along).toBeCloseTo(angle, 1);
    // Top-left really is at the top left of the line.
    expect(b!.quad[0][0]).toBeLessThan(b!.quad[1][0]);
    expect(b!.quad[0][1]).toBeLessThan(b!.quad[3][1]);
  });

  it('drops faint regions and specks', () => {
    const m = map(100, 100, [{ cx: 30, cy: 30, w: 40, h: 10, p: 0.45 }, { cx: 70, cy: 80, w: 2, h: 2 }]);
    expect(dbBoxes(m, 100, 100)).toEqual([]);
    expect(dbBoxes(m, 100, 100, { boxThreshold: 0.4 })).toHaveLength(1);
  });
});

describe('rectangles', () => {
  it('the convex hull and the minimum-area rectangle of a turned square', () => {
    const pts = [[0, 0], [4, 0], [4, 4], [0, 4], [2, 2]] as const;
    expect(convexHull(pts)).toHaveLength(4);
    const r = minAreaRect(convexHull([[0, 2], [2, 0], [4, 2], [2, 4]]));
    expect(r.width * r.height).toBeCloseTo(8, 9);
    const t = textRect({ cx: 0, cy: 0, width: 2, height: 10, angle: 0 });
    expect([t.width, t.height]).toEqual([10, 2]);
    expect(Math.abs(t.angle)).toBeCloseTo(Math.PI / 2, 9);
    expect(corners({ cx: 5, cy: 5, width: 4, height: 2, angle: 0 })).toEqual([[3, 4], [7, 4], [7, 6], [3, 6]]);
  });
});

describe('cutting a line out', () => {
  it('samples the box upright at the recogniser\'s height, keeping its proportions, and turns it round', () => {
    // A 100×50 picture: left half black, right half white.
    const rgb = new Uint8Array(100 * 50 * 3);
    for (let y = 0; y < 50; y++) for (let x = 50; x < 100; x++) rgb.fill(255, (y * 100 + x) * 3, (y * 100 + x) * 3 + 3);
    const line = cropLine(rgb, 100, 50, [[10, 10], [90, 10], [90, 30], [10, 30]], 48, 1000);
    expect([line.width, line.height]).toEqual([192, 48]);
    expect(line.data[(24 * 192 + 10) * 3]).toBe(0);
    expect(line.data[(24 * 192 + 180) * 3]).toBe(255);
    const turned = rotate180(line);
    expect(turned.data[(24 * 192 + 10) * 3]).toBe(255);
  });
});

describe('CTC decoding', () => {
  it('keeps the best class per step, merges repeats, drops blanks, and averages confidence', () => {
    const alphabet = ['a', 'b', ' '];
    // Steps: a a blank a b b ' ' blank
    const best = [1, 1, 0, 1, 2, 2, 3, 0];
    const probs = new Float32Array(best.length * 4);
    best.forEach((c, t) => {
      for (let k = 0; k < 4; k++) probs[t * 4 + k] = k === c ? 0.8 : 0.2 / 3;
    });
    const r = ctcDecode(probs, best.length, 4, alphabet);
    expect(r.text).toBe('aab ');
    expect(r.confidence).toBeCloseTo(0.8, 5);
    expect(ctcDecode(new Float32Array(8).fill(0).map((_, i) => (i % 4 === 0 ? 1 : 0)), 2, 4, alphabet)).toEqual({ text: '', confidence: 0 });
  });
});
