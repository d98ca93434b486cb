/**
 * Indexing runs: one at a time (indexing, then embedding), stoppable, pausable. A run asked for
 * while one is under way waits for it, then runs once more (for what arrived meanwhile).
 */
import { availableParallelism } from 'node:os';
import type {
  EmbedProgress, EmbedSummary, EngineEvent, FacesSummary, IndexingState, IndexProgress, IndexSummary, ModelKind, TextSummary,
} from '../contract/api.js';
import { embedPending } from '../embed/embedder.js';
import type { FacePack } from '../encoders/faces.js';
import { FACE_PACK_SETTING, findFaces } from '../faces/stage.js';
import type { WhitenOptions } from '../embed/whitener.js';
import { indexPending } from '../ingest/indexer.js';
import { placePhotos } from '../places/stage.js';
import { OCR_MODEL, type TextReader } from '../encoders/ocr.js';
import { READ_TEXT_SETTING, readText } from '../text/stage.js';
import { errorMessage } from '../util/errors.js';
import type { Library } from './library.js';

export interface IndexRunOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: IndexProgress) => void;
  /** Called as each photo is indexed, with how many are done in this run. */
  readonly onProcessed?: (done: number) => void;
  readonly onEmbedProgress?: (p: EmbedProgress) => void;
  readonly onEmbedded?: (s: EmbedSummary) => void;
  /** Overrides the engine's CLIP batch size for this run. */
  readonly batchSize?: number;
}

export interface RunOptions {
  readonly concurrency?: number;
  readonly batchSize?: number;
  readonly whiten?: WhitenOptions;
  readonly autoIndex?: boolean;
}

const KINDS: readonly ModelKind[] = ['clip', 'cnn'];

/** What a run that was stopped before it started reports. */
const STOPPED: IndexSummary = { jobId: 0, processed: 0, ok: 0, failed: 0, moved: 0, missing: 0, ms: 0, paused: true };

export class IndexingRuns {
  /** The run under way (indexing, then embedding) and what stops it. */
  private running: Promise<IndexSummary> | null = null;
  private stopRun: AbortController | null = null;
  private paused = false;
  /** The runs asked for so far, chained: each starts when the one before has ended. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Counts stop() calls: runs asked for before a stop do not start after it. */
  private stops = 0;

  constructor(private readonly lib: Library, private readonly opts: RunOptions, private readonly emit: (e: EngineEvent) => void) {}

  state(): IndexingState {
    return { paused: this.paused, running: this.running !== null };
  }

  /**
   * Indexes every pending photo, then embeds what the active models still owe. While indexing is
   * paused nothing runs and the summary says so.
   */
  async index(run: IndexRunOptions = {}): Promise<IndexSummary> {
    await this.lib.mustBeWhole();
    // Runs queue up, one after the other: two at once would sweep each other's unfinished files.
    const asked = this.stops;
    const turn = this.queue.then(() => (asked === this.stops ? this.runOnce(run) : STOPPED));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async runOnce(run: IndexRunOptions): Promise<IndexSummary> {
    if (this.paused) return { jobId: 0, processed: 0, ok: 0, failed: 0, moved: 0, missing: 0, ms: 0, paused: true };
    const stop = new AbortController();
    const signal = run.signal ? AbortSignal.any([run.signal, stop.signal]) : stop.signal;
    this.stopRun = stop;
    this.running = this.indexThenEmbed({ ...run, signal });
    this.emitState();
    try {
      const summary = await this.running;
      return stop.signal.aborted ? { ...summary, paused: true } : summary;
    } finally {
      this.running = null;
      this.stopRun = null;
      this.emitState();
    }
  }

  private async indexThenEmbed(run: IndexRunOptions): Promise<IndexSummary> {
    const summary = await indexPending({ repos: this.lib.repos, thumbs: this.lib.thumbs }, {
      concurrency: this.opts.concurrency ?? availableParallelism() + 1,
      signal: run.signal,
      onProcessed: run.onProcessed,
      onProgress: (p) => {
        run.onProgress?.(p);
        this.emit({ type: 'progress', progress: p });
      },
    });
    this.emit({ type: 'indexed', summary });
    // Places first: cheap, and place names then answer searches while the models work.
    if (!run.signal?.aborted) placePhotos(this.lib.repos, run.signal);
    await this.embed(run);
    await this.findFaces(run);
    await this.readText(run);
    return summary;
  }

  /** Reads the text in the pictures the OCR models have not read (last: the slowest to matter), unless the user turned it off. */
  async readText(run: IndexRunOptions = {}): Promise<TextSummary | null> {
    if (run.signal?.aborted || this.lib.repos.settings.get(READ_TEXT_SETTING) === '0') return null;
    // Loaded only when some picture is still to be read.
    const load = async (): Promise<TextReader | null> => {
      try {
        return await this.lib.encoders.text();
      } catch (err) {
        this.emit({ type: 'log', message: `text: the OCR models do not load (${errorMessage(err)})` });
        return null;
      }
    };
    const summary = await readText(this.lib, load, OCR_MODEL, {
      signal: run.signal,
      onProgress: (done, total) => this.emit({ type: 'text-progress', done, total }),
    });
    if (summary) this.emit({ type: 'text', summary });
    return summary;
  }

  /** Looks for faces in the pictures the active face pack has not seen (after embedding: search comes first). */
  async findFaces(run: IndexRunOptions = {}): Promise<FacesSummary | null> {
    const pack = this.lib.repos.settings.get(FACE_PACK_SETTING);
    if (!pack || run.signal?.aborted) return null;
    let models: FacePack;
    try {
      models = await this.lib.encoders.faces(pack);
    } catch (err) {
      this.emit({ type: 'log', message: `faces: the face pack ${pack} does not load (${errorMessage(err)})` });
      return null;
    }
    const { detector, embedder, verifier, manifest } = models;
    const summary = await findFaces(this.lib, { name: pack, detector, embedder, verifier, grouping: manifest.grouping }, {
      signal: run.signal,
      onProgress: (done, total) => this.emit({ type: 'faces-progress', pack, done, total }),
    });
    this.emit({ type: 'faces', pack, summary });
    return summary;
  }

  /** Computes the vectors every active model still owes the library (the indexing run calls this). */
  async embed(run: IndexRunOptions = {}): Promise<EmbedSummary[]> {
    const out: EmbedSummary[] = [];
    const { repos, thumbs, indexes, encoders, spaces } = this.lib;
    for (const kind of KINDS) {
      if (run.signal?.aborted) break;
      const summary = await embedPending({ repos, thumbs, indexes, encoders, spaces }, kind, {
        batchSize: run.batchSize ?? this.opts.batchSize,
        whiten: this.opts.whiten,
        signal: run.signal,
        onProgress: (p) => {
          run.onEmbedProgress?.(p);
          this.emit({ type: 'embed-progress', progress: p });
        },
      });
      if (summary) {
        out.push(summary);
        run.onEmbedded?.(summary);
        this.emit({ type: 'embedded', summary });
      }
    }
    return out;
  }

  private emitState(): void {
    this.emit({ type: 'indexing', state: this.state() });
  }

  pause(): IndexingState {
    if (!this.paused) {
      this.paused = true;
      this.stopRun?.abort();
      this.emitState();
    }
    return this.state();
  }

  resume(): IndexingState {
    if (this.paused) {
      this.paused = false;
      this.emitState();
      this.inBackground();
    }
    return this.state();
  }

  /** Starts a run with no caller to answer: its failure goes to the log. */
  inBackground(first?: () => Promise<unknown>): void {
    (first ? first().then(() => this.index()) : this.index()).catch((err: unknown) => {
      this.emit({ type: 'log', message: `indexing failed: ${errorMessage(err)}` });
    });
  }

  /** A new pack owes the library its vectors: in the app, embedding starts in the background. */
  whenIdle(): void {
    if (this.opts.autoIndex && !this.paused && !this.running) this.inBackground();
  }

  /** Resolves once no run is under way or queued (a run's failure is its caller's to report). */
  private async ended(): Promise<void> {
    let seen: Promise<unknown>;
    do {
      seen = this.queue;
      await seen;
    } while (seen !== this.queue);
  }

  /** Stops the run under way, if any, and waits for it to end; says whether there was one. */
  async stop(): Promise<boolean> {
    const wasRunning = this.running !== null;
    this.stops++;
    this.stopRun?.abort();
    await this.ended();
    return wasRunning;
  }

  /** Stops the run under way (if any), does `work`, and starts indexing again if it was running. */
  async between(work: () => Promise<void>): Promise<void> {
    const wasRunning = await this.stop();
    await work();
    if (wasRunning && !this.paused) this.inBackground();
  }
}
