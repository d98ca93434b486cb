/**
 * A minimal writer for ONNX ModelProto (protobuf wire format), enough to build compute graphs at
 * run time: the index uses onnxruntime's GEMM for k-means and PQ encoding, and tests generate
 * small models deterministically. Field numbers follow onnx/onnx.proto (IR version 8).
 */

export const enum DataType {
  FLOAT = 1,
  UINT8 = 2,
  INT8 = 3,
  INT32 = 6,
  INT64 = 7,
  FLOAT16 = 10,
}

export type Dim = number | string;

export interface TensorInit {
  readonly name: string;
  readonly dims: readonly number[];
  readonly type: DataType;
  /** Little-endian element bytes. */
  readonly raw: Uint8Array;
}

export interface ValueInfo {
  readonly name: string;
  readonly type: DataType;
  readonly shape: readonly Dim[];
}

export type AttrValue = number | string | readonly number[] | { readonly floats: readonly number[] } | TensorInit;

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  /** Integers are written as INT attributes; use `{ floats }` or a non-integer for FLOAT(S). */
  readonly attrs?: Readonly<Record<string, AttrValue>>;
  readonly domain?: string;
}

export interface GraphSpec {
  readonly name: string;
  readonly nodes: readonly NodeSpec[];
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  readonly initializers?: readonly TensorInit[];
  readonly opset?: number;
  readonly producer?: string;
}

class Writer {
  private chunks: Uint8Array[] = [];
  private size = 0;

  bytes(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }

  varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.bytes(Uint8Array.from(out));
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, value: number): void {
    this.tag(field, 0);
    this.varint(value);
  }

  float(field: number, value: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.bytes(b);
  }

  lenDelimited(field: number, payload: Uint8Array): void {
    this.tag(field, 2);
    this.varint(payload.length);
    this.bytes(payload);
  }

  string(field: number, s: string): void {
    this.lenDelimited(field, new TextEncoder().encode(s));
  }

  message(field: number, build: (w: Writer) => void): void {
    const w = new Writer();
    build(w);
    this.lenDelimited(field, w.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

function writeTensor(w: Writer, t: TensorInit): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.type);
  w.string(8, t.name);
  w.lenDelimited(9, t.raw);
}

function writeValueInfo(w: Writer, v: ValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.type);
      tensor.message(2, (shape) => {
        for (const d of v.shape) {
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
}

function isTensor(v: AttrValue): v is TensorInit {
  return typeof v === 'object' && 'raw' in v;
}

function writeAttr(w: Writer, name: string, value: AttrValue): void {
  w.string(1, name);
  if (typeof value === 'number') {
    if (Number.isInteger(value)) {
      w.int(3, value);
      w.int(20, 2);
    } else {
      w.float(2, value);
      w.int(20, 1);
    }
  } else if (typeof value === 'string') {
    w.string(4, value);
    w.int(20, 3);
  } else if (isTensor(value)) {
    w.message(5, (t) => writeTensor(t, value));
    w.int(20, 4);
  } else if ('floats' in value) {
    for (const f of value.floats) w.float(7, f);
    w.int(20, 6);
  } else {
    for (const i of value) w.int(8, i);
    w.int(20, 7);
  }
}

/** Serialises a single-graph ONNX model. */
export function buildModel(spec: GraphSpec): Uint8Array {
  const w = new Writer();
  w.int(1, 8); // ir_version
  w.string(2, spec.producer ?? 'loupe');
  w.message(8, (o) => {
    o.string(1, '');
    o.int(2, spec.opset ?? 17);
  });
  w.message(7, (g) => {
    spec.nodes.forEach((n, i) => {
      g.message(1, (node) => {
        for (const input of n.inputs) node.string(1, input);
        for (const output of n.outputs) node.string(2, output);
        node.string(3, n.name ?? `${n.op}_${i}`);
        node.string(4, n.op);
        for (const [k, v] of Object.entries(n.attrs ?? {})) node.message(5, (a) => writeAttr(a, k, v));
        if (n.domain !== undefined) node.string(7, n.domain);
      });
    });
    g.string(2, spec.name);
    for (const t of spec.initializers ?? []) g.message(5, (x) => writeTensor(x, t));
    for (const v of spec.inputs) g.message(11, (x) => writeValueInfo(x, v));
    for (const v of spec.outputs) g.message(12, (x) => writeValueInfo(x, v));
  });
  return w.finish();
}

/** Little-endian bytes of a float32 tensor. */
export function floatTensor(name: string, dims: readonly number[], data: Float32Array): TensorInit {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) throw new Error(`tensor ${name}: ${data.length} values for shape [${dims.join(', ')}]`);
  return { name, dims, type: DataType.FLOAT, raw: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() };
}

export function int64Tensor(name: string, dims: readonly number[], data: readonly number[]): TensorInit {
  const b = new BigInt64Array(data.map((x) => BigInt(x)));
  return { name, dims, type: DataType.INT64, raw: new Uint8Array(b.buffer) };
}
