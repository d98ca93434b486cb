/**
 * Keeps the k smallest distances seen, each with an integer payload, in a bounded max-heap on
 * typed arrays: push is O(log k) and most candidates are rejected by one comparison with `worst`.
 */
export class TopK {
  readonly dist: Float32Array;
  readonly ids: Int32Array;
  size = 0;

  constructor(readonly k: number) {
    this.dist = new Float32Array(Math.max(1, k));
    this.ids = new Int32Array(Math.max(1, k));
  }

  reset(): void {
    this.size = 0;
  }

  /** The distance a candidate must beat to enter (Infinity until full). */
  get worst(): number {
    return this.size < this.k ? Infinity : this.dist[0]!;
  }

  push(d: number, id: number): void {
    if (this.k === 0) return;
    const { dist, ids } = this;
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (dist[p]! >= d) break;
        dist[i] = dist[p]!;
        ids[i] = ids[p]!;
        i = p;
      }
      dist[i] = d;
      ids[i] = id;
      return;
    }
    if (d >= dist[0]!) return;
    this.siftDown(d, id);
  }

  private siftDown(d: number, id: number): void {
    const { dist, ids, size } = this;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) break;
      const r = l + 1;
      const c = r < size && dist[r]! > dist[l]! ? r : l;
      if (dist[c]! <= d) break;
      dist[i] = dist[c]!;
      ids[i] = ids[c]!;
      i = c;
    }
    dist[i] = d;
    ids[i] = id;
  }

  /** Entries sorted by ascending distance (ties by payload, for deterministic output). */
  sorted(): { dist: number; id: number }[] {
    const out: { dist: number; id: number }[] = [];
    for (let i = 0; i < this.size; i++) out.push({ dist: this.dist[i]!, id: this.ids[i]! });
    return out.sort((a, b) => a.dist - b.dist || a.id - b.id);
  }
}
