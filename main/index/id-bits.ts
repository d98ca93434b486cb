/**
 * A growable bitset of vector ids with a count: the index's tombstones and its record of which
 * ids it holds. `bytes` is exposed so the scan loop can test membership inline.
 */
export class IdBits {
  bytes = new Uint8Array(1024);
  count = 0;

  has(id: number): boolean {
    const b = id >> 3;
    return b < this.bytes.length && (this.bytes[b]! & (1 << (id & 7))) !== 0;
  }

  /** Sets the bit; false when it was already set. */
  add(id: number): boolean {
    if (id >> 3 >= this.bytes.length) {
      const next = new Uint8Array(Math.max((id >> 3) + 1, this.bytes.length * 2));
      next.set(this.bytes);
      this.bytes = next;
    }
    const bit = 1 << (id & 7);
    if ((this.bytes[id >> 3]! & bit) !== 0) return false;
    this.bytes[id >> 3]! |= bit;
    this.count++;
    return true;
  }

  delete(id: number): void {
    if (!this.has(id)) return;
    this.bytes[id >> 3]! &= ~(1 << (id & 7));
    this.count--;
  }

  clear(): void {
    this.bytes.fill(0);
    this.count = 0;
  }

  /** The ids set, ascending. */
  *ids(): Generator<number> {
    for (let b = 0; b < this.bytes.length; b++) {
      const v = this.bytes[b]!;
      if (v === 0) continue;
      for (let k = 0; k < 8; k++) if (v & (1 << k)) yield (b << 3) | k;
    }
  }
}
