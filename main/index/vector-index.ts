/**
 * A persistent vector index for one embedding space: flat (exact) while small, IVF-PQ with exact
 * float16 re-ranking once trained. Entries are (id, item, region): id is the source row of the
 * vector, item the thing it describes (a photo's content), region which part of it.
 *
 * Durability: the files named by the manifest are immutable; every change is a new file
 * (fsync, rename) and then a new manifest. Additions since the last flush live in memory and
 * are replayed from the source (SQLite) when the index is opened. Damaged files are detected
 * at open (or, for vector records, when read) and the index is rebuilt from the source.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Assigner } from './assign.js';
import { defaultAssigner } from './assign.js';
import { readManifest, readQuantizer, readTombstones, writeManifest, writeQuantizer, writeTombstones, type Manifest, type SegmentRef } from './files.js';
import { encodeVectors, encodeVectorsSync, FLAT_LIMIT, retrainReason, rotateQuery, trainQuantizer, type OpqMode, type Quantizer, type RetrainReason } from './ivf.js';
import { dot, encodeHalf, fromHalf, l2sq } from './kernels.js';
import { innerTable, KSUB } from './pq.js';
import { FileSegment, IndexCorruptError, MemSegment, packSegment, writeSegment, type Segment, type SegmentData, type UnsortedEntries } from './segment.js';
import { IdBits } from './id-bits.js';
import { TopK } from './topk.js';
import { QueryKernels, simdCapable } from './wasm/query-kernels.js';
import { TMP_SUFFIX } from '../util/atomic.js';

export interface IndexEntry {
  readonly id: number;
  readonly item: number;
  readonly region: number;
  readonly vector: Float32Array;
}

/** Columnar batch for bulk loading. */
export interface EntryColumns {
  readonly ids: Uint32Array;
  readonly items: Uint32Array;
  readonly regions: Uint16Array;
  /** ids.length × dim */
  readonly vectors: Float32Array;
}

/** Where the index's vectors come from and how it catches up after a restart or a rebuild. */
export interface VectorSource {
  /** Entries with id > afterId, ascending, in batches. */
  entries(afterId: number): Iterable<IndexEntry[]>;
  /** Ids of vectors deleted after a deletion sequence number, and the newest sequence number. */
  deletions(afterSeq: number): { ids: number[]; lastSeq: number };
}

/** Where the indexes of every space are fed from (the library's vector store, db/repos/vectors.ts). */
export interface VectorSources {
  source(space: string): VectorSource;
  /** Forgets a space's deletion-log entries its index has applied. */
  pruneDeletions(space: string, appliedSeq: number): void;
}

export interface SearchOptions {
  readonly k?: number;
  /** Inverted lists probed; defaults to DEFAULT_NPROBE (capped at nlist). */
  readonly nprobe?: number;
  /** Candidates re-ranked with their float16 vectors. */
  readonly rerank?: number;
  /** One hit per item (its best region). Default true. */
  readonly groupByItem?: boolean;
  readonly filter?: (item: number) => boolean;
}

export interface SearchHit {
  readonly id: number;
  readonly item: number;
  readonly region: number;
  /** Squared Euclidean distance. */
  readonly distance: number;
  /** Cosine similarity for unit vectors (1 − d²/2). */
  readonly score: number;
}

export interface OpenOptions {
  readonly dim: number;
  readonly source?: VectorSource;
  readonly assigner?: Assigner;
  readonly opq?: OpqMode;
  /** PQ bytes per vector; see chooseM. */
  readonly m?: number;
  /** Coarse lists; by default chosen from the collection size when training. */
  readonly nlist?: number;
  readonly seed?: number;
  /**
   * Vectors kept flat (exact search) before IVF-PQ is trained; default FLAT_LIMIT. 0 forces
   * IVF-PQ at any size and Infinity keeps the index exact: the evaluation compares the two.
   */
  readonly flatLimit?: number;
  /** Use the WebAssembly SIMD kernels when the shape allows (default true; false is the JS reference path). */
  readonly simd?: boolean;
  /** Told about damage found and repairs made; defaults to silence. */
  readonly log?: (message: string) => void;
}

export type MaintenanceAction = RetrainReason | 'compact' | 'repair' | null;

export const DEFAULT_NPROBE = 32;
export const DEFAULT_RERANK = 100;
/** Compaction when more than this many segments, or this fraction of entries are deleted. */
export const MAX_SEGMENTS = 6;
export const MAX_DELETED_FRACTION = 0.1;
/** An unflushed memory segment larger than this is flushed by maintain(). */
export const MEM_FLUSH = 20_000;

const FILE_PATTERN = /^(seg-|quant-|tomb-).+\.(ivf|vec|bin)$/;

export class VectorIndex {
  private quantizer: Quantizer | null = null;
  /** The quantizer's file name in the current manifest. */
  private quantizerName: string | null = null;
  private segments: FileSegment[] = [];
  private mem: MemSegment;
  private readonly tombstones = new IdBits();
  /** Which ids have an entry (so deletions of unknown ids are ignored and size is exact). */
  private readonly present = new IdBits();
  private generation = 0;
  private appliedId = 0;
  private appliedDeletionSeq = 0;
  private addedSinceTrain = 0;
  private recentErrorSum = 0;
  private dirty = false;
  private damaged: string | null = null;
  private busy = false;
  /** Cached float vectors of flat file segments (flat indexes are small by definition). */
  private flatCache = new Map<FileSegment, Float32Array>();
  /** SIMD kernels for the current quantizer (null while flat or for shapes they do not take). */
  private kernelsFor: Quantizer | null = null;
  private kernelsCache: QueryKernels | null = null;
  private readonly rotated: Float32Array;
  private readonly scratchV: Float32Array;
  private readonly table: Float64Array;

  /** Loaded on first training or bulk encode: a process that only searches never loads onnxruntime. */
  private assignerPromise: Promise<Assigner> | null = null;

  private constructor(
    readonly dir: string,
    readonly dim: number,
    private readonly options: OpenOptions,
  ) {
    this.mem = new MemSegment(1, 0, dim);
    this.rotated = new Float32Array(dim);
    this.scratchV = new Float32Array(dim);
    this.table = new Float64Array(256 * 256);
  }

  private get flatLimit(): number {
    return this.options.flatLimit ?? FLAT_LIMIT;
  }

  static async open(dir: string, options: OpenOptions): Promise<VectorIndex> {
    mkdirSync(dir, { recursive: true });
    const index = new VectorIndex(dir, options.dim, options);
    try {
      await index.load();
    } catch (err) {
      if (!(err instanceof IndexCorruptError) || !options.source) throw err;
      index.log(`${err.message}; rebuilding from stored vectors`);
      await index.rebuild();
      return index;
    }
    if (options.source) index.sync();
    return index;
  }

  private assigner(): Promise<Assigner> {
    this.assignerPromise ??= this.options.assigner ? Promise.resolve(this.options.assigner) : defaultAssigner();
    return this.assignerPromise;
  }

  private log(message: string): void {
    this.options.log?.(message);
  }

  /** Live entries (deleted ones excluded). */
  get size(): number {
    return this.present.count - this.tombstones.count;
  }

  get isFlat(): boolean {
    return this.quantizer === null;
  }

  get nlist(): number {
    return this.quantizer?.nlist ?? 1;
  }

  get usesRotation(): boolean {
    return this.quantizer?.rotation != null;
  }

  /** The source deletion sequence number this index has applied (the log can be pruned up to the minimum over spaces). */
  get appliedDeletions(): number {
    return this.appliedDeletionSeq;
  }

  /** Why the index needs repair (a damaged vector record was read), or null. */
  get damage(): string | null {
    return this.damaged;
  }

  private async load(): Promise<void> {
    const m = await readManifest(this.dir);
    this.sweep(m);
    if (!m) return;
    if (m.dim !== this.dim) throw new IndexCorruptError('manifest.json', `dimension ${m.dim}, expected ${this.dim}`);
    const quantizer = m.quantizer ? await readQuantizer(this.dir, m.quantizer) : null;
    if (quantizer && (quantizer.d !== m.dim || quantizer.nlist !== m.nlist || quantizer.shape.m !== m.m)) throw new IndexCorruptError(`${m.quantizer}.bin`, 'shape differs from the manifest');
    const tomb = m.tombstones ? await readTombstones(this.dir, m.tombstones) : new Uint32Array(0);
    const segments: FileSegment[] = [];
    try {
      for (const ref of m.segments)
        segments.push(FileSegment.open(this.dir, ref.name, { d: m.dim, nlist: m.nlist, m: m.m, count: ref.count }));
      if (!quantizer) for (const s of segments) this.flatCache.set(s, halvesToFloats(s.readAll().halves));
    } catch (err) {
      for (const s of segments) s.close();
      this.flatCache.clear();
      throw err;
    }
    this.quantizer = quantizer;
    this.quantizerName = m.quantizer;
    this.segments = segments;
    this.mem = new MemSegment(m.nlist, m.m, this.dim);
    this.resetPresence(segments);
    for (const id of tomb) this.tombstones.add(id);
    this.generation = m.generation;
    this.appliedId = m.appliedId;
    this.appliedDeletionSeq = m.appliedDeletionSeq;
    this.addedSinceTrain = m.addedSinceTrain;
    this.recentErrorSum = m.recentErrorSum;
  }

  /** Deletes files the manifest does not name: leftovers of a crash mid-write or of old generations. */
  private sweep(m: Manifest | null): void {
    const keep = new Set<string>();
    if (m) {
      for (const s of m.segments) keep.add(`${s.name}.ivf`).add(`${s.name}.vec`);
      if (m.quantizer) keep.add(`${m.quantizer}.bin`);
      if (m.tombstones) keep.add(`${m.tombstones}.bin`);
    }
    for (const f of readdirSync(this.dir)) {
      if (f.endsWith(TMP_SUFFIX) || (FILE_PATTERN.test(f) && !keep.has(f))) rmSync(join(this.dir, f), { force: true });
    }
  }

  /**
   * Applies what the source gained and lost since this index last looked: vectors with higher ids
   * and the deletion log. Called at open, and by the engine after it commits vectors.
   */
  sync(): void {
    const source = this.options.source;
    if (!source) return;
    for (const batch of source.entries(this.appliedId)) this.add(batch);
    const del = source.deletions(this.appliedDeletionSeq);
    this.remove(del.ids);
    if (del.lastSeq !== this.appliedDeletionSeq) {
      this.appliedDeletionSeq = del.lastSeq;
      this.dirty = true;
    }
  }

  private resetPresence(segments: readonly Segment[]): void {
    this.present.clear();
    for (const s of segments) {
      for (let l = 0; l < s.nlist; l++) {
        const b = s.list(l);
        for (let i = 0; i < b.count; i++) this.present.add(b.ids[i]!);
      }
    }
  }

  /** Adds a small batch now (encoded on this thread); visible to search at once. */
  add(entries: readonly IndexEntry[]): void {
    if (entries.length === 0) return;
    const d = this.dim;
    const x = new Float32Array(entries.length * d);
    entries.forEach((e, i) => {
      if (e.vector.length !== d) throw new RangeError(`vector ${e.id} has dimension ${e.vector.length}, expected ${d}`);
      x.set(e.vector, i * d);
    });
    const q = this.quantizer;
    if (!q) {
      const none = new Uint8Array(0);
      entries.forEach((e, i) => this.mem.push(0, none, 0, e.id, e.item, e.region, x.subarray(i * d, i * d + d)));
    } else {
      const enc = encodeVectorsSync(q, x, entries.length);
      const m = q.shape.m;
      entries.forEach((e, i) =>
        this.mem.push(
          enc.lists[i]!,
          enc.codes.subarray(i * m, i * m + m),
          enc.terms[i]!,
          e.id,
          e.item,
          e.region,
          x.subarray(i * d, i * d + d),
        ),
      );
      this.addedSinceTrain += entries.length;
      this.recentErrorSum += enc.errorSum;
    }
    for (const e of entries) {
      this.appliedId = Math.max(this.appliedId, e.id);
      this.present.add(e.id);
    }
    this.dirty = true;
  }

  /**
   * Adds many entries at once (the initial build of a large collection): trains the quantizer if
   * the index is flat and would outgrow FLAT_LIMIT, encodes with the assigner, and writes one new
   * segment. Everything added before is kept.
   */
  async addMany(cols: EntryColumns): Promise<void> {
    const n = cols.ids.length;
    if (n === 0) return;
    if (this.quantizer === null && this.size + n <= this.flatLimit) {
      const d = this.dim;
      this.add(
        Array.from({ length: n }, (_, i) => ({
          id: cols.ids[i]!,
          item: cols.items[i]!,
          region: cols.regions[i]!,
          vector: cols.vectors.subarray(i * d, i * d + d),
        })),
      );
      return;
    }
    await this.exclusive(async () => {
      const snap = this.snapshot();
      const all = concatColumns(this.liveEntries(), cols);
      if (!this.quantizer) {
        await this.rebuildWith(all, 'train', snap);
      } else {
        const data = await this.encodeAll(this.quantizer, all, all.ids.length);
        this.addedSinceTrain += n;
        this.recentErrorSum += (data.errorSum * n) / all.ids.length;
        await this.replaceAll(this.quantizer, data.segment, snap, false);
      }
      for (const id of cols.ids) this.appliedId = Math.max(this.appliedId, id);
    });
  }

  /** Marks vectors deleted (tombstones); they disappear from results at once. Unknown ids are ignored. */
  remove(ids: Iterable<number>): void {
    for (const id of ids) {
      if (this.present.has(id) && this.tombstones.add(id)) {
        this.dirty = true;
      }
    }
  }

  /** Records that the source's deletions up to seq are applied (persisted at the next flush). */
  noteDeletionSeq(seq: number): void {
    if (seq > this.appliedDeletionSeq) {
      this.appliedDeletionSeq = seq;
      this.dirty = true;
    }
  }

  search(query: Float32Array, options: SearchOptions = {}): SearchHit[] {
    if (query.length !== this.dim) throw new RangeError(`query has dimension ${query.length}, expected ${this.dim}`);
    const k = options.k ?? 10;
    const group = options.groupByItem ?? true;
    const candidates = this.quantizer ? this.approximate(query, this.quantizer, options, k) : this.exact(query, options, group ? k * 8 : k);
    return finish(candidates, k, group);
  }

  private exact(query: Float32Array, options: SearchOptions, pool: number): Candidate[] {
    const heap = new TopK(Math.max(pool, 1));
    const found: Candidate[] = [];
    const d = this.dim;
    const consider = (seg: Segment, floats: Float32Array | null): void => {
      const b = seg.list(0);
      for (let i = 0; i < b.count; i++) {
        const id = b.ids[i]!;
        if (this.tombstones.has(id) || (options.filter && !options.filter(b.items[i]!))) continue;
        const pos = b.positions ? b.positions[i]! : b.start + i;
        let dist: number;
        if (floats) dist = l2sq(query, 0, floats, pos * d, d);
        else {
          seg.vector(pos, this.scratchV);
          dist = l2sq(query, 0, this.scratchV, 0, d);
        }
        if (dist < heap.worst) {
          heap.push(dist, found.length);
          found.push({ id, item: b.items[i]!, region: b.regions[i]!, distance: dist });
        }
      }
    };
    for (const s of this.segments) consider(s, this.flatCache.get(s) ?? null);
    consider(this.mem, null);
    return heap.sorted().map((e) => found[e.id]!);
  }

  private approximate(query: Float32Array, q: Quantizer, options: SearchOptions, k: number): Candidate[] {
    const { d, nlist, shape, centroids, centroidNorms } = q;
    const m = shape.m;
    const nprobe = Math.min(nlist, Math.max(1, options.nprobe ?? DEFAULT_NPROBE));
    const rerank = Math.max(k, options.rerank ?? DEFAULT_RERANK);
    const kern = this.kernels;
    const qn = dot(query, 0, query, 0, d);
    const probes = new TopK(nprobe);
    if (kern) {
      const dots = kern.centroidDots(query);
      for (let j = 0; j < nlist; j++) {
        const dist = qn + centroidNorms[j]! - 2 * dots[j]!;
        if (dist < probes.worst) probes.push(dist, j);
      }
    } else {
      for (let j = 0; j < nlist; j++) {
        const dist = qn + centroidNorms[j]! - 2 * dot(query, 0, centroids, j * d, d);
        if (dist < probes.worst) probes.push(dist, j);
      }
    }
    const table = this.table.subarray(0, m * KSUB);
    if (kern) kern.buildTable(kern.rotated());
    else {
      innerTable(rotateQuery(q, query, this.rotated), q.codebooks, shape, table);
      for (let i = 0; i < m * KSUB; i++) table[i] = -2 * table[i]!;
    }
    const heap = new TopK(rerank);
    const cSeg: number[] = [];
    const cPos: number[] = [];
    const cId: number[] = [];
    const cItem: number[] = [];
    const cRegion: number[] = [];
    const segs: Segment[] = [...this.segments, this.mem];
    const filter = options.filter;
    const tomb = this.tombstones.bytes;
    const tombLen = tomb.length;
    for (let p = 0; p < probes.size; p++) {
      const list = probes.ids[p]!;
      const base = probes.dist[p]!;
      for (let s = 0; s < segs.length; s++) {
        const b = segs[s]!.list(list);
        if (b.count === 0) continue;
        const { ids, items } = b;
        const dists = kern ? kern.scan(b.codes, b.terms, b.count, base) : adcJs(table, b.codes, b.terms, b.count, m, base);
        for (let i = 0; i < b.count; i++) {
          const dist = dists[i]!;
          if (dist >= heap.worst) continue;
          const id = ids[i]!;
          const byte = id >> 3;
          if (byte < tombLen && (tomb[byte]! & (1 << (id & 7))) !== 0) continue;
          if (filter && !filter(items[i]!)) continue;
          heap.push(dist, cSeg.length);
          cSeg.push(s);
          cPos.push(b.positions ? b.positions[i]! : b.start + i);
          cId.push(id);
          cItem.push(items[i]!);
          cRegion.push(b.regions[i]!);
        }
      }
    }
    const out: Candidate[] = [];
    const exact = new Float64Array(heap.size).fill(NaN);
    const v = this.scratchV;
    if (kern) {
      // File-backed candidates: read their records straight into wasm memory, then one SIMD pass.
      const slots: number[] = [];
      for (let i = 0; i < heap.size; i++) if (segs[cSeg[heap.ids[i]!]!] instanceof FileSegment) slots.push(i);
      const recs = kern.records(slots.length);
      const rb = kern.recordBytes;
      const ok: boolean[] = slots.map((i, j) => {
        const c = heap.ids[i]!;
        return (segs[cSeg[c]!] as FileSegment).readRecord(cPos[c]!, recs.subarray(j * rb, (j + 1) * rb));
      });
      const l2 = kern.rerank(slots.length);
      slots.forEach((i, j) => {
        if (ok[j]) exact[i] = l2[j]!;
      });
    }
    for (let i = 0; i < heap.size; i++) {
      const c = heap.ids[i]!;
      let dist = exact[i]!;
      if (Number.isNaN(dist)) {
        const seg = segs[cSeg[c]!]!;
        if (seg.vector(cPos[c]!, v)) dist = l2sq(query, 0, v, 0, d);
        else {
          dist = heap.dist[i]!;
          this.flagDamage(`vector record ${cPos[c]!} of ${this.segmentName(seg)} failed its checksum`);
        }
      }
      out.push({ id: cId[c]!, item: cItem[c]!, region: cRegion[c]!, distance: dist });
    }
    return out.sort((a, b) => a.distance - b.distance || a.id - b.id);
  }

  private get kernels(): QueryKernels | null {
    const q = this.quantizer;
    if (q !== this.kernelsFor) {
      this.kernelsFor = q;
      this.kernelsCache = q && simdCapable(q) && this.options.simd !== false ? new QueryKernels(q) : null;
    }
    return this.kernelsCache;
  }

  private segmentName(s: Segment): string {
    return s instanceof FileSegment ? s.name : 'memory';
  }

  private flagDamage(reason: string): void {
    if (this.damaged) return;
    this.damaged = reason;
    this.log(`index damaged: ${reason}; it will be rebuilt from stored vectors`);
  }

  /** Persists everything added or deleted since the last flush (no-op when nothing changed). */
  async flush(): Promise<void> {
    await this.exclusive(() => this.flushNow());
  }

  private async flushNow(): Promise<void> {
    if (!this.dirty) return;
    const gen = this.generation + 1;
    const refs: SegmentRef[] = this.segments.map((s) => ({ name: s.name, count: s.count }));
    let added: FileSegment | null = null;
    if (this.mem.count > 0) {
      const name = `seg-g${gen}`;
      const data = this.mem.readAll();
      await writeSegment(this.dir, name, data);
      added = FileSegment.open(this.dir, name, { d: this.dim, nlist: this.nlist, m: this.quantizer?.shape.m ?? 0, count: data.ids.length });
      refs.push({ name, count: data.ids.length });
      if (!this.quantizer) this.flatCache.set(added, halvesToFloats(data.halves));
    }
    const tombName = this.tombstones.count > 0 ? `tomb-g${gen}` : null;
    if (tombName) await writeTombstones(this.dir, tombName, this.tombstones.ids());
    const manifest = this.manifest(gen, this.quantizerName, refs, tombName);
    await writeManifest(this.dir, manifest);
    this.generation = gen;
    if (added) this.segments.push(added);
    this.mem = new MemSegment(this.nlist, this.quantizer?.shape.m ?? 0, this.dim);
    this.dirty = false;
    this.sweep(manifest);
  }

  private manifest(gen: number, quantizer: string | null, segments: SegmentRef[], tombstones: string | null): Manifest {
    return {
      format: 1,
      generation: gen,
      dim: this.dim,
      quantizer,
      nlist: this.nlist,
      m: this.quantizer?.shape.m ?? 0,
      segments,
      tombstones,
      appliedId: this.appliedId,
      appliedDeletionSeq: this.appliedDeletionSeq,
      addedSinceTrain: this.addedSinceTrain,
      recentErrorSum: this.recentErrorSum,
    };
  }

  /** What maintain() would do now. */
  plannedMaintenance(): MaintenanceAction {
    if (this.damaged) return 'repair';
    const q = this.quantizer;
    const count = this.size;
    const reason = retrainReason({
      count,
      flat: q === null,
      nlist: q?.nlist ?? 1,
      trainedCount: q?.trainedCount ?? 0,
      addedSinceTrain: this.addedSinceTrain,
      recentDistortion: this.addedSinceTrain > 0 ? this.recentErrorSum / this.addedSinceTrain : 0,
      trainDistortion: q?.distortion ?? 0,
    }, this.flatLimit);
    if (reason) return reason;
    const deleted = this.tombstones.count;
    if (this.segments.length > MAX_SEGMENTS || (deleted > 0 && deleted > MAX_DELETED_FRACTION * (count + deleted))) return 'compact';
    return null;
  }

  /**
   * Background upkeep: repairs, trains or retrains, or compacts as the recorded rules say, else
   * flushes a large memory segment. Searches keep using the current files until the new ones are
   * complete; entries added meanwhile are carried over.
   */
  async maintain(): Promise<MaintenanceAction> {
    const action = this.plannedMaintenance();
    if (action === 'repair') {
      await this.rebuild();
      return action;
    }
    if (action === null) {
      if (this.mem.count >= MEM_FLUSH) await this.flush();
      return null;
    }
    await this.exclusive(async () => {
      const snap = this.snapshot();
      if (action === 'compact' && this.quantizer) {
        await this.compact(this.quantizer, snap);
        return;
      }
      const live = this.liveEntries();
      if (action === 'shrunk') {
        await this.replaceAll(null, flatSegment(live, this.dim), snap, true);
        return;
      }
      await this.rebuildWith(live, action === 'compact' ? 'train' : action, snap);
    });
    return action;
  }

  /** Discards the index files and rebuilds from the source (or from the entries still readable). */
  async rebuild(): Promise<void> {
    const source = this.options.source;
    if (!source) throw new IndexCorruptError('index', this.damaged ?? 'cannot rebuild without a vector source');
    await this.exclusive(async () => {
      for (const s of this.segments) s.close();
      this.segments = [];
      this.flatCache.clear();
      this.quantizer = null;
      this.quantizerName = null;
      this.mem = new MemSegment(1, 0, this.dim);
      this.tombstones.clear();
      this.present.clear();
      // Never reuse a generation number a damaged manifest may still name.
      this.generation = Math.max(this.generation, highestGeneration(this.dir));
      this.appliedId = 0;
      this.addedSinceTrain = 0;
      this.recentErrorSum = 0;
      this.damaged = null;
      const del = source.deletions(0);
      this.appliedDeletionSeq = del.lastSeq;
      const batches: IndexEntry[][] = [...source.entries(0)];
      const all = entriesToColumns(batches.flat(), this.dim);
      for (const id of all.ids) this.appliedId = Math.max(this.appliedId, id);
      await this.rebuildWith(all, 'train', this.snapshot());
    });
  }

  private async rebuildWith(all: EntryColumns, reason: RetrainReason, snap: Snapshot): Promise<void> {
    const n = all.ids.length;
    if (n <= this.flatLimit || n === 0) {
      await this.replaceAll(null, flatSegment(all, this.dim), snap, true);
      return;
    }
    // Below the usual training size (only when the flat limit was lowered) fewer lists, so each has ~39 vectors.
    const nlist = this.options.nlist ?? (n < 16 * 39 ? 2 ** Math.floor(Math.log2(n / 39 + 1)) : undefined);
    const q = await trainQuantizer(all.vectors, n, this.dim, await this.assigner(), { opq: this.options.opq ?? 'auto', seed: this.options.seed, m: this.options.m, nlist });
    this.log(`index trained (${reason}): ${n} vectors, nlist ${q.nlist}, m ${q.shape.m}${q.rotation ? ', OPQ' : ''}`);
    const data = await this.encodeAll(q, all, n);
    await this.replaceAll(q, data.segment, snap, true);
  }

  private async encodeAll(q: Quantizer, all: EntryColumns, n: number): Promise<{ segment: SegmentData; errorSum: number }> {
    const enc = await encodeVectors(q, all.vectors, n, await this.assigner());
    const halves = new Uint16Array(n * this.dim);
    encodeHalf(all.vectors, halves);
    const unsorted: UnsortedEntries = {
      lists: enc.lists,
      codes: enc.codes,
      terms: enc.terms,
      ids: all.ids,
      items: all.items,
      regions: all.regions,
      halves,
    };
    return { segment: packSegment(unsorted, this.dim, q.nlist, q.shape.m), errorSum: enc.errorSum };
  }

  private async compact(q: Quantizer, snap: Snapshot): Promise<void> {
    const parts = [...this.segments.map((s) => s.readAll()), this.mem.readAll()];
    const lists: number[] = [];
    const keep: { part: SegmentData; pos: number; list: number }[] = [];
    for (const part of parts) {
      for (let l = 0; l < part.nlist; l++) {
        for (let p = part.offsets[l]!; p < part.offsets[l + 1]!; p++) {
          if (!this.tombstones.has(part.ids[p]!)) {
            keep.push({ part, pos: p, list: l });
            lists.push(l);
          }
        }
      }
    }
    const n = keep.length;
    const { m } = q.shape;
    const d = this.dim;
    const u: UnsortedEntries = {
      lists: Int32Array.from(lists),
      codes: new Uint8Array(n * m),
      terms: new Float32Array(n),
      ids: new Uint32Array(n),
      items: new Uint32Array(n),
      regions: new Uint16Array(n),
      halves: new Uint16Array(n * d),
    };
    keep.forEach((e, i) => {
      u.codes.set(e.part.codes.subarray(e.pos * m, e.pos * m + m), i * m);
      u.terms[i] = e.part.terms[e.pos]!;
      u.ids[i] = e.part.ids[e.pos]!;
      u.items[i] = e.part.items[e.pos]!;
      u.regions[i] = e.part.regions[e.pos]!;
      u.halves.set(e.part.halves.subarray(e.pos * d, e.pos * d + d), i * d);
    });
    await this.replaceAll(q, packSegment(u, d, q.nlist, m), snap, false);
  }

  /** What the index looked like when a replacement started being built from it. */
  private snapshot(): Snapshot {
    return { memCount: this.mem.count, tombstones: new Set(this.tombstones.ids()) };
  }

  /**
   * Makes `segment` (encoded with `q`) the whole index: writes it and the quantizer as new files,
   * then a new manifest, then swaps them in. Entries added to memory after the snapshot are
   * re-encoded for the new quantizer; tombstones of entries left out of the segment are dropped
   * only after the swap, so a deleted entry never reappears in between.
   */
  private async replaceAll(q: Quantizer | null, segment: SegmentData, snap: Snapshot, retrained: boolean): Promise<void> {
    const gen = this.generation + 1;
    const segName = `seg-g${gen}`;
    const qName = q ? `quant-g${gen}` : null;
    if (q && qName) await writeQuantizer(this.dir, qName, q);
    await writeSegment(this.dir, segName, segment);
    const opened = FileSegment.open(this.dir, segName, {
      d: this.dim,
      nlist: q?.nlist ?? 1,
      m: q?.shape.m ?? 0,
      count: segment.ids.length,
    });
    const previousSegments = this.segments;
    const pendingMem = this.mem;
    this.quantizer = q;
    this.segments = [opened];
    this.flatCache.clear();
    if (!q) this.flatCache.set(opened, halvesToFloats(segment.halves));
    if (retrained) {
      this.addedSinceTrain = 0;
      this.recentErrorSum = 0;
    }
    this.mem = new MemSegment(this.nlist, q?.shape.m ?? 0, this.dim);
    this.resetPresence([opened]);
    if (pendingMem.count > snap.memCount) {
      const carried = pendingMem.unsorted();
      const d = this.dim;
      const batch: IndexEntry[] = [];
      for (let i = snap.memCount; i < carried.ids.length; i++) {
        batch.push({
          id: carried.ids[i]!,
          item: carried.items[i]!,
          region: carried.regions[i]!,
          vector: carried.vectors.subarray(i * d, i * d + d),
        });
      }
      this.add(batch);
    }
    for (const id of snap.tombstones) this.tombstones.delete(id);
    // Deletions that arrived during the rebuild: keep those whose entries made it into the new index.
    for (const id of [...this.tombstones.ids()]) if (!this.present.has(id)) this.tombstones.delete(id);
    const tombName = this.tombstones.count > 0 ? `tomb-g${gen}` : null;
    if (tombName) await writeTombstones(this.dir, tombName, this.tombstones.ids());
    const manifest = this.manifest(gen, qName, [{ name: segName, count: segment.ids.length }], tombName);
    await writeManifest(this.dir, manifest);
    this.quantizerName = qName;
    this.generation = gen;
    this.dirty = this.mem.count > 0;
    for (const s of previousSegments) s.close();
    this.sweep(manifest);
  }

  /** All live entries (segments and memory) as float32 columns. */
  private liveEntries(): EntryColumns {
    const parts: EntryColumns[] = [];
    for (const s of this.segments) parts.push(dataToColumns(s.readAll()));
    const mem = this.mem.unsorted();
    parts.push({ ids: mem.ids, items: mem.items, regions: mem.regions, vectors: mem.vectors.slice() });
    const all = parts.reduce(concatColumns, emptyColumns());
    return filterColumns(all, (id) => !this.tombstones.has(id), this.dim);
  }

  /** Runs index-replacing work one at a time; search continues meanwhile. */
  private async exclusive<T>(work: () => Promise<T>): Promise<T> {
    while (this.busy) await new Promise((r) => setTimeout(r, 5));
    this.busy = true;
    try {
      return await work();
    } finally {
      this.busy = false;
    }
  }

  async close(): Promise<void> {
    await this.flush();
    for (const s of this.segments) s.close();
    this.segments = [];
    // An assigner the index created is its own to release; one passed in belongs to the caller.
    if (this.assignerPromise && !this.options.assigner) await (await this.assignerPromise).close();
    this.assignerPromise = null;
  }

  /** Closes without flushing (what a crash leaves behind; used by tests). */
  abandon(): void {
    for (const s of this.segments) s.close();
    this.segments = [];
  }
}

interface Snapshot {
  readonly memCount: number;
  readonly tombstones: ReadonlySet<number>;
}

interface Candidate {
  readonly id: number;
  readonly item: number;
  readonly region: number;
  readonly distance: number;
}

function finish(sorted: readonly Candidate[], k: number, group: boolean): SearchHit[] {
  const out: SearchHit[] = [];
  const seen = new Set<number>();
  for (const c of sorted) {
    if (group) {
      if (seen.has(c.item)) continue;
      seen.add(c.item);
    }
    out.push({ ...c, score: 1 - c.distance / 2 });
    if (out.length === k) break;
  }
  return out;
}

function highestGeneration(dir: string): number {
  let g = 0;
  for (const f of readdirSync(dir)) {
    const m = /-g(\d+)/.exec(f);
    if (m) g = Math.max(g, Number(m[1]));
  }
  return g;
}

const adcScratch = { out: new Float64Array(1024) };

/** ADC in plain JS, for shapes the SIMD kernels do not take. */
function adcJs(table: Float64Array, codes: Uint8Array, terms: Float32Array, n: number, m: number, base: number): Float64Array {
  if (adcScratch.out.length < n) adcScratch.out = new Float64Array(n * 2);
  const out = adcScratch.out;
  for (let i = 0; i < n; i++) {
    let dist = base + terms[i]!;
    const co = i * m;
    for (let j = 0; j < m; j++) dist += table[(j << 8) | codes[co + j]!]!;
    out[i] = dist;
  }
  return out;
}

function halvesToFloats(h: Uint16Array): Float32Array {
  const f = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) f[i] = fromHalf(h[i]!);
  return f;
}

function emptyColumns(): EntryColumns {
  return { ids: new Uint32Array(0), items: new Uint32Array(0), regions: new Uint16Array(0), vectors: new Float32Array(0) };
}

function concatColumns(a: EntryColumns, b: EntryColumns): EntryColumns {
  if (a.ids.length === 0) return b;
  if (b.ids.length === 0) return a;
  const cat = <T extends Uint32Array | Uint16Array | Float32Array>(x: T, y: T, make: (n: number) => T): T => {
    const out = make(x.length + y.length);
    out.set(x as never);
    out.set(y as never, x.length);
    return out;
  };
  return {
    ids: cat(a.ids, b.ids, (n) => new Uint32Array(n)),
    items: cat(a.items, b.items, (n) => new Uint32Array(n)),
    regions: cat(a.regions, b.regions, (n) => new Uint16Array(n)),
    vectors: cat(a.vectors, b.vectors, (n) => new Float32Array(n)),
  };
}

function filterColumns(c: EntryColumns, keep: (id: number) => boolean, d: number): EntryColumns {
  const idx: number[] = [];
  for (let i = 0; i < c.ids.length; i++) if (keep(c.ids[i]!)) idx.push(i);
  if (idx.length === c.ids.length) return c;
  const vectors = new Float32Array(idx.length * d);
  idx.forEach((i, j) => vectors.set(c.vectors.subarray(i * d, i * d + d), j * d));
  return {
    ids: Uint32Array.from(idx, (i) => c.ids[i]!),
    items: Uint32Array.from(idx, (i) => c.items[i]!),
    regions: Uint16Array.from(idx, (i) => c.regions[i]!),
    vectors,
  };
}

function dataToColumns(s: SegmentData): EntryColumns {
  return { ids: s.ids, items: s.items, regions: s.regions, vectors: halvesToFloats(s.halves) };
}

function entriesToColumns(entries: readonly IndexEntry[], d: number): EntryColumns {
  const vectors = new Float32Array(entries.length * d);
  entries.forEach((e, i) => vectors.set(e.vector, i * d));
  return {
    ids: Uint32Array.from(entries, (e) => e.id),
    items: Uint32Array.from(entries, (e) => e.item),
    regions: Uint16Array.from(entries, (e) => e.region),
    vectors,
  };
}

function flatSegment(all: EntryColumns, d: number): SegmentData {
  const n = all.ids.length;
  const halves = new Uint16Array(n * d);
  encodeHalf(all.vectors, halves);
  return packSegment(
    {
      lists: new Int32Array(n),
      codes: new Uint8Array(0),
      terms: new Float32Array(n),
      ids: all.ids,
      items: all.items,
      regions: all.regions,
      halves,
    },
    d,
    1,
    0,
  );
}
