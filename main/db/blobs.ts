/**
 * Numeric arrays stored as SQLite BLOBs (native little-endian bytes). Reads copy the bytes out,
 * so the array owns its memory and stays valid after better-sqlite3 reuses its buffers.
 */

export function toBlob(a: Float32Array | Float64Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

export function float32s(b: Buffer): Float32Array {
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

export function float64s(b: Buffer): Float64Array {
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}
