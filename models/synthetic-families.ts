/**
 * The dual-encoder families beyond OpenAI's CLIP, as deterministic ONNX graphs with random weights
 * and each family's real structure, in either published layout (Transformers.js, Immich):
 *  - SigLIP / SigLIP 2 (ViT-B/16-256): patch convolution with no class token, pre-LN blocks with GELU,
 *    a post-LayerNorm and the attention-pooling head (a learned probe attends over the patches, then
 *    an MLP); the text tower non-causal, pooled at the last position of its fixed 64-token context,
 *    through a linear head; Gemma's 256k tokenizer (SigLIP 2);
 *  - MobileCLIP-S2: a hybrid image tower (convolutional stem, depthwise-separable reparameterised
 *    stages, attention at the coarsest stage, global pooling, projection) and CLIP's causal text tower;
 *  - a multilingual tower (XLM-R base, as M-CLIP / open_clip's xlm-roberta-base-ViT-B-32 pair it with a
 *    ViT-B/32): post-LN BERT blocks over ids and an attention mask, mean pooling over the mask, a projection.
 * Every linear layer can be written int8 (`int8`), as the catalog's `_quantized` exports are.
 *
 * Token embedding tables hold `vocab` rows and ids are taken modulo that: a 256k-row table at width
 * 768 would be 790 MB of random numbers, and the gather costs the same at any size.
 */
import { readFileSync } from 'node:fs';
import { DataType } from '../main/onnx/proto.js';
import {
  CLIP_MEAN, CLIP_STD, Graph, idsInput, preprocessorConfig, vitTextModel, vitVisionModel, write,
  type TowerOptions, type VitConfig,
} from './synthetic.js';

/** A SigLIP pair's sizes: CLIP's, less the projection (SigLIP's embedding is the picture tower's width); `vocab` rows of the token table. */
export type SiglipConfig = Omit<VitConfig, 'embedDim'>;

/** SigLIP 2 ViT-B/16 at 256 px: 256 patches, 768 wide, 12 + 12 layers, 64-token context; 768-d. */
export const SIGLIP2_B16_256: SiglipConfig = {
  imageSize: 256, patch: 16, visionWidth: 768, visionLayers: 12, visionHeads: 12,
  textWidth: 768, textLayers: 12, textHeads: 12, vocab: 32768, context: 64,
};

export const SIGLIP_TINY: SiglipConfig = {
  imageSize: 64, patch: 16, visionWidth: 32, visionLayers: 2, visionHeads: 2,
  textWidth: 32, textLayers: 2, textHeads: 2, vocab: 4096, context: 64,
};

export interface MobileClipConfig {
  readonly imageSize: number;
  /** Channels of the four stages (strides 4, 8, 16, 32). */
  readonly channels: readonly [number, number, number, number];
  /** Blocks per stage: the first three convolutional, the last attention. */
  readonly depths: readonly [number, number, number, number];
  readonly heads: number;
  readonly text: VitConfig;
}

/** MobileCLIP-S2's proportions (MCi2 image tower at 256 px, CLIP's 12-layer 512-wide text tower; 512-d). */
export const MOBILECLIP_S2: MobileClipConfig = {
  imageSize: 256, channels: [80, 160, 320, 640], depths: [4, 8, 12, 4], heads: 10,
  text: { imageSize: 256, patch: 32, visionWidth: 0, visionLayers: 0, visionHeads: 1, textWidth: 512, textLayers: 12, textHeads: 8, vocab: 49408, context: 77, embedDim: 512 },
};

export const MOBILECLIP_TINY: MobileClipConfig = {
  imageSize: 64, channels: [8, 16, 24, 32], depths: [1, 1, 1, 1], heads: 2,
  text: { imageSize: 64, patch: 16, visionWidth: 0, visionLayers: 0, visionHeads: 1, textWidth: 32, textLayers: 2, textHeads: 2, vocab: 49408, context: 77, embedDim: 24 },
};

export interface XlmrConfig {
  readonly vision: VitConfig;
  readonly width: number;
  readonly layers: number;
  readonly heads: number;
  readonly vocab: number;
  readonly context: number;
}

/** open_clip's xlm-roberta-base-ViT-B-32: XLM-R base (12 × 768) with a ViT-B/32 picture tower; 512-d. */
export const XLMR_B32: XlmrConfig = {
  vision: { imageSize: 224, patch: 32, visionWidth: 768, visionLayers: 12, visionHeads: 12, textWidth: 0, textLayers: 0, textHeads: 1, vocab: 1, context: 77, embedDim: 512 },
  width: 768, layers: 12, heads: 12, vocab: 32768, context: 77,
};

export const XLMR_TINY: XlmrConfig = {
  vision: { imageSize: 64, patch: 16, visionWidth: 32, visionLayers: 2, visionHeads: 2, textWidth: 0, textLayers: 0, textHeads: 1, vocab: 1, context: 77, embedDim: 24 },
  width: 32, layers: 2, heads: 2, vocab: 4096, context: 77,
};

function gelu(g: Graph, x: string): string {
  const erf = g.op('Erf', [g.op('Mul', [x, g.constant([], Float32Array.of(Math.SQRT1_2))])]);
  return g.op('Mul', [g.op('Mul', [x, g.constant([], Float32Array.of(0.5))]), g.op('Add', [erf, g.constant([], Float32Array.of(1))])]);
}

function mlp(g: Graph, x: string, width: number, ratio = 4): string {
  return g.linear(gelu(g, g.linear(x, width, ratio * width)), ratio * width, width);
}

/** A pre-LN transformer block with a GELU MLP (SigLIP, MobileCLIP's attention stage). */
function preLnBlock(g: Graph, x: string, width: number, heads: number): string {
  const n = g.layerNorm(x, width);
  const h = g.op('Add', [x, g.attention(n, width, heads)]);
  return g.op('Add', [h, mlp(g, g.layerNorm(h, width), width)]);
}

/** A post-LN block (BERT, XLM-R). */
function postLnBlock(g: Graph, x: string, width: number, heads: number, mask: string): string {
  const h = g.layerNorm(g.op('Add', [x, g.attention(x, width, heads, mask)]), width);
  return g.layerNorm(g.op('Add', [h, mlp(g, h, width)]), width);
}

/** [B, 1, D] of a learned vector, broadcast to the batch of `like` ([B, T, D]). */
function perBatch(g: Graph, like: string, width: number, std: number): string {
  const shape = g.op('Add', [g.op('Mul', [g.op('Shape', [like]), g.ints([1, 0, 1])]), g.ints([0, 1, 0])]);
  return g.op('Expand', [g.weight([1, 1, width], std), shape]);
}

function towerNames(o: TowerOptions, input: string, output: string): { input: string; output: string; batch: number | string } {
  return { input: o.input ?? input, output: o.output ?? output, batch: o.fixed ? 1 : 'batch' };
}

/** SigLIP's picture tower: patches (no class token), pre-LN GELU blocks, post-LN, attention-pooling head. */
export function siglipVisionModel(c: SiglipConfig, seed: number, o: TowerOptions = {}): Uint8Array {
  const g = new Graph(seed, o.int8);
  const io = towerNames(o, 'pixel_values', 'pooler_output');
  const grid = c.imageSize / c.patch;
  const d = c.visionWidth;
  const patches = g.op('Conv', [io.input, g.weight([d, 3, c.patch, c.patch], 1 / Math.sqrt(3 * c.patch * c.patch)), g.constant([d], new Float32Array(d))],
    { kernel_shape: [c.patch, c.patch], strides: [c.patch, c.patch] });
  let x = g.op('Transpose', [g.op('Reshape', [patches, g.ints([0, d, grid * grid])])], { perm: [0, 2, 1] });
  x = g.op('Add', [x, g.weight([grid * grid, d], 0.1)]);
  for (let l = 0; l < c.visionLayers; l++) x = preLnBlock(g, x, d, c.visionHeads);
  x = g.layerNorm(x, d);
  // The MAP head: one learned probe attends over every patch, then a residual MLP.
  const probe = perBatch(g, x, d, 0.5);
  let h = g.attention(probe, d, c.visionHeads, undefined, x);
  h = g.op('Add', [h, mlp(g, g.layerNorm(h, d), d)]);
  const pooled = g.op('Squeeze', [h, g.ints([1])]);
  g.op('Identity', [pooled], undefined, io.output);
  const outputs = [{ name: io.output, type: DataType.FLOAT, shape: [io.batch, d] }];
  if (io.output === 'pooler_output') {
    g.op('Identity', [x], undefined, 'last_hidden_state');
    outputs.unshift({ name: 'last_hidden_state', type: DataType.FLOAT, shape: [io.batch, grid * grid, d] });
  }
  return g.model('siglip_vision', [{ name: io.input, type: DataType.FLOAT, shape: [io.batch, 3, c.imageSize, c.imageSize] }], outputs);
}

/** SigLIP's text tower: ids (mod the table) + positions over the fixed context, non-causal blocks, last position, linear head. */
export function siglipTextModel(c: SiglipConfig, seed: number, o: TowerOptions = {}): Uint8Array {
  const g = new Graph(seed, o.int8);
  const io = towerNames(o, 'input_ids', 'pooler_output');
  const d = c.textWidth;
  const ids = g.op('Mod', [idsInput(g, io.input, o.inputType), g.ints([c.vocab], true)]);
  let x = g.op('Add', [g.op('Gather', [g.weight([c.vocab, d], 0.5), ids], { axis: 0 }), g.weight([c.context, d], 0.1)]);
  for (let l = 0; l < c.textLayers; l++) x = preLnBlock(g, x, d, c.textHeads);
  x = g.layerNorm(x, d);
  const last = g.op('Gather', [x, g.ints([-1], true)], { axis: 1 });
  const head = g.linear(last, d, c.visionWidth);
  g.op('Identity', [head], undefined, io.output);
  const outputs = [{ name: io.output, type: DataType.FLOAT, shape: [io.batch, c.visionWidth] }];
  if (io.output === 'pooler_output') {
    g.op('Identity', [x], undefined, 'last_hidden_state');
    outputs.unshift({ name: 'last_hidden_state', type: DataType.FLOAT, shape: [io.batch, c.context, d] });
  }
  return g.model('siglip_text', [{ name: io.input, type: o.inputType === 'int32' ? DataType.INT32 : DataType.INT64, shape: [io.batch, c.context] }], outputs);
}

/** A 3×3 depthwise-separable reparameterised block (MobileOne / RepMixer after re-parameterisation). */
function convBlock(g: Graph, x: string, ch: number): string {
  const dw = g.op('Conv', [x, g.weight([ch, 1, 3, 3], Math.sqrt(2 / 9)), g.constant([ch], new Float32Array(ch))],
    { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: ch });
  const mixed = g.op('Add', [x, dw]);
  const expand = g.op('Conv', [mixed, g.weight([3 * ch, ch, 1, 1], Math.sqrt(2 / ch)), g.constant([3 * ch], new Float32Array(3 * ch))], { kernel_shape: [1, 1] });
  const project = g.op('Conv', [gelu(g, expand), g.weight([ch, 3 * ch, 1, 1], Math.sqrt(1 / (3 * ch))), g.constant([ch], new Float32Array(ch))], { kernel_shape: [1, 1] });
  return g.op('Add', [mixed, project]);
}

function downsample(g: Graph, x: string, inCh: number, outCh: number): string {
  const conv = g.op('Conv', [x, g.weight([outCh, inCh, 3, 3], Math.sqrt(2 / (9 * inCh))), g.constant([outCh], new Float32Array(outCh))],
    { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  return gelu(g, conv);
}

/** MobileCLIP's hybrid image tower: stem, three convolutional stages, an attention stage, pooling, projection. */
export function mobileclipVisionModel(c: MobileClipConfig, seed: number, o: TowerOptions = {}): Uint8Array {
  const g = new Graph(seed, o.int8);
  const io = towerNames(o, 'pixel_values', 'image_embeds');
  let x = downsample(g, downsample(g, io.input, 3, c.channels[0]), c.channels[0], c.channels[0]);
  for (let s = 0; s < 3; s++) {
    for (let b = 0; b < c.depths[s]!; b++) x = convBlock(g, x, c.channels[s]!);
    x = downsample(g, x, c.channels[s]!, c.channels[s + 1]!);
  }
  const d = c.channels[3];
  const side = c.imageSize / 32;
  let t = g.op('Transpose', [g.op('Reshape', [x, g.ints([0, d, side * side])])], { perm: [0, 2, 1] });
  for (let b = 0; b < c.depths[3]; b++) t = preLnBlock(g, t, d, c.heads);
  const pooled = g.op('ReduceMean', [t], { axes: [1], keepdims: 0 });
  g.linear(pooled, d, c.text.embedDim, false, io.output);
  return g.model('mobileclip_vision', [{ name: io.input, type: DataType.FLOAT, shape: [io.batch, 3, c.imageSize, c.imageSize] }],
    [{ name: io.output, type: DataType.FLOAT, shape: [io.batch, c.text.embedDim] }]);
}

/** XLM-R's text tower with M-CLIP's head: post-LN blocks over ids and mask, mean over the mask, projection. */
export function xlmrTextModel(c: XlmrConfig, seed: number, o: TowerOptions & { padId?: number } = {}): Uint8Array {
  const g = new Graph(seed, o.int8);
  const io = towerNames(o, 'input_ids', 'embedding');
  const raw = idsInput(g, io.input, o.inputType);
  const ids = g.op('Mod', [raw, g.ints([c.vocab], true)]);
  // M-CLIP's export takes the attention mask; open_clip's (Immich's `text` input) finds it from the pad id.
  const withMask = o.padId === undefined;
  const mask = withMask ? g.op('Cast', ['attention_mask'], { to: DataType.FLOAT })
    : g.op('Cast', [g.op('Not', [g.op('Equal', [raw, g.ints([o.padId!], true)])])], { to: DataType.FLOAT });
  const len = g.op('Unsqueeze', [g.op('Gather', [g.op('Shape', [ids]), g.ints([1], true)], { axis: 0 }), g.ints([0])]);
  const positions = g.op('Slice', [g.weight([c.context, c.width], 0.1), g.ints([0]), len, g.ints([0])]);
  let x = g.layerNorm(g.op('Add', [g.op('Gather', [g.weight([c.vocab, c.width], 0.5), ids], { axis: 0 }), positions]), c.width);
  // Padding gets −1e4 before the softmax: [B, 1, 1, T].
  const bias = g.op('Unsqueeze', [g.op('Mul', [g.op('Sub', [g.constant([], Float32Array.of(1)), mask]), g.constant([], Float32Array.of(-1e4))]), g.ints([1, 2])]);
  for (let l = 0; l < c.layers; l++) x = postLnBlock(g, x, c.width, c.heads, bias);
  const m = g.op('Unsqueeze', [mask, g.ints([2])]);
  const summed = g.op('ReduceSum', [g.op('Mul', [x, m]), g.ints([1])], { keepdims: 0 });
  const count = g.op('ReduceSum', [m, g.ints([1])], { keepdims: 0 });
  g.linear(g.op('Div', [summed, count]), c.width, c.vision.embedDim, true, io.output);
  const type = o.inputType === 'int32' ? DataType.INT32 : DataType.INT64;
  const seq = o.fixed ? c.context : 'sequence';
  const inputs = [{ name: io.input, type, shape: [io.batch, seq] }, ...(withMask ? [{ name: 'attention_mask', type, shape: [io.batch, seq] }] : [])];
  return g.model('xlmr_text', inputs, [{ name: io.output, type: DataType.FLOAT, shape: [io.batch, c.vision.embedDim] }]);
}

export type Layout = 'transformers.js' | 'immich';

export interface FamilyPackOptions {
  readonly layout: Layout;
  readonly int8?: boolean;
  /** SigLIP: write the checkpoint's learned scale and bias into config.json (Loupe's convention). */
  readonly logits?: { readonly scale: number; readonly bias: number };
}

const HALF = [0.5, 0.5, 0.5];

/** Immich's visual/preprocess_cfg.json (open_clip's PreprocessCfg). */
function openClipPreprocess(size: number, mean: readonly number[], std: readonly number[], mode: 'squash' | 'shortest'): string {
  return JSON.stringify({ size: [size, size], mode: 'RGB', mean, std, interpolation: 'bicubic', resize_mode: mode, fill_color: 0 }, null, 2);
}

/** A Hugging Face SigLIP processor config: straight to size × size, mean/std 0.5. */
function siglipPreprocessor(size: number): string {
  return JSON.stringify({
    do_resize: true, size: { height: size, width: size }, resample: 2, do_rescale: true, rescale_factor: 1 / 255,
    do_normalize: true, image_mean: HALF, image_std: HALF, do_convert_rgb: true,
  }, null, 2);
}

/** Copies a tokenizer's files into a pack: tokenizer.json and, where there is one, tokenizer_config.json. */
function writeTokenizer(dir: string, prefix: string, tokenizerJson: string, tokenizerConfig: Record<string, unknown>): void {
  write(dir, `${prefix}tokenizer.json`, readFileSync(tokenizerJson));
  write(dir, `${prefix}tokenizer_config.json`, JSON.stringify(tokenizerConfig, null, 2));
}

/**
 * A SigLIP 2 pack: Gemma's tokenizer (the real tokenizer.json), 64-token context, lower-cased text,
 * squash resize with mean/std 0.5. Immich: visual/ + textual/ with `image` / `text` (int32) inputs,
 * `embedding` outputs, batch fixed at 1, open_clip's config.json.
 */
export function writeSiglip2Pack(dir: string, c: SiglipConfig, seed: number, tokenizerJson: string, o: FamilyPackOptions): void {
  const logits = o.logits ? { logit_scale: o.logits.scale, logit_bias: o.logits.bias } : {};
  if (o.layout === 'immich') {
    write(dir, 'config.json', JSON.stringify({
      embed_dim: c.visionWidth, init_logit_bias: -10, ...logits,
      vision_cfg: { image_size: c.imageSize, timm_model_name: 'vit_base_patch16_siglip_256', timm_pool: 'map' },
      text_cfg: { context_length: c.context, vocab_size: 256000, hf_tokenizer_name: 'timm/ViT-B-16-SigLIP2-256', tokenizer_kwargs: { clean: 'canonicalize' } },
    }, null, 2));
    write(dir, 'visual/preprocess_cfg.json', openClipPreprocess(c.imageSize, HALF, HALF, 'squash'));
    write(dir, 'visual/model.onnx', siglipVisionModel(c, seed, { int8: o.int8, input: 'image', output: 'embedding', fixed: true }));
    write(dir, 'textual/model.onnx', siglipTextModel(c, seed + 1, { int8: o.int8, input: 'text', output: 'embedding', inputType: 'int32', fixed: true }));
    writeTokenizer(dir, 'textual/', tokenizerJson, { pad_token: '<pad>', eos_token: '<eos>', bos_token: '<bos>', tokenizer_class: 'GemmaTokenizer' });
    return;
  }
  write(dir, 'config.json', JSON.stringify({
    model_type: 'siglip2', ...logits,
    vision_config: { image_size: c.imageSize, patch_size: c.patch, hidden_size: c.visionWidth, num_hidden_layers: c.visionLayers },
    text_config: { hidden_size: c.textWidth, num_hidden_layers: c.textLayers, max_position_embeddings: c.context, vocab_size: 256000 },
  }, null, 2));
  write(dir, 'preprocessor_config.json', siglipPreprocessor(c.imageSize));
  const q = o.int8 ? '_quantized' : '';
  write(dir, `onnx/vision_model${q}.onnx`, siglipVisionModel(c, seed, { int8: o.int8 }));
  write(dir, `onnx/text_model${q}.onnx`, siglipTextModel(c, seed + 1, { int8: o.int8 }));
  writeTokenizer(dir, '', tokenizerJson, { pad_token: '<pad>', eos_token: '<eos>', bos_token: '<bos>', tokenizer_class: 'GemmaTokenizer' });
}

/** A MobileCLIP-S2 pack: CLIP's BPE (merges), 256 px shortest edge and crop, no normalisation (mean 0, std 1). */
export function writeMobileclipPack(dir: string, c: MobileClipConfig, seed: number, merges: string, o: FamilyPackOptions): void {
  const zero = [0, 0, 0];
  const one = [1, 1, 1];
  if (o.layout === 'immich') {
    write(dir, 'config.json', JSON.stringify({
      embed_dim: c.text.embedDim, vision_cfg: { image_size: c.imageSize, timm_model_name: 'fastvit_mci2' },
      text_cfg: { context_length: c.text.context, vocab_size: c.text.vocab, width: c.text.textWidth, layers: c.text.textLayers },
    }, null, 2));
    write(dir, 'visual/preprocess_cfg.json', openClipPreprocess(c.imageSize, zero, one, 'shortest'));
    write(dir, 'visual/model.onnx', mobileclipVisionModel(c, seed, { int8: o.int8, input: 'image', output: 'embedding', fixed: true }));
    write(dir, 'textual/model.onnx', vitTextModel(c.text, seed + 1, { int8: o.int8, input: 'text', output: 'embedding', inputType: 'int32', fixed: true }));
    write(dir, 'textual/merges.txt', merges);
    return;
  }
  write(dir, 'config.json', JSON.stringify({ model_type: 'mobileclip', projection_dim: c.text.embedDim, image_size: c.imageSize }, null, 2));
  write(dir, 'preprocessor_config.json', preprocessorConfig(c.imageSize, zero, one));
  write(dir, 'merges.txt', merges);
  const q = o.int8 ? '_quantized' : '';
  write(dir, `onnx/vision_model${q}.onnx`, mobileclipVisionModel(c, seed, { int8: o.int8 }));
  write(dir, `onnx/text_model${q}.onnx`, vitTextModel(c.text, seed + 1, { int8: o.int8 }));
}

/**
 * A multilingual pack in Immich's layout: XLM-R (M-CLIP / open_clip xlm-roberta-base-ViT-B-32) or,
 * with `nllb`, an NLLB tower (which reads the language's FLORES-200 code before the text); ViT-B/32
 * pictures. The tokenizer is a SentencePiece Unigram tokenizer.json (the real algorithm, any vocabulary).
 */
export function writeMultilingualPack(
  dir: string, c: XlmrConfig, seed: number, tokenizerJson: string, o: FamilyPackOptions & { nllb?: boolean; padToken?: string; padId?: number },
): void {
  const name = o.nllb ? 'facebook/nllb-200-distilled-600M' : 'xlm-roberta-base';
  write(dir, 'config.json', JSON.stringify({
    embed_dim: c.vision.embedDim, vision_cfg: { image_size: c.vision.imageSize, patch_size: c.vision.patch, width: c.vision.visionWidth, layers: c.vision.visionLayers },
    text_cfg: { hf_model_name: name, hf_tokenizer_name: name, hf_pooler_type: 'mean_pooler', context_length: c.context },
  }, null, 2));
  write(dir, 'visual/preprocess_cfg.json', openClipPreprocess(c.vision.imageSize, CLIP_MEAN, CLIP_STD, 'shortest'));
  write(dir, 'visual/model.onnx', vitVisionModel(c.vision, seed, { int8: o.int8, input: 'image', output: 'embedding', fixed: true }));
  const padId = o.padId ?? 1;
  write(dir, 'textual/model.onnx', xlmrTextModel(c, seed + 1, { int8: o.int8, input: 'text', output: 'embedding', inputType: 'int32', fixed: true, padId }));
  writeTokenizer(dir, 'textual/', tokenizerJson, { pad_token: o.padToken ?? '<pad>', tokenizer_class: o.nllb ? 'NllbTokenizer' : 'XLMRobertaTokenizer' });
}
