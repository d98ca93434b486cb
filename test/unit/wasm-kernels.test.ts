/**
 * The SIMD kernels: the shipped bytes are exactly what kernels.wat assembles to, and each kernel
 * agrees with the plain-JS arithmetic it replaces.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assembleKernels, renderModule } from '../../scripts/build-wasm.js';
import { finishQuantizer } from '../../main/index/ivf.js';
import { dot, fromHalf, toHalf } from '../../main/index/kernels.js';
import { KSUB } from '../../main/index/pq.js';
import { gaussian, rng } from '../../main/index/random.js';
import { QueryKernels } from '../../main/index/wasm/query-kernels.js';

describe('wasm kernels', () => {
  it('kernels.wasm.ts is the assembly of kernels.wat (run npm run build:wasm after editing it)', async () => {
    const shipped = readFileSync(fileURLToPath(new URL('../../main/index/wasm/kernels.wasm.ts', import.meta.url)), 'utf8');
    expect(shipped).toBe(renderModule(await assembleKernels()));
  });

  it('compute centroid dots, rotation, ADC and float16 distances like the JS reference', () => {
    const d = 20; // not a multiple of 8: exercises the padding
    const nlist = 9;
    const m = 4;
    const dsub = 5;
    const r = rng(3);
    const rand = (n: number): Float32Array => new Float32Array(n).map(() => gaussian(r));
    const rotation = rand(d * d);
    const q = finishQuantizer(
      { d, nlist, shape: { m, dsub }, centroids: rand(nlist * d), rotation, codebooks: rand(m * KSUB * dsub), trainedCount: 0, distortion: 0 },
      (c) => c,
    );
    const k = new QueryKernels(q);
    const query = rand(d);
    const dots = k.centroidDots(query);
    for (let j = 0; j < nlist; j++) expect(dots[j]).toBeCloseTo(dot(query, 0, q.centroids, j * d, d), 3);
    const rotated = Array.from(k.rotated());
    for (let j = 0; j < d; j++) {
      let want = 0;
      for (let p = 0; p < d; p++) want += query[p]! * rotation[p * d + j]!;
      expect(rotated[j]).toBeCloseTo(want, 3);
    }
    k.buildTable(rotated);
    const n = 50;
    const codes = new Uint8Array(n * m).map(() => Math.floor(r() * 256));
    const terms = rand(n);
    const got = Array.from(k.scan(codes, terms, n, 0.5));
    for (let i = 0; i < n; i++) {
      let want = 0.5 + terms[i]!;
      for (let s = 0; s < m; s++) {
        let ip = 0;
        for (let t = 0; t < dsub; t++) ip += rotated[s * dsub + t]! * q.codebooks[(s * KSUB + codes[i * m + s]!) * dsub + t]!;
        want += -2 * ip;
      }
      expect(got[i]).toBeCloseTo(want, 2);
    }
    const rows = rand(3 * d);
    const recs = k.records(3);
    const view = new DataView(recs.buffer, recs.byteOffset, recs.byteLength);
    for (let i = 0; i < 3; i++) for (let t = 0; t < d; t++) view.setUint16(i * (2 * d + 4) + 2 * t, toHalf(rows[i * d + t]!), true);
    k.centroidDots(query);
    const l2 = Array.from(k.rerank(3));
    for (let i = 0; i < 3; i++) {
      let want = 0;
      for (let t = 0; t < d; t++) want += (query[t]! - fromHalf(toHalf(rows[i * d + t]!))) ** 2;
      expect(l2[i]).toBeCloseTo(want, 3);
    }
  });
});
