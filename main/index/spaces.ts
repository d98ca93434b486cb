/**
 * One vector index per embedding space (a CLIP model's image space, a CNN's regional
 * descriptors, …), side by side under the library's index folder, all fed from the same SQLite
 * vector store.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Assigner } from './assign.js';
import { defaultAssigner } from './assign.js';
import { VectorIndex, type MaintenanceAction, type VectorSources } from './vector-index.js';

/** Space names become folder names: keep them to a safe alphabet. */
const SPACE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export class IndexSet {
  private readonly open = new Map<string, Promise<VectorIndex>>();
  private assigner: Promise<Assigner> | null = null;

  constructor(
    private readonly dir: string,
    private readonly store: VectorSources,
    private readonly log?: (message: string) => void,
    /** See OpenOptions.flatLimit. */
    private readonly flatLimit?: number,
  ) {}

  /** The index of a space (opened, verified and caught up with SQLite on first use). */
  get(space: string, dim: number): Promise<VectorIndex> {
    if (!SPACE_NAME.test(space)) throw new RangeError(`invalid space name ${JSON.stringify(space)}`);
    let index = this.open.get(space);
    if (!index) {
      this.assigner ??= defaultAssigner();
      index = this.assigner.then((assigner) =>
        VectorIndex.open(join(this.dir, space), { dim, source: this.store.source(space), assigner, flatLimit: this.flatLimit, log: this.log && ((m) => this.log?.(`[${space}] ${m}`)) }),
      );
      this.open.set(space, index);
    }
    return index.then((i) => {
      if (i.dim !== dim) throw new RangeError(`space ${space} holds ${i.dim}-d vectors, not ${dim}-d`);
      return i;
    });
  }

  /** Brings every open index up to date with SQLite (after the indexer commits vectors). */
  async sync(): Promise<void> {
    for (const index of this.open.values()) (await index).sync();
  }

  /** Runs each open index's upkeep, flushes it, and prunes the deletion log entries it has persisted. */
  async maintain(): Promise<Record<string, MaintenanceAction>> {
    const done: Record<string, MaintenanceAction> = {};
    for (const [space, p] of this.open) {
      const index = await p;
      done[space] = await index.maintain();
      await index.flush();
      this.store.pruneDeletions(space, index.appliedDeletions);
    }
    return done;
  }

  /** Forgets a space whose vectors were deleted from SQLite: closes its index and removes its files. */
  async drop(space: string): Promise<void> {
    if (!SPACE_NAME.test(space)) throw new RangeError(`invalid space name ${JSON.stringify(space)}`);
    const index = this.open.get(space);
    this.open.delete(space);
    if (index) await (await index).close();
    await rm(join(this.dir, space), { recursive: true, force: true });
    this.store.pruneDeletions(space, Number.MAX_SAFE_INTEGER);
  }

  async close(): Promise<void> {
    for (const p of this.open.values()) await (await p).close();
    this.open.clear();
    if (this.assigner) await (await this.assigner).close();
  }
}
