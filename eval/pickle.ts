/**
 * A reader for the Python pickles that ground-truth files come in (revisitop's gnd_*.pkl): plain
 * containers, numbers and strings, and NumPy arrays of numbers, in any protocol (0–5, Python 2 or
 * 3). It builds data only: no class is ever instantiated and any other global is refused.
 */

export class PickleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PickleError';
  }
}

export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyValue[] | PyTuple | PyDict | NdArray;

/** A tuple: a frozen array, kept apart from lists only where the format needs it. */
export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

export class PyDict {
  readonly map = new Map<string | number, PyValue>();
  get(key: string): PyValue | undefined {
    return this.map.get(key);
  }
}

/** A NumPy array of numbers, flattened in C order. */
export class NdArray {
  shape: number[] = [];
  data: number[] = [];
}

class Global {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

class Dtype {
  order = '<';
  constructor(readonly code: string) {}
}

const MARK = Symbol('mark');
type Item = PyValue | Global | Dtype | typeof MARK;

const ALLOWED = new Set([
  'numpy.core.multiarray._reconstruct', 'numpy._core.multiarray._reconstruct', 'numpy.dtype',
  'numpy.ndarray', 'numpy.core.numeric._frombuffer', 'numpy._core.numeric._frombuffer', '_codecs.encode',
  '__builtin__.bytes', 'builtins.bytes', '__builtin__.set', 'builtins.set', '__builtin__.frozenset', 'builtins.frozenset', 'copy_reg._reconstructor',
]);

export function unpickle(bytes: Uint8Array): PyValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: Item[] = [];
  const memo = new Map<number, Item>();
  let pos = 0;
  const need = (n: number): void => {
    if (pos + n > bytes.length) throw new PickleError('the pickle ends early');
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++]!;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = Number(view.getBigUint64(pos, true));
    pos += 8;
    return v;
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const b = bytes.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw new PickleError('the pickle ends early');
    const s = Buffer.from(bytes.subarray(pos, end)).toString('latin1');
    pos = end + 1;
    return s;
  };
  const utf8 = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
  const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
  const pop = (): Item => {
    if (stack.length === 0) throw new PickleError('the pickle pops an empty stack');
    return stack.pop()!;
  };
  const popMark = (): Item[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) throw new PickleError('the pickle has no mark');
    const items = stack.splice(at);
    items.shift();
    return items;
  };
  const top = (): Item => {
    if (stack.length === 0) throw new PickleError('the pickle reads an empty stack');
    return stack[stack.length - 1]!;
  };
  const setItems = (d: Item, kv: Item[]): void => {
    if (!(d instanceof PyDict)) throw new PickleError('SETITEM on something that is not a dict');
    for (let i = 0; i + 1 < kv.length; i += 2) d.map.set(dictKey(kv[i]!), asValue(kv[i + 1]!));
  };
  const append = (l: Item, items: Item[]): void => {
    if (!Array.isArray(l)) throw new PickleError('APPEND on something that is not a list');
    for (const x of items) l.push(asValue(x));
  };
  const global = (module: string, name: string): Global => {
    const g = new Global(module, name);
    if (!ALLOWED.has(g.qualified)) throw new PickleError(`the pickle needs ${g.qualified}, which a ground-truth reader does not build`);
    return g;
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: pos += 8; break; // FRAME
      case 0x2e: return asValue(pop()); // STOP
      case 0x28: stack.push(MARK); break;
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push(new PyTuple([])); break; // EMPTY_TUPLE
      case 0x8f: stack.push([]); break; // EMPTY_SET (as a list)
      case 0x64: { const d = new PyDict(); setItems(d, popMark()); stack.push(d); break; } // DICT
      case 0x6c: stack.push(popMark().map(asValue)); break; // LIST
      case 0x74: stack.push(tuple(popMark())); break; // TUPLE
      case 0x91: stack.push(popMark().map(asValue)); break; // FROZENSET
      case 0x85: stack.push(tuple([pop()])); break;
      case 0x86: { const b = pop(); const a = pop(); stack.push(tuple([a, b])); break; }
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push(tuple([a, b, c])); break; }
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const kv = popMark(); setItems(top(), kv); break; } // SETITEMS
      case 0x61: { const v = pop(); append(top(), [v]); break; } // APPEND
      case 0x65: case 0x90: { const items = popMark(); append(top(), items); break; } // APPENDS, ADDITEMS
      case 0x4e: stack.push(null); break;
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4a: { need(4); stack.push(view.getInt32(pos, true)); pos += 4; break; } // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: { need(2); stack.push(view.getUint16(pos, true)); pos += 2; break; } // BININT2
      case 0x8a: stack.push(longFrom(take(u8()))); break; // LONG1
      case 0x8b: stack.push(longFrom(take(u32()))); break; // LONG4
      case 0x47: { need(8); stack.push(view.getFloat64(pos, false)); pos += 8; break; } // BINFLOAT
      case 0x49: { const s = line(); stack.push(s === '01' ? true : s === '00' ? false : Number.parseInt(s, 10)); break; } // INT
      case 0x4c: stack.push(narrow(BigInt(line().replace(/L$/, '')))); break; // LONG
      case 0x46: stack.push(Number.parseFloat(line())); break; // FLOAT
      case 0x8c: stack.push(utf8(take(u8()))); break; // SHORT_BINUNICODE
      case 0x58: stack.push(utf8(take(u32()))); break; // BINUNICODE
      case 0x8d: stack.push(utf8(take(u64()))); break; // BINUNICODE8
      case 0x55: stack.push(latin1(take(u8()))); break; // SHORT_BINSTRING (Python 2 str)
      case 0x54: stack.push(latin1(take(u32()))); break; // BINSTRING
      case 0x56: stack.push(line()); break; // UNICODE (raw-unicode-escape; ground truth is ASCII)
      case 0x53: stack.push(line().replace(/^'(.*)'$|^"(.*)"$/, '$1$2')); break; // STRING
      case 0x43: stack.push(new Uint8Array(take(u8()))); break; // SHORT_BINBYTES
      case 0x42: stack.push(new Uint8Array(take(u32()))); break; // BINBYTES
      case 0x8e: case 0x96: stack.push(new Uint8Array(take(u64()))); break; // BINBYTES8, BYTEARRAY8
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x70: memo.set(Number.parseInt(line(), 10), top()); break; // PUT
      case 0x68: stack.push(fromMemo(memo, u8())); break; // BINGET
      case 0x6a: stack.push(fromMemo(memo, u32())); break; // LONG_BINGET
      case 0x67: stack.push(fromMemo(memo, Number.parseInt(line(), 10))); break; // GET
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x63: { const module = line(); stack.push(global(module, line())); break; } // GLOBAL
      case 0x93: { const name = pop(); const module = pop(); stack.push(global(String(module), String(name))); break; } // STACK_GLOBAL
      case 0x52: { const args = pop(); const f = pop(); stack.push(reduce(f, args)); break; } // REDUCE
      case 0x81: { const args = pop(); const cls = pop(); stack.push(reduce(cls, args)); break; } // NEWOBJ
      case 0x62: { const state = pop(); build(top(), state); break; } // BUILD
      default:
        throw new PickleError(`unsupported pickle opcode 0x${op.toString(16)} at byte ${pos - 1}`);
    }
  }
}

function fromMemo(memo: Map<number, Item>, key: number): Item {
  if (!memo.has(key)) throw new PickleError(`the pickle refers to memo ${key}, which it never stored`);
  return memo.get(key)!;
}

function longFrom(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return narrow(v);
}

function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function dictKey(k: Item): string | number {
  if (typeof k === 'string' || typeof k === 'number') return k;
  if (k instanceof Uint8Array) return Buffer.from(k).toString('latin1');
  throw new PickleError('a dict key that is not a string or a number');
}

function asValue(x: Item): PyValue {
  if (x === MARK || x instanceof Global || x instanceof Dtype) throw new PickleError('the pickle leaves a marker or a type where a value belongs');
  return x;
}

/** Tuples also carry call arguments, which may be classes and dtypes (they never leave the reader). */
function tuple(items: Item[]): PyTuple {
  if (items.includes(MARK)) throw new PickleError('a mark inside a tuple');
  return new PyTuple(items as PyValue[]);
}

function tupleItems(x: Item): readonly Item[] {
  if (x instanceof PyTuple) return x.items;
  throw new PickleError('expected a tuple of arguments');
}

function reduce(f: Item, args: Item): Item {
  if (!(f instanceof Global)) throw new PickleError('REDUCE on something that is not a known function');
  const a = tupleItems(args);
  switch (f.name) {
    case '_reconstruct':
    case 'ndarray':
      return new NdArray();
    case 'dtype':
      return new Dtype(String(a[0]));
    case '_frombuffer': {
      const [buf, dtype, shape] = a;
      const arr = new NdArray();
      fillArray(arr, shapeOf(shape ?? null), dtype instanceof Dtype ? dtype : null, buf ?? null);
      return arr;
    }
    case 'encode':
      return Buffer.from(String(a[0]), 'latin1');
    case 'bytes':
      return Uint8Array.from(Array.isArray(a[0]) ? a[0].map(Number) : []);
    case 'set':
    case 'frozenset':
      return Array.isArray(a[0]) ? [...a[0]] : [];
    default:
      throw new PickleError(`the pickle calls ${f.qualified}, which a ground-truth reader does not build`);
  }
}

function build(target: Item, state: Item): void {
  if (target instanceof Dtype) {
    const s = tupleItems(state);
    if (typeof s[1] === 'string') target.order = s[1];
    return;
  }
  if (target instanceof NdArray) {
    // (version, shape, dtype, is_fortran, raw data) — version is missing in very old pickles.
    const s = [...tupleItems(state)];
    if (s.length === 5) s.shift();
    const [shape, dtype, fortran, raw] = s;
    if (fortran === true && shapeOf(shape ?? null).length > 1) throw new PickleError('Fortran-ordered arrays are not read');
    fillArray(target, shapeOf(shape ?? null), dtype instanceof Dtype ? dtype : null, raw ?? null);
    return;
  }
  throw new PickleError('BUILD on an object that a ground-truth reader does not build');
}

function shapeOf(x: Item): number[] {
  if (x instanceof PyTuple) return x.items.map((v) => Number(v));
  if (typeof x === 'number') return [x];
  return [];
}

const DTYPES: Record<string, { size: number; read: (v: DataView, at: number, le: boolean) => number }> = {
  b1: { size: 1, read: (v, at) => v.getUint8(at) },
  i1: { size: 1, read: (v, at) => v.getInt8(at) },
  u1: { size: 1, read: (v, at) => v.getUint8(at) },
  i2: { size: 2, read: (v, at, le) => v.getInt16(at, le) },
  u2: { size: 2, read: (v, at, le) => v.getUint16(at, le) },
  i4: { size: 4, read: (v, at, le) => v.getInt32(at, le) },
  u4: { size: 4, read: (v, at, le) => v.getUint32(at, le) },
  i8: { size: 8, read: (v, at, le) => Number(v.getBigInt64(at, le)) },
  u8: { size: 8, read: (v, at, le) => Number(v.getBigUint64(at, le)) },
  f2: { size: 2, read: (v, at, le) => half(v.getUint16(at, le)) },
  f4: { size: 4, read: (v, at, le) => v.getFloat32(at, le) },
  f8: { size: 8, read: (v, at, le) => v.getFloat64(at, le) },
};

function half(h: number): number {
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  const s = h & 0x8000 ? -1 : 1;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function fillArray(arr: NdArray, shape: number[], dtype: Dtype | null, raw: Item): void {
  arr.shape = shape;
  if (Array.isArray(raw)) {
    arr.data = raw.map((v) => Number(v));
    return;
  }
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw instanceof Uint8Array ? raw : null;
  if (!bytes || !dtype) throw new PickleError('an array without data or dtype');
  const code = dtype.code.replace(/^[<>=|]/, '');
  const kind = DTYPES[code === 'bool' ? 'b1' : code];
  if (!kind) throw new PickleError(`arrays of ${dtype.code} are not read`);
  const le = dtype.order !== '>';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = shape.reduce((a, b) => a * b, 1);
  if (n * kind.size > bytes.length) throw new PickleError('an array shorter than its shape');
  arr.data = Array.from({ length: n }, (_, i) => kind.read(view, i * kind.size, le));
}

/** A value as a flat list of numbers (a list, a tuple or an array), or null. */
export function numbers(v: PyValue | undefined): number[] | null {
  if (v instanceof NdArray) return v.data;
  const items = Array.isArray(v) ? v : v instanceof PyTuple ? v.items : null;
  if (!items) return null;
  const out: number[] = [];
  for (const x of items) {
    if (typeof x === 'number' || typeof x === 'bigint') out.push(Number(x));
    else {
      const inner = numbers(x);
      if (!inner) return null;
      out.push(...inner);
    }
  }
  return out;
}

/** A value as a list of strings, or null. */
export function strings(v: PyValue | undefined): string[] | null {
  const items = Array.isArray(v) ? v : v instanceof PyTuple ? v.items : null;
  if (!items) return null;
  const out: string[] = [];
  for (const x of items) {
    if (typeof x === 'string') out.push(x);
    else if (x instanceof Uint8Array) out.push(Buffer.from(x).toString('utf8'));
    else return null;
  }
  return out;
}
