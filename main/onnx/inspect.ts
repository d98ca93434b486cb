/**
 * Just enough of an ONNX protobuf reader to find a CNN's last convolutional map and expose it:
 * classification exports end in a global pooling node whose input is that map, but do not list
 * it as a graph output. Large payloads (weights) are skipped by length, never copied.
 */
import { buildModel, DataType } from './proto.js';

interface Field {
  readonly field: number;
  readonly wire: number;
  /** Start of the tag, start and end of the value (payload for length-delimited fields). */
  readonly start: number;
  readonly valueStart: number;
  readonly end: number;
}

function varint(buf: Uint8Array, pos: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  for (let i = pos; i < buf.length; i++) {
    const b = buf[i]!;
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return { value, next: i + 1 };
    if (shift > 63) break;
  }
  throw new Error('not an ONNX model: malformed varint');
}

function* fields(buf: Uint8Array, from = 0, to = buf.length): Generator<Field> {
  let pos = from;
  while (pos < to) {
    const start = pos;
    const tag = varint(buf, pos);
    const field = Math.floor(tag.value / 8);
    const wire = tag.value & 7;
    pos = tag.next;
    let valueStart = pos;
    if (wire === 0) pos = varint(buf, pos).next;
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const len = varint(buf, pos);
      valueStart = len.next;
      pos = len.next + len.value;
    } else throw new Error(`not an ONNX model: wire type ${wire}`);
    if (pos > to) throw new Error('not an ONNX model: truncated field');
    yield { field, wire, start, valueStart, end: pos };
  }
}

const text = (buf: Uint8Array, f: Field): string => new TextDecoder().decode(buf.subarray(f.valueStart, f.end));

export interface NodeInfo {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

function graphField(model: Uint8Array): Field {
  for (const f of fields(model)) if (f.field === 7 && f.wire === 2) return f;
  throw new Error('not an ONNX model: no graph');
}

export function graphNodes(model: Uint8Array): NodeInfo[] {
  const g = graphField(model);
  const nodes: NodeInfo[] = [];
  for (const f of fields(model, g.valueStart, g.end)) {
    if (f.field !== 1 || f.wire !== 2) continue;
    const inputs: string[] = [];
    const outputs: string[] = [];
    let op = '';
    for (const n of fields(model, f.valueStart, f.end)) {
      if (n.field === 1) inputs.push(text(model, n));
      else if (n.field === 2) outputs.push(text(model, n));
      else if (n.field === 4) op = text(model, n);
    }
    nodes.push({ op, inputs, outputs });
  }
  return nodes;
}

export function graphOutputs(model: Uint8Array): string[] {
  const g = graphField(model);
  const names: string[] = [];
  for (const f of fields(model, g.valueStart, g.end)) {
    if (f.field !== 12 || f.wire !== 2) continue;
    for (const v of fields(model, f.valueStart, f.end)) if (v.field === 1) names.push(text(model, v));
  }
  return names;
}

/**
 * The last convolutional feature map of a classifier: the input of its final global pooling
 * (GlobalAveragePool, GlobalMaxPool, or ReduceMean over the spatial axes).
 */
export function lastFeatureMap(model: Uint8Array): string {
  const nodes = graphNodes(model);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (n.op === 'GlobalAveragePool' || n.op === 'GlobalMaxPool' || n.op === 'ReduceMean') return n.inputs[0]!;
  }
  throw new Error('the model has no global pooling node, so its last convolutional map cannot be found; name it in the pack manifest (featureOutput)');
}

function lengthPrefix(n: number): Uint8Array {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** The model with `name` (an intermediate float tensor) added to its graph outputs. */
export function withOutput(model: Uint8Array, name: string): Uint8Array {
  if (graphOutputs(model).includes(name)) return model;
  if (!graphNodes(model).some((n) => n.outputs.includes(name))) throw new Error(`the model computes no tensor named ${name}`);
  // Serialise a one-output graph and lift its ValueInfo (graph field 12) bytes out of it.
  const probe = buildModel({ name: 'p', nodes: [], inputs: [], outputs: [{ name, type: DataType.FLOAT, shape: [] }] });
  const pg = graphField(probe);
  let info: Uint8Array | null = null;
  for (const f of fields(probe, pg.valueStart, pg.end)) if (f.field === 12) info = probe.subarray(f.start, f.end);
  if (!info) throw new Error('internal: no value info');
  // An unknown rank, not rank 0: drop the (empty) shape from the tensor type.
  info = stripShape(info);
  const g = graphField(model);
  const payload = g.end - g.valueStart + info.length;
  const tag = Uint8Array.of((7 << 3) | 2);
  const len = lengthPrefix(payload);
  const out = new Uint8Array(g.start + tag.length + len.length + payload + (model.length - g.end));
  let o = 0;
  out.set(model.subarray(0, g.start), o); o += g.start;
  out.set(tag, o); o += tag.length;
  out.set(len, o); o += len.length;
  out.set(model.subarray(g.valueStart, g.end), o); o += g.end - g.valueStart;
  out.set(info, o); o += info.length;
  out.set(model.subarray(g.end), o);
  return out;
}

/** ValueInfo bytes (field 12 of a graph) re-encoded without a shape in their tensor type. */
function stripShape(info: Uint8Array): Uint8Array {
  const outer = [...fields(info)][0]!;
  const parts: Uint8Array[] = [];
  for (const f of fields(info, outer.valueStart, outer.end)) {
    if (f.field !== 2) { parts.push(info.subarray(f.start, f.end)); continue; }
    const tensor = [...fields(info, f.valueStart, f.end)][0]!; // TypeProto.tensor_type
    const elem = [...fields(info, tensor.valueStart, tensor.end)].filter((x) => x.field === 1).map((x) => info.subarray(x.start, x.end));
    parts.push(lenField(2, lenField(1, concat(elem))));
  }
  return lenField(12, concat(parts));
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function lenField(field: number, payload: Uint8Array): Uint8Array {
  return concat([Uint8Array.of((field << 3) | 2), lengthPrefix(payload.length), payload]);
}
