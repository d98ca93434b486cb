/** Which frames of a video are kept, how ffmpeg's output is read, and what a Range header asks for. */
import { describe, expect, it } from 'vitest';
import { chooseFrames, FRAME_CAP, frameInterval, frameTimes, splitJpegs } from '../../main/ingest/video.js';
import { parseRange } from '../../main/util/served-file.js';

describe('frames kept per video', () => {
  it('keeps every pick under the cap, in time order', () => {
    const picks = [0, 3000, 4000, 7000].map((atMs, i) => ({ atMs, scene: i === 2 }));
    expect(chooseFrames(picks, 8)).toEqual(picks);
  });

  it('over the cap: the first frame, then the cuts, then regular frames spread evenly', () => {
    const picks = Array.from({ length: 100 }, (_, i) => ({ atMs: i * 1000, scene: i % 10 === 5 }));
    const kept = chooseFrames(picks, 20);
    expect(kept).toHaveLength(20);
    expect(kept[0]!.atMs).toBe(0);
    // All ten cuts are kept, and nine regular frames spread over the whole video.
    expect(kept.filter((p) => p.scene)).toHaveLength(10);
    const regular = kept.filter((p) => !p.scene && p.atMs > 0).map((p) => p.atMs);
    expect(regular).toHaveLength(9);
    expect(Math.max(...regular)).toBeGreaterThan(80_000);
    expect(kept.map((p) => p.atMs)).toEqual([...kept.map((p) => p.atMs)].sort((a, b) => a - b));
  });

  it('more cuts than the cap: cuts spread evenly, no regular frames', () => {
    const picks = Array.from({ length: 100 }, (_, i) => ({ atMs: i * 1000, scene: i > 0 }));
    const kept = chooseFrames(picks, 10);
    expect(kept).toHaveLength(10);
    expect(kept.at(-1)!.atMs).toBeGreaterThan(80_000);
  });

  it('spreads the cap over long videos and samples short ones every few seconds', () => {
    expect(frameInterval(10_000)).toBe(3);
    expect(frameInterval(3_600_000)).toBeCloseTo(3600 / FRAME_CAP);
  });
});

describe("reading ffmpeg's output", () => {
  it('splits an MJPEG stream into its pictures', () => {
    const a = Buffer.from([0xff, 0xd8, 1, 2, 0xff, 0x00, 3, 0xff, 0xd9]);
    const b = Buffer.from([0xff, 0xd8, 9, 0xff, 0xd9]);
    expect(splitJpegs(Buffer.concat([a, b]))).toEqual([a, b]);
    // A truncated last picture is not a picture.
    expect(splitJpegs(Buffer.concat([a, b.subarray(0, 3)]))).toEqual([a]);
  });

  it("reads each frame's time from showinfo", () => {
    const log = '[Parsed_showinfo_2 @ 0x1] n:   0 pts:      0 pts_time:0       duration:512\n'
      + '[Parsed_showinfo_2 @ 0x1] n:   1 pts:  46080 pts_time:3.6     duration:512\n';
    expect(frameTimes(log)).toEqual([0, 3600]);
  });
});

describe('byte ranges', () => {
  it('reads what a video element asks for', () => {
    expect(parseRange(undefined, 1000)).toBeNull();
    expect(parseRange('bytes=0-', 1000)).toEqual({ start: 0, end: 999 });
    expect(parseRange('bytes=100-199', 1000)).toEqual({ start: 100, end: 199 });
    expect(parseRange('bytes=900-5000', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=-100', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=1000-', 1000)).toBe('unsatisfiable');
    expect(parseRange('bytes=5-2', 1000)).toBe('unsatisfiable');
    // Several ranges, or another unit: the whole file.
    expect(parseRange('bytes=0-1,5-6', 1000)).toBeNull();
    expect(parseRange('items=0-1', 1000)).toBeNull();
  });
});
