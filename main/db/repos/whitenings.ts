/** The whitenings table: each PCA-whitening learned from a raw CNN space, versioned. */
import { float32s, float64s, toBlob } from '../blobs.js';
import { Repo } from './repo.js';

/** A learned whitening as stored (embed/pca-whitening.ts's Whitening has this shape). */
export interface WhiteningData {
  readonly inputDim: number;
  readonly outputDim: number;
  readonly mean: Float32Array;
  /** outputDim × inputDim: rows are principal directions scaled by 1/√(λ + ε). */
  readonly projection: Float32Array;
  /** Eigenvalues of the kept directions, descending. */
  readonly eigenvalues: Float64Array;
  /** Set when the covariance was shrunk (projection then holds the damping rows). */
  readonly shrinkage?: number;
  /** The projection adapted to the library on top of it (embed/adaptation.ts), when one was learned. */
  readonly adaptation?: AdaptationData;
}

export interface AdaptationData {
  /** outputDim × outputDim, row-major. */
  readonly matrix: Float32Array;
  readonly target: 'views' | 'codes';
  /** The marks' state it saw (MarksRepo.state) and the marked pairs among them. */
  readonly marksState: string;
  readonly markedPairs: number;
}

export interface StoredWhitening {
  /** The whitened space it produces. */
  readonly space: string;
  readonly rawSpace: string;
  readonly version: number;
  readonly whitening: WhiteningData;
  /** Pictures the raw space held when it was learned. */
  readonly pictures: number;
}

interface WhiteningRow {
  readonly space: string;
  readonly raw_space: string;
  readonly version: number;
  readonly input_dim: number;
  readonly output_dim: number;
  readonly mean: Buffer;
  readonly projection: Buffer;
  readonly eigenvalues: Buffer;
  readonly shrinkage: number | null;
  readonly adaptation: Buffer | null;
  readonly adaptation_target: 'views' | 'codes' | null;
  readonly marks_state: string | null;
  readonly marked_pairs: number | null;
  readonly pictures: number;
}

function toStored(r: WhiteningRow): StoredWhitening {
  return {
    space: r.space,
    rawSpace: r.raw_space,
    version: r.version,
    pictures: r.pictures,
    whitening: {
      inputDim: r.input_dim,
      outputDim: r.output_dim,
      mean: float32s(r.mean),
      projection: float32s(r.projection),
      eigenvalues: float64s(r.eigenvalues),
      ...(r.shrinkage === null ? {} : { shrinkage: r.shrinkage }),
      ...(r.adaptation === null ? {} : {
        adaptation: {
          matrix: float32s(r.adaptation), target: r.adaptation_target ?? 'views', marksState: r.marks_state ?? '', markedPairs: r.marked_pairs ?? 0,
        },
      }),
    },
  };
}

export class WhiteningsRepo extends Repo {
  /** The newest whitening learned from a raw space. */
  current(rawSpace: string): StoredWhitening | null {
    const r = this.one<WhiteningRow>('SELECT * FROM whitenings WHERE raw_space = ? ORDER BY version DESC LIMIT 1', rawSpace);
    return r ? toStored(r) : null;
  }

  /** The raw space a whitened space was derived from, or null for a space that is not whitened. */
  rawOf(space: string): string | null {
    return this.one<{ raw_space: string }>('SELECT raw_space FROM whitenings WHERE space = ?', space)?.raw_space ?? null;
  }

  /** The whitened spaces derived from a raw space. */
  derivedFrom(rawSpace: string): string[] {
    return this.all<{ space: string }>('SELECT space FROM whitenings WHERE raw_space = ?', rawSpace).map((r) => r.space);
  }

  insert(w: Omit<StoredWhitening, 'pictures'> & { pictures: number; vectors: number }, now: number): void {
    const x = w.whitening;
    this.run(
      `INSERT INTO whitenings (space, raw_space, version, input_dim, output_dim, mean, projection, eigenvalues, shrinkage,
        adaptation, adaptation_target, marks_state, marked_pairs, pictures, vectors, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      w.space,
      w.rawSpace,
      w.version,
      x.inputDim,
      x.outputDim,
      toBlob(x.mean),
      toBlob(x.projection),
      toBlob(x.eigenvalues),
      x.shrinkage ?? null,
      x.adaptation ? toBlob(x.adaptation.matrix) : null,
      x.adaptation?.target ?? null,
      x.adaptation?.marksState ?? null,
      x.adaptation?.markedPairs ?? null,
      w.pictures,
      w.vectors,
      now,
    );
  }

  /** Forgets the whitenings producing or learned from a space. */
  deleteFor(space: string): void {
    this.run('DELETE FROM whitenings WHERE space = ? OR raw_space = ?', space, space);
  }
}
