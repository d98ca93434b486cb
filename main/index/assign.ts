/**
 * Nearest-centroid assignment, the cost centre of training and encoding (n × k × d multiply-adds).
 * `JsAssigner` is the plain reference; `OrtAssigner` runs the same arithmetic as a GEMM + ArgMax
 * graph in onnxruntime (MLAS, SIMD, all cores, off the JS thread), which is what makes building
 * an index over a million vectors take seconds instead of many minutes.
 */
import { dot, matmul, rowNormsSq } from './kernels.js';
import { buildModel, DataType, int64Tensor } from '../onnx/proto.js';

export interface Assignment {
  readonly labels: Int32Array;
  /** Squared distance from each row to its centroid. */
  readonly dist: Float32Array;
}

export interface Assigner {
  readonly name: string;
  nearest(x: Float32Array, n: number, c: Float32Array, k: number, d: number): Promise<Assignment>;
  /** Codes (n × m bytes) of rows of width m·dsub against codebooks laid out [m][ksub][dsub]. */
  pqEncode(x: Float32Array, n: number, codebooks: Float32Array, m: number, ksub: number, dsub: number): Promise<Uint8Array>;
  /** A (n×k) · B (k×m), row-major. */
  matmul(a: Float32Array, b: Float32Array, n: number, k: number, m: number): Promise<Float32Array>;
  close(): Promise<void>;
}

export function nearestJs(x: Float32Array, n: number, c: Float32Array, k: number, d: number): Assignment {
  const cn = rowNormsSq(c, k, d);
  const labels = new Int32Array(n);
  const dist = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    const xn = dot(x, xo, x, xo, d);
    let best = -Infinity;
    let bi = 0;
    for (let j = 0; j < k; j++) {
      const s = dot(x, xo, c, j * d, d) - 0.5 * cn[j]!;
      if (s > best) {
        best = s;
        bi = j;
      }
    }
    labels[i] = bi;
    dist[i] = Math.max(0, xn - 2 * best);
  }
  return { labels, dist };
}

export function pqEncodeJs(x: Float32Array, n: number, codebooks: Float32Array, m: number, ksub: number, dsub: number): Uint8Array {
  const codes = new Uint8Array(n * m);
  const d = m * dsub;
  for (let i = 0; i < n; i++) {
    for (let s = 0; s < m; s++) {
      const xo = i * d + s * dsub;
      let best = Infinity;
      let bi = 0;
      for (let j = 0; j < ksub; j++) {
        const co = (s * ksub + j) * dsub;
        let acc = 0;
        for (let t = 0; t < dsub; t++) {
          const diff = x[xo + t]! - codebooks[co + t]!;
          acc += diff * diff;
        }
        if (acc < best) {
          best = acc;
          bi = j;
        }
      }
      codes[i * m + s] = bi;
    }
  }
  return codes;
}

export class JsAssigner implements Assigner {
  readonly name = 'js';
  nearest(x: Float32Array, n: number, c: Float32Array, k: number, d: number): Promise<Assignment> {
    return Promise.resolve(nearestJs(x, n, c, k, d));
  }
  pqEncode(x: Float32Array, n: number, cb: Float32Array, m: number, ksub: number, dsub: number): Promise<Uint8Array> {
    return Promise.resolve(pqEncodeJs(x, n, cb, m, ksub, dsub));
  }
  matmul(a: Float32Array, b: Float32Array, n: number, k: number, m: number): Promise<Float32Array> {
    return Promise.resolve(matmul(a, b, n, k, m));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

type Ort = typeof import('onnxruntime-node');
type Session = import('onnxruntime-node').InferenceSession;

const CHUNK_ROWS = 8192;

function nearestGraph(): Uint8Array {
  return buildModel({
    name: 'nearest',
    inputs: [
      { name: 'x', type: DataType.FLOAT, shape: ['n', 'd'] },
      { name: 'c', type: DataType.FLOAT, shape: ['k', 'd'] },
      { name: 'bias', type: DataType.FLOAT, shape: ['k'] },
    ],
    outputs: [
      { name: 'label', type: DataType.INT64, shape: ['n'] },
      { name: 'score', type: DataType.FLOAT, shape: ['n'] },
    ],
    nodes: [
      { op: 'Gemm', inputs: ['x', 'c', 'bias'], outputs: ['s'], attrs: { transB: 1 } },
      { op: 'ArgMax', inputs: ['s'], outputs: ['label'], attrs: { axis: 1, keepdims: 0 } },
      { op: 'ReduceMax', inputs: ['s'], outputs: ['score'], attrs: { axes: [1], keepdims: 0 } },
    ],
  });
}

function matmulGraph(): Uint8Array {
  return buildModel({
    name: 'matmul',
    inputs: [
      { name: 'a', type: DataType.FLOAT, shape: ['n', 'k'] },
      { name: 'b', type: DataType.FLOAT, shape: ['k', 'm'] },
    ],
    outputs: [{ name: 'c', type: DataType.FLOAT, shape: ['n', 'm'] }],
    nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] }],
  });
}

function pqGraph(m: number, ksub: number, dsub: number): Uint8Array {
  return buildModel({
    name: 'pq_encode',
    initializers: [int64Tensor('shape', [3], [-1, m, dsub])],
    inputs: [
      { name: 'x', type: DataType.FLOAT, shape: ['n', m * dsub] },
      { name: 'cb', type: DataType.FLOAT, shape: [m, dsub, ksub] },
      { name: 'bias', type: DataType.FLOAT, shape: [m, 1, ksub] },
    ],
    outputs: [{ name: 'code', type: DataType.INT64, shape: [m, 'n'] }],
    nodes: [
      { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['x3'] },
      { op: 'Transpose', inputs: ['x3'], outputs: ['xt'], attrs: { perm: [1, 0, 2] } },
      { op: 'MatMul', inputs: ['xt', 'cb'], outputs: ['s'] },
      { op: 'Add', inputs: ['s', 'bias'], outputs: ['sb'] },
      { op: 'ArgMax', inputs: ['sb'], outputs: ['code'], attrs: { axis: 2, keepdims: 0 } },
    ],
  });
}

export class OrtAssigner implements Assigner {
  readonly name = 'onnxruntime';
  private sessions = new Map<string, Promise<Session>>();

  private constructor(
    private readonly ort: Ort,
    private readonly threads: number,
  ) {}

  /** Null when onnxruntime-node cannot be loaded (then callers use JsAssigner). */
  static async create(threads = 0): Promise<OrtAssigner | null> {
    try {
      const ort = await import('onnxruntime-node');
      return new OrtAssigner(ort, threads);
    } catch {
      return null;
    }
  }

  private session(key: string, model: () => Uint8Array): Promise<Session> {
    let s = this.sessions.get(key);
    if (!s) {
      s = this.ort.InferenceSession.create(model(), {
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionProviders: ['cpu'],
      });
      this.sessions.set(key, s);
    }
    return s;
  }

  async nearest(x: Float32Array, n: number, c: Float32Array, k: number, d: number): Promise<Assignment> {
    const session = await this.session('nearest', nearestGraph);
    const cn = rowNormsSq(c, k, d);
    const bias = new Float32Array(k);
    for (let j = 0; j < k; j++) bias[j] = -0.5 * cn[j]!;
    const cT = new this.ort.Tensor('float32', c.subarray(0, k * d), [k, d]);
    const bT = new this.ort.Tensor('float32', bias, [k]);
    const labels = new Int32Array(n);
    const dist = new Float32Array(n);
    for (let start = 0; start < n; start += CHUNK_ROWS) {
      const rows = Math.min(CHUNK_ROWS, n - start);
      const xs = x.subarray(start * d, (start + rows) * d);
      const out = await session.run({ x: new this.ort.Tensor('float32', xs, [rows, d]), c: cT, bias: bT });
      const label = out['label']!.data as BigInt64Array;
      const score = out['score']!.data as Float32Array;
      for (let i = 0; i < rows; i++) {
        labels[start + i] = Number(label[i]!);
        const xo = (start + i) * d;
        dist[start + i] = Math.max(0, dot(x, xo, x, xo, d) - 2 * score[i]!);
      }
    }
    return { labels, dist };
  }

  async pqEncode(x: Float32Array, n: number, codebooks: Float32Array, m: number, ksub: number, dsub: number): Promise<Uint8Array> {
    const session = await this.session(`pq:${m}:${ksub}:${dsub}`, () => pqGraph(m, ksub, dsub));
    // ONNX wants [m][dsub][ksub] and the bias -½‖c‖² per centroid.
    const cb = new Float32Array(m * dsub * ksub);
    const bias = new Float32Array(m * ksub);
    for (let s = 0; s < m; s++) {
      for (let j = 0; j < ksub; j++) {
        let nn = 0;
        for (let t = 0; t < dsub; t++) {
          const v = codebooks[(s * ksub + j) * dsub + t]!;
          cb[(s * dsub + t) * ksub + j] = v;
          nn += v * v;
        }
        bias[s * ksub + j] = -0.5 * nn;
      }
    }
    const cbT = new this.ort.Tensor('float32', cb, [m, dsub, ksub]);
    const bT = new this.ort.Tensor('float32', bias, [m, 1, ksub]);
    const d = m * dsub;
    const codes = new Uint8Array(n * m);
    for (let start = 0; start < n; start += CHUNK_ROWS) {
      const rows = Math.min(CHUNK_ROWS, n - start);
      const xs = x.subarray(start * d, (start + rows) * d);
      const out = await session.run({ x: new this.ort.Tensor('float32', xs, [rows, d]), cb: cbT, bias: bT });
      const code = out['code']!.data as BigInt64Array;
      for (let s = 0; s < m; s++) {
        for (let i = 0; i < rows; i++) codes[(start + i) * m + s] = Number(code[s * rows + i]!);
      }
    }
    return codes;
  }

  async matmul(a: Float32Array, b: Float32Array, n: number, k: number, m: number): Promise<Float32Array> {
    const session = await this.session('matmul', matmulGraph);
    const out = await session.run({
      a: new this.ort.Tensor('float32', a.subarray(0, n * k), [n, k]),
      b: new this.ort.Tensor('float32', b.subarray(0, k * m), [k, m]),
    });
    return new Float32Array(out['c']!.data as Float32Array);
  }

  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await (await s).release();
  }
}

/** onnxruntime when it loads, the JS reference otherwise. */
export async function defaultAssigner(threads = 0): Promise<Assigner> {
  return (await OrtAssigner.create(threads)) ?? new JsAssigner();
}
