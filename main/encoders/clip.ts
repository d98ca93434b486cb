/**
 * A CLIP-family dual encoder from an installed pack: pictures and sentences into one space.
 * Tokenizing and preprocessing run here (sharp works on libuv's pool); the models run in an
 * inference worker. Embeddings are L2-normalised, so a dot product is the cosine.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { ClipManifest } from '../models/manifest.js';
import { floresCode } from './languages.js';
import { cleanForTower, loadTextTokenizer, padBatch, type TextSettings, type TextTokenizer } from './text-tokenizer.js';
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
  /** The language sentences are searched in (BCP-47), asked at each sentence: NLLB towers read its FLORES-200 code before it. */
  readonly language?: () => string | undefined;
}

/** A tower's embedding output: the first of the names exports give it that the graph has, else its only output. */
function embeddingOutput(io: ModelIo, preferred: readonly string[]): string {
  const found = preferred.find((n) => io.outputs.includes(n));
  if (found) return found;
  if (io.outputs.length === 1) return io.outputs[0]!;
  throw new Error(`the model has none of the outputs ${preferred.join(', ')} (outputs: ${io.outputs.join(', ')})`);
}

/** Transformers.js names them image_embeds / text_embeds (SigLIP's towers: pooler_output), Immich's exports `embedding`. */
const VISION_OUTPUTS = ['image_embeds', 'embedding', 'pooler_output'] as const;
const TEXT_OUTPUTS = ['text_embeds', 'embedding', 'pooler_output'] as const;

/** The tower's input: pixel_values / input_ids (Transformers.js), image / text (Immich), else its first. */
function towerInput(io: ModelIo, names: readonly string[]): string {
  return names.find((n) => io.inputs.includes(n)) ?? io.inputs[0]!;
}

/** Patches one CPU run of a ViT takes at most (see ClipEncoder.maxBatch). */
const PATCHES_PER_RUN = 256;

/**
 * A ViT picture tower's patch size, from the pack's config.json: Transformers.js'
 * vision_config.patch_size, open_clip's vision_cfg.patch_size or its timm model's name
 * ("vit_base_patch16_siglip_256"); null for towers that are not ViTs (MobileCLIP's) or unsaid.
 */
function patchSize(dir: string): number | null {
  try {
    const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, Record<string, unknown> | undefined>;
    const direct = c['vision_config']?.['patch_size'] ?? c['vision_cfg']?.['patch_size'];
    if (typeof direct === 'number' && direct > 0) return direct;
    const timm = /patch(\d+)/.exec(String(c['vision_cfg']?.['timm_model_name'] ?? ''));
    return timm ? Number(timm[1]) : null;
  } catch {
    return null;
  }
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
    readonly tokenizer: TextTokenizer,
    readonly preprocessing: Preprocessing,
    /** workers[0] also holds the text model. */
    private readonly workers: readonly InferenceWorker[],
  ) {
    this.busy = workers.map(() => 0);
  }

  /** Set when the text model only accepts its full context (found by a failed shorter run, or declared by the graph). */
  private fixedContext = false;
  /** The language NLLB towers are told the sentences are in. */
  private language: () => string | undefined = () => undefined;
  /**
   * The most pictures one run takes: a ViT's activations grow with pictures × patches, and past
   * about 256 patches a run falls out of the CPU's caches — SigLIP 2 B/16-256 int8 runs 16.6
   * pictures/s one at a time and 10.4 in runs of 16 on 2 cores, CLIP B/32 int8 is fastest in runs
   * of 4–16 (bench:encode). Larger batches are split; the embedder's batching stays as it is.
   */
  private maxBatch = Infinity;

  static async load(dir: string, manifest: ClipManifest, opts: EncoderOptions = {}): Promise<ClipEncoder> {
    const config = manifest.tokenizerConfig ? { config: join(dir, manifest.tokenizerConfig) } : {};
    const tokenizer = loadTextTokenizer(join(dir, manifest.tokenizer), config);
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
    const enc = new ClipEncoder(manifest, tokenizer, preprocessing, workers);
    if (opts.language) enc.language = opts.language;
    const patch = patchSize(dir);
    if (patch !== null && workers[0]!.providers['vision'] === 'cpu') {
      enc.maxBatch = Math.max(1, Math.floor(PATCHES_PER_RUN / ((preprocessing.cropWidth / patch) * (preprocessing.cropHeight / patch))));
    }
    return enc;
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

  /** Embeds a batch of preprocessed pictures (each 3 × H × W); one at a time where the export fixes its batch at 1. */
  async embedPixels(batch: readonly Float32Array[]): Promise<Float32Array[]> {
    if (batch.length === 0) return [];
    const io = this.workers[0]!.io['vision']!;
    const input = towerInput(io, ['pixel_values', 'image']);
    const most = io.inputShapes[input]?.[0] === 1 ? 1 : this.maxBatch;
    if (batch.length > most) {
      const out: Float32Array[] = [];
      for (let i = 0; i < batch.length; i += most) out.push(...(await this.embedPixels(batch.slice(i, i + most))));
      return out;
    }
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
    const out = embeddingOutput(io, VISION_OUTPUTS);
    this.busy[w]!++;
    try {
      const r = await worker.run('vision', { [input]: { type: 'float32', data, dims: [batch.length, 3, height, width] } }, [out]);
      return rows(r[out]!);
    } finally {
      this.busy[w]!--;
    }
  }

  async embedImages(inputs: readonly (string | Buffer)[]): Promise<Float32Array[]> {
    return this.embedPixels(await Promise.all(inputs.map((i) => this.pixels(i))));
  }

  /** The tower's text settings: the pack's, with a context the graph fixes taking precedence. */
  get textSettings(): TextSettings {
    const io = this.workers[0]!.io['text']!;
    const declared = io.inputShapes[towerInput(io, ['input_ids', 'text'])]?.[1];
    const s = this.manifest.textSettings;
    return typeof declared === 'number' ? { ...s, context: declared, padding: 'max_length' } : s;
  }

  /** A sentence as the tower reads it: cleaned as its family was trained, NLLB's language code before it. */
  prepareText(text: string): string {
    const clean = cleanForTower(text, this.manifest.textSettings);
    return this.manifest.languagePrefix === 'nllb' ? `${floresCode(this.language())}${clean}` : clean;
  }

  /**
   * Embeds sentences, each tokenized to the tower's context (truncated past it, its closing
   * specials kept). Towers that ignore padding (CLIP's causal attention pooled at the end token,
   * masked XLM-R) run on the batch's longest sentence only — a short query costs a fraction of
   * the context; SigLIP's and exports with a fixed length get the full context.
   */
  async embedTexts(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const io = this.workers[0]!.io['text']!;
    if (io.inputShapes[towerInput(io, ['input_ids', 'text'])]?.[0] === 1 && texts.length > 1) {
      const out: Float32Array[] = [];
      for (const t of texts) out.push(...(await this.embedTexts([t])));
      return out;
    }
    const settings = this.textSettings;
    const seqs = texts.map((t) => this.tokenizer.encode(this.prepareText(t), settings.context));
    if (!this.fixedContext && settings.padding === 'longest') {
      try {
        return await this.runText(seqs, settings);
      } catch (err) {
        if (Math.max(...seqs.map((q) => q.length)) >= settings.context) throw err;
        this.fixedContext = true;
      }
    }
    return this.runText(seqs, { ...settings, padding: 'max_length' });
  }

  private async runText(seqs: readonly number[][], settings: TextSettings): Promise<Float32Array[]> {
    const { ids, mask, len } = padBatch(seqs, settings, this.tokenizer.padId);
    const worker = this.workers[0]!;
    const io = worker.io['text']!;
    const input = towerInput(io, ['input_ids', 'text']);
    const type = (name: string): 'int32' | 'int64' => (io.inputTypes[name] === 'int32' ? 'int32' : 'int64');
    const dims = [seqs.length, len];
    const feeds: Record<string, FeedTensor> = { [input]: { type: type(input), data: ids, dims } };
    if (io.inputs.includes('attention_mask')) feeds['attention_mask'] = { type: type('attention_mask'), data: mask, dims };
    const out = embeddingOutput(io, TEXT_OUTPUTS);
    return rows((await worker.run('text', feeds, [out]))[out]!);
  }

  async close(): Promise<void> {
    for (const w of this.workers) await w.close();
  }
}
