/**
 * A CLIP-family dual encoder from an installed pack: pictures and sentences into one space.
 * Tokenizing and preprocessing run here (sharp works on libuv's pool); the models run in an
 * inference worker. Embeddings are L2-normalised, so a dot product is the cosine.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { ClipManifest } from '../models/manifest.js';
import { ClipTokenizer, CONTEXT_LENGTH as CONTEXT } from './clip-tokenizer.js';
import type { Device, Provider } from './device.js';
import { InferenceWorker } from './inference.js';
import { l2normalize } from './pooling.js';
import { parsePreprocessorConfig, preprocess, type Preprocessing } from './preprocess.js';
import type { FeedTensor, ModelIo, OutputTensor } from './protocol.js';

export interface EncoderOptions {
  readonly device?: Device;
  /** onnxruntime threads per image-model worker (default: the cores shared among the workers). */
  readonly threads?: number;
  /**
   * Image-model workers on the CPU (default 2 where there are 2+ cores): batches run side by side,
   * each on its share of the cores, so decoding that takes a core from one run does not stall the
   * other (one multi-threaded run waits at every barrier for its slowest thread).
   */
  readonly workers?: number;
  readonly log?: (message: string) => void;
}

/** The embedding output of a CLIP tower: `image_embeds` / `text_embeds`, else the only output. */
function embeddingOutput(io: ModelIo, preferred: string): string {
  if (io.outputs.includes(preferred)) return preferred;
  if (io.outputs.length === 1) return io.outputs[0]!;
  throw new Error(`the model has no ${preferred} output (outputs: ${io.outputs.join(', ')})`);
}

/** Splits a [n, d] output into n normalised vectors. */
export function rows(out: OutputTensor): Float32Array[] {
  const [n, d] = out.dims as [number, number];
  if (out.dims.length !== 2) throw new Error(`expected a [batch, dim] output, got [${out.dims.join(', ')}]`);
  return Array.from({ length: n }, (_, i) => l2normalize(out.data.slice(i * d, (i + 1) * d)));
}

export class ClipEncoder {
  private readonly busy: number[];

  private constructor(
    readonly manifest: ClipManifest,
    readonly tokenizer: ClipTokenizer,
    readonly preprocessing: Preprocessing,
    /** workers[0] also holds the text model. */
    private readonly workers: readonly InferenceWorker[],
  ) {
    this.busy = workers.map(() => 0);
  }

  /** Set when the text model only accepts the full 77-token context. */
  private fixedContext = false;

  static async load(dir: string, manifest: ClipManifest, opts: EncoderOptions = {}): Promise<ClipEncoder> {
    const tokenizer = ClipTokenizer.fromFile(join(dir, manifest.tokenizer));
    const preprocessing = parsePreprocessorConfig(JSON.parse(readFileSync(join(dir, manifest.preprocessor), 'utf8')));
    const cores = availableParallelism();
    let n = Math.max(1, opts.workers ?? (cores >= 2 ? 2 : 1));
    const threads = opts.threads ?? Math.max(1, Math.floor(cores / n));
    const vision = { path: join(dir, manifest.vision), threads };
    // Sentences are embedded one query at a time: the text model gets every core.
    const first = await InferenceWorker.start({
      models: { vision, text: { path: join(dir, manifest.text), threads: Math.max(threads, cores) } },
      device: opts.device, threads, log: opts.log,
    });
    // On an accelerator one worker feeds it; side-by-side workers are a CPU strategy.
    if (first.providers['vision'] !== 'cpu') n = 1;
    const workers = [first];
    try {
      for (let i = 1; i < n; i++) workers.push(await InferenceWorker.start({ models: { vision }, device: 'cpu', threads }));
    } catch (err) {
      for (const w of workers) await w.close();
      throw err;
    }
    return new ClipEncoder(manifest, tokenizer, preprocessing, workers);
  }

  get providers(): Readonly<Record<string, Provider>> {
    return this.workers[0]!.providers;
  }

  get notes(): readonly string[] {
    return this.workers[0]!.notes;
  }

  /** Image batches that can run at once. */
  get parallelism(): number {
    return this.workers.length;
  }

  get inputSize(): { width: number; height: number } {
    return { width: this.preprocessing.cropWidth, height: this.preprocessing.cropHeight };
  }

  /** The model input of one picture (a path or its bytes). */
  async pixels(input: string | Buffer): Promise<Float32Array> {
    return (await preprocess(input, this.preprocessing)).tensor;
  }

  /** Embeds a batch of preprocessed pictures (each 3 × H × W). */
  async embedPixels(batch: readonly Float32Array[]): Promise<Float32Array[]> {
    if (batch.length === 0) return [];
    const { width, height } = this.inputSize;
    const plane = 3 * width * height;
    const data = new Float32Array(batch.length * plane);
    batch.forEach((t, i) => {
      if (t.length !== plane) throw new Error(`picture tensor of ${t.length} values, expected ${plane}`);
      data.set(t, i * plane);
    });
    // The least busy worker takes the batch.
    const w = this.busy.indexOf(Math.min(...this.busy));
    const worker = this.workers[w]!;
    const out = embeddingOutput(worker.io['vision']!, 'image_embeds');
    this.busy[w]!++;
    try {
      const r = await worker.run('vision', { pixel_values: { type: 'float32', data, dims: [batch.length, 3, height, width] } }, [out]);
      return rows(r[out]!);
    } finally {
      this.busy[w]!--;
    }
  }

  async embedImages(inputs: readonly (string | Buffer)[]): Promise<Float32Array[]> {
    return this.embedPixels(await Promise.all(inputs.map((i) => this.pixels(i))));
  }

  /**
   * Embeds sentences (tokenized to the 77-token context, truncated past it). With causal
   * attention and pooling at the end token, padding after it cannot change the result, so the
   * model runs on the batch's longest sentence only — a short query costs a fraction of 77
   * tokens. Exports with a fixed 77-token input get the full context.
   */
  async embedTexts(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const tokens = texts.map((t) => this.tokenizer.tokenize(t, CONTEXT));
    const used = Math.max(...tokens.map((tok) => tok.indexOf(this.tokenizer.eot) + 1));
    if (!this.fixedContext) {
      try {
        return await this.runText(tokens, used);
      } catch (err) {
        if (used === CONTEXT) throw err;
        this.fixedContext = true;
      }
    }
    return this.runText(tokens, CONTEXT);
  }

  private async runText(tokens: readonly Int32Array[], len: number): Promise<Float32Array[]> {
    const ids = new Int32Array(tokens.length * len);
    const mask = new Int32Array(tokens.length * len);
    tokens.forEach((tok, i) => {
      ids.set(tok.subarray(0, len), i * len);
      mask.fill(1, i * len, i * len + Math.min(len, tok.indexOf(this.tokenizer.eot) + 1));
    });
    const worker = this.workers[0]!;
    const io = worker.io['text']!;
    const feeds: Record<string, FeedTensor> = { input_ids: { type: 'int64', data: ids, dims: [tokens.length, len] } };
    if (io.inputs.includes('attention_mask')) feeds['attention_mask'] = { type: 'int64', data: mask, dims: [tokens.length, len] };
    const out = embeddingOutput(io, 'text_embeds');
    return rows((await worker.run('text', feeds, [out]))[out]!);
  }

  async close(): Promise<void> {
    for (const w of this.workers) await w.close();
  }
}
