/**
 * Deterministic ONNX models with the graph structure of the real packs and random weights, so
 * every test runs real models through onnxruntime-node and the benchmark measures real FLOPs:
 *  - a CLIP ViT dual encoder (Transformers.js layout: onnx/vision_model.onnx → image_embeds,
 *    onnx/text_model.onnx → text_embeds): patch convolution, class token, position embeddings,
 *    pre-LN transformer blocks with QuickGELU MLPs, causal text attention, pooling at the
 *    end-of-text token, linear projections;
 *  - a small CNN classifier (stride-2 convolutions + ReLU, global average pooling, a linear
 *    layer to `logits`), whose last convolutional map is internal, as in an exported ResNet.
 * The same seed always gives byte-identical files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildModel, DataType, floatTensor, int64Tensor, type NodeSpec, type TensorInit } from '../main/onnx/proto.js';
import { rng } from '../main/index/random.js';

export interface VitConfig {
  readonly imageSize: number;
  readonly patch: number;
  readonly visionWidth: number;
  readonly visionLayers: number;
  readonly visionHeads: number;
  readonly textWidth: number;
  readonly textLayers: number;
  readonly textHeads: number;
  readonly vocab: number;
  readonly context: number;
  readonly embedDim: number;
}

/** The sizes of OpenAI's CLIP ViT-B/32. */
export const VIT_B32: VitConfig = {
  imageSize: 224, patch: 32, visionWidth: 768, visionLayers: 12, visionHeads: 12,
  textWidth: 512, textLayers: 12, textHeads: 8, vocab: 49408, context: 77, embedDim: 512,
};

/** A tiny model with the same structure, fast enough for unit tests. */
export const VIT_TINY: VitConfig = {
  imageSize: 64, patch: 16, visionWidth: 32, visionLayers: 2, visionHeads: 2,
  textWidth: 32, textLayers: 2, textHeads: 2, vocab: 49408, context: 77, embedDim: 24,
};

export interface CnnConfig {
  readonly imageSize: number;
  readonly channels: readonly number[];
  readonly classes: number;
  /** The picture's side fixed in the graph (batch 1), where given; else any size. */
  readonly fixedInput?: number;
}

export const CNN_TINY: CnnConfig = { imageSize: 128, channels: [16, 32, 64, 96], classes: 10 };

/**
 * Builds a graph node by node, with weights drawn from one seeded generator. `int8`: every linear
 * layer as onnxruntime's dynamic quantization writes it (the `_quantized` files of Transformers.js
 * and the catalog): DynamicQuantizeLinear on the activations, the weights int8 with one scale,
 * MatMulInteger, then back to floats.
 */
export class Graph {
  readonly nodes: NodeSpec[] = [];
  readonly inits: TensorInit[] = [];
  private n = 0;
  private readonly random: () => number;

  constructor(seed: number, readonly int8 = false) {
    this.random = rng(seed);
  }

  /** A node with several outputs. */
  opN(op: string, inputs: readonly string[], count: number, attrs?: NodeSpec['attrs']): string[] {
    const outs = Array.from({ length: count }, () => this.name(op.toLowerCase()));
    this.nodes.push({ op, inputs, outputs: outs, attrs });
    return outs;
  }

  private bytes(dims: readonly number[], type: DataType, data: Uint8Array | Int8Array): string {
    const name = this.name('q');
    this.inits.push({ name, dims, type, raw: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() });
    return name;
  }

  /** x·W with W quantized symmetrically to int8 (zero point 0), as quantize_dynamic(weight_type=QInt8) does. */
  private quantizedMatMul(x: string, inDim: number, outDim: number): string {
    const w = this.gaussian(inDim * outDim, 1 / Math.sqrt(inDim));
    let max = 1e-8;
    for (const v of w) max = Math.max(max, Math.abs(v));
    const scale = max / 127;
    const q = Int8Array.from(w, (v) => Math.max(-127, Math.min(127, Math.round(v / scale))));
    const [xq, xs, xz] = this.opN('DynamicQuantizeLinear', [x], 3) as [string, string, string];
    const wq = this.bytes([inDim, outDim], DataType.INT8, q);
    const wz = this.bytes([], DataType.INT8, Int8Array.of(0));
    const acc = this.op('Cast', [this.op('MatMulInteger', [xq, wq, xz, wz])], { to: DataType.FLOAT });
    return this.op('Mul', [acc, this.op('Mul', [xs, this.constant([], Float32Array.of(scale))])]);
  }

  private name(prefix: string): string {
    return `${prefix}_${this.n++}`;
  }

  gaussian(count: number, std: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i += 2) {
      const u = Math.max(this.random(), 1e-12);
      const r = Math.sqrt(-2 * Math.log(u)) * std;
      const t = 2 * Math.PI * this.random();
      out[i] = r * Math.cos(t);
      if (i + 1 < count) out[i + 1] = r * Math.sin(t);
    }
    return out;
  }

  weight(dims: readonly number[], std: number): string {
    const name = this.name('w');
    this.inits.push(floatTensor(name, dims, this.gaussian(dims.reduce((a, b) => a * b, 1), std)));
    return name;
  }

  constant(dims: readonly number[], data: Float32Array): string {
    const name = this.name('c');
    this.inits.push(floatTensor(name, dims, data));
    return name;
  }

  ints(values: readonly number[], scalar = false): string {
    const name = this.name('i');
    this.inits.push(int64Tensor(name, scalar ? [] : [values.length], values));
    return name;
  }

  op(op: string, inputs: readonly string[], attrs?: NodeSpec['attrs'], output?: string): string {
    const out = output ?? this.name(op.toLowerCase());
    this.nodes.push({ op, inputs, outputs: [out], attrs });
    return out;
  }

  linear(x: string, inDim: number, outDim: number, bias = true, output?: string): string {
    if (this.int8) {
      const y = this.quantizedMatMul(x, inDim, outDim);
      const out = bias ? this.op('Add', [y, this.constant([outDim], this.gaussian(outDim, 0.02))]) : y;
      return output ? this.op('Identity', [out], undefined, output) : out;
    }
    const y = this.op('MatMul', [x, this.weight([inDim, outDim], 1 / Math.sqrt(inDim))], undefined, bias ? undefined : output);
    return bias ? this.op('Add', [y, this.constant([outDim], this.gaussian(outDim, 0.02))], undefined, output) : y;
  }

  layerNorm(x: string, dim: number): string {
    const scale = this.constant([dim], Float32Array.from(this.gaussian(dim, 0.05), (v) => 1 + v));
    const bias = this.constant([dim], this.gaussian(dim, 0.02));
    return this.op('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: 1e-5 });
  }

  quickGelu(x: string): string {
    const scaled = this.op('Mul', [x, this.constant([], Float32Array.of(1.702))]);
    return this.op('Mul', [x, this.op('Sigmoid', [scaled])]);
  }

  /** Multi-head attention of `x` over `kv` (itself unless given: SigLIP's pooling head attends a probe over the patches). */
  attention(x: string, width: number, heads: number, mask?: string, kv = x): string {
    const dh = width / heads;
    const split = (t: string, perm: number[]): string =>
      this.op('Transpose', [this.op('Reshape', [t, this.ints([0, -1, heads, dh])])], { perm });
    const q = split(this.linear(x, width, width), [0, 2, 1, 3]);
    const k = split(this.linear(kv, width, width), [0, 2, 3, 1]);
    const v = split(this.linear(kv, width, width), [0, 2, 1, 3]);
    let scores = this.op('Mul', [this.op('MatMul', [q, k]), this.constant([], Float32Array.of(1 / Math.sqrt(dh)))]);
    if (mask) scores = this.op('Add', [scores, mask]);
    const ctx = this.op('MatMul', [this.op('Softmax', [scores], { axis: -1 }), v]);
    const merged = this.op('Reshape', [this.op('Transpose', [ctx], { perm: [0, 2, 1, 3] }), this.ints([0, -1, width])]);
    return this.linear(merged, width, width);
  }

  block(x: string, width: number, heads: number, mask?: string): string {
    const h = this.op('Add', [x, this.attention(this.layerNorm(x, width), width, heads, mask)]);
    const m = this.linear(this.quickGelu(this.linear(this.layerNorm(h, width), width, 4 * width)), 4 * width, width);
    return this.op('Add', [h, m]);
  }

  model(name: string, inputs: Parameters<typeof buildModel>[0]['inputs'], outputs: Parameters<typeof buildModel>[0]['outputs']): Uint8Array {
    return buildModel({ name, nodes: this.nodes, inputs, outputs, initializers: this.inits, opset: 17, producer: 'loupe-synthetic' });
  }
}

/** How a tower's graph meets the world: its input and output names, a fixed batch of 1, int8. */
export interface TowerOptions {
  readonly int8?: boolean;
  readonly input?: string;
  readonly output?: string;
  /** Immich's text towers take int32 ids. */
  readonly inputType?: 'int64' | 'int32';
  /** The batch (and, for text, the context) fixed in the graph, as many published exports fix them. */
  readonly fixed?: boolean;
}

export function vitVisionModel(c: VitConfig, seed: number, o: TowerOptions = {}): Uint8Array {
  const g = new Graph(seed, o.int8);
  const input = o.input ?? 'pixel_values';
  const output = o.output ?? 'image_embeds';
  const grid = c.imageSize / c.patch;
  const tokens = grid * grid + 1;
  const patches = g.op('Conv', [input, g.weight([c.visionWidth, 3, c.patch, c.patch], 1 / Math.sqrt(3 * c.patch * c.patch))],
    { kernel_shape: [c.patch, c.patch], strides: [c.patch, c.patch] });
  const seq = g.op('Transpose', [g.op('Reshape', [patches, g.ints([0, c.visionWidth, grid * grid])])], { perm: [0, 2, 1] });
  // The class token is broadcast to the batch: shape [B, 1, D] from the patch sequence's shape.
  const shape = g.op('Add', [g.op('Mul', [g.op('Shape', [seq]), g.ints([1, 0, 1])]), g.ints([0, 1, 0])]);
  const cls = g.op('Expand', [g.weight([1, 1, c.visionWidth], 0.5), shape]);
  let x = g.op('Add', [g.op('Concat', [cls, seq], { axis: 1 }), g.weight([tokens, c.visionWidth], 0.1)]);
  x = g.layerNorm(x, c.visionWidth);
  for (let l = 0; l < c.visionLayers; l++) x = g.block(x, c.visionWidth, c.visionHeads);
  const pooled = g.layerNorm(g.op('Gather', [x, g.ints([0], true)], { axis: 1 }), c.visionWidth);
  g.linear(pooled, c.visionWidth, c.embedDim, false, output);
  const batch = o.fixed ? 1 : 'batch';
  return g.model('clip_vision', [{ name: input, type: DataType.FLOAT, shape: [batch, 3, c.imageSize, c.imageSize] }],
    [{ name: output, type: DataType.FLOAT, shape: [batch, c.embedDim] }]);
}

/** Token ids as int64, from an int32 input where the export takes them so. */
export function idsInput(g: Graph, input: string, type: 'int64' | 'int32' = 'int64'): string {
  return type === 'int32' ? g.op('Cast', [input], { to: DataType.INT64 }) : input;
}

export function vitTextModel(c: VitConfig, seed: number, o: TowerOptions = {}): Uint8Array {
  const g = new Graph(seed, o.int8);
  const input = o.input ?? 'input_ids';
  const output = o.output ?? 'text_embeds';
  const ids = idsInput(g, input, o.inputType);
  const mask = new Float32Array(c.context * c.context);
  for (let i = 0; i < c.context; i++) for (let j = i + 1; j < c.context; j++) mask[i * c.context + j] = -1e9;
  // The sequence may be shorter than the context (as in Hugging Face exports): position
  // embeddings and the causal mask are sliced to its length.
  const len = g.op('Unsqueeze', [g.op('Gather', [g.op('Shape', [ids]), g.ints([1], true)], { axis: 0 }), g.ints([0])]);
  const causal = g.op('Slice', [g.constant([c.context, c.context], mask), g.ints([0, 0]), g.op('Concat', [len, len], { axis: 0 }), g.ints([0, 1])]);
  const positions = g.op('Slice', [g.weight([c.context, c.textWidth], 0.1), g.ints([0]), len, g.ints([0])]);
  let x = g.op('Add', [g.op('Gather', [g.weight([c.vocab, c.textWidth], 0.5), ids], { axis: 0 }), positions]);
  for (let l = 0; l < c.textLayers; l++) x = g.block(x, c.textWidth, c.textHeads, causal);
  x = g.layerNorm(x, c.textWidth);
  // Pool at the end-of-text token: it has the highest id, so ArgMax finds it (as CLIP does).
  const eot = g.op('ArgMax', [ids], { axis: -1, keepdims: 0 });
  const onehot = g.op('OneHot', [eot, g.op('Squeeze', [len, g.ints([0])]), g.constant([2], Float32Array.of(0, 1))], { axis: -1 });
  const pooled = g.op('Squeeze', [g.op('MatMul', [g.op('Unsqueeze', [onehot, g.ints([1])]), x]), g.ints([1])]);
  g.linear(pooled, c.textWidth, c.embedDim, false, output);
  const batch = o.fixed ? 1 : 'batch';
  return g.model('clip_text', [{ name: input, type: o.inputType === 'int32' ? DataType.INT32 : DataType.INT64, shape: [batch, o.fixed ? c.context : 'sequence'] }],
    [{ name: output, type: DataType.FLOAT, shape: [batch, c.embedDim] }]);
}

export function cnnModel(c: CnnConfig, seed: number): Uint8Array {
  const g = new Graph(seed);
  let x = 'pixel_values';
  let inC = 3;
  for (const outC of c.channels) {
    const conv = g.op('Conv', [x, g.weight([outC, inC, 3, 3], Math.sqrt(2 / (inC * 9))), g.constant([outC], new Float32Array(outC))],
      { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
    x = g.op('Relu', [conv]);
    inC = outC;
  }
  const pooled = g.op('Flatten', [g.op('GlobalAveragePool', [x])], { axis: 1 });
  g.op('Gemm', [pooled, g.weight([c.classes, inC], 0.1), g.constant([c.classes], new Float32Array(c.classes))], { transB: 1 }, 'logits');
  // Like an exported classifier, only logits are a graph output; Loupe finds the map itself.
  // As many published exports (the ONNX Model Zoo's), `fixedInput` fixes the picture's size in the graph.
  const side = c.fixedInput;
  return g.model('cnn', [{ name: 'pixel_values', type: DataType.FLOAT, shape: side ? [1, 3, side, side] : ['batch', 3, 'height', 'width'] }],
    [{ name: 'logits', type: DataType.FLOAT, shape: ['batch', c.classes] }]);
}

export function write(dir: string, rel: string, data: Uint8Array | string): void {
  const path = join(dir, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

export function preprocessorConfig(size: number, mean: number[], std: number[]): string {
  return JSON.stringify({
    do_resize: true, size: { shortest_edge: size }, resample: 3, do_center_crop: true, crop_size: { height: size, width: size },
    do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: mean, image_std: std, do_convert_rgb: true,
  }, null, 2);
}

export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];
export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];

/**
 * Writes a CLIP pack folder in the Hugging Face / Transformers.js layout. `merges` is the text of
 * the CLIP BPE merges file (the tokenizer is the real one; only the weights are random).
 */
export function writeClipPack(dir: string, c: VitConfig, seed: number, merges: string, o: { int8?: boolean } = {}): void {
  write(dir, 'config.json', JSON.stringify({
    model_type: 'clip', projection_dim: c.embedDim,
    vision_config: { image_size: c.imageSize, patch_size: c.patch, hidden_size: c.visionWidth, num_hidden_layers: c.visionLayers, num_attention_heads: c.visionHeads },
    text_config: { hidden_size: c.textWidth, num_hidden_layers: c.textLayers, num_attention_heads: c.textHeads, vocab_size: c.vocab, max_position_embeddings: c.context },
  }, null, 2));
  write(dir, 'preprocessor_config.json', preprocessorConfig(c.imageSize, CLIP_MEAN, CLIP_STD));
  write(dir, 'merges.txt', merges);
  const q = o.int8 ? '_quantized' : '';
  write(dir, `onnx/vision_model${q}.onnx`, vitVisionModel(c, seed, { int8: o.int8 }));
  write(dir, `onnx/text_model${q}.onnx`, vitTextModel(c, seed + 1, { int8: o.int8 }));
}

/** Writes a CNN pack folder (preprocessing: shortest edge `imageSize`, no crop, ImageNet statistics). */
export function writeCnnPack(dir: string, c: CnnConfig, seed: number): void {
  write(dir, 'config.json', JSON.stringify({ model_type: 'resnet', hidden_sizes: c.channels, num_labels: c.classes }, null, 2));
  const pre = JSON.parse(preprocessorConfig(c.imageSize, IMAGENET_MEAN, IMAGENET_STD)) as Record<string, unknown>;
  write(dir, 'preprocessor_config.json', JSON.stringify({ ...pre, do_center_crop: false }, null, 2));
  write(dir, 'onnx/model.onnx', cnnModel(c, seed));
}

/**
 * YuNet's graph structure (OpenCV Zoo's 2023mar export): one BGR 0..255 picture in, fixed at
 * side×side and batch 1; per stride S the heads cls_S, obj_S (sigmoids), bbox_S and kps_S, laid out
 * [1, cells, C]. Its weights make it answer where the picture is blue, at the 32 stride only: each
 * 32-px cell that is blue is one face of exactly that cell, with landmarks at `YUNET_KPS`.
 */
export const YUNET_KPS = [0.3, 0.4, 0.7, 0.4, 0.5, 0.55, 0.35, 0.75, 0.65, 0.75];

export function yunetModel(side = 320, strides: readonly number[] = [8, 16, 32]): Uint8Array {
  const g = new Graph(1);
  const outputs: Parameters<typeof buildModel>[0]['outputs'][number][] = [];
  for (const s of strides) {
    const pooled = g.op('AveragePool', ['input'], { kernel_shape: [s, s], strides: [s, s] });
    // cls = sigmoid(0.1·B − 12.75): near 1 on a blue cell (B = 255), near 0 elsewhere.
    const fires = s === 32;
    const head = (name: string, c: number, weight: number[], bias: number[], sigmoid: boolean): void => {
      let x = g.op('Conv', [pooled, g.constant([c, 3, 1, 1], Float32Array.from(weight)), g.constant([c], Float32Array.from(bias))]);
      if (sigmoid) x = g.op('Sigmoid', [x]);
      g.op('Reshape', [g.op('Transpose', [x], { perm: [0, 2, 3, 1] }), g.ints([1, -1, c])], undefined, `${name}_${s}`);
      outputs.push({ name: `${name}_${s}`, type: DataType.FLOAT, shape: [1, (side / s) ** 2, c] });
    };
    head('cls', 1, fires ? [0.1, 0, 0] : [0, 0, 0], [fires ? -12.75 : -12], true);
    head('obj', 1, [0, 0, 0], [8], true);
    head('bbox', 4, new Array(12).fill(0), [0.5, 0.5, 0, 0], false);
    head('kps', 10, new Array(30).fill(0), YUNET_KPS, false);
  }
  return g.model('yunet-like', [{ name: 'input', type: DataType.FLOAT, shape: [1, 3, side, side] }], outputs);
}

/**
 * SFace's graph structure (OpenCV Zoo's 2021dec export): an aligned 112×112 RGB face of 0..255 in,
 * batch fixed at 1, a 128-d vector out, with input and output named as that export names them
 * rather than as a description might. Random weights over a coarse spatial layout, so different
 * faces give different vectors and the same face the same one.
 */
export function sfaceModel(seed = 1, input = 'input.1', output = 'fc1'): Uint8Array {
  const g = new Graph(seed);
  const scaled = g.op('Mul', [input, g.constant([], Float32Array.of(1 / 255))]);
  const conv = g.op('Conv', [scaled, g.weight([8, 3, 3, 3], Math.sqrt(2 / 27)), g.constant([8], new Float32Array(8))],
    { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  const pooled = g.op('AveragePool', [g.op('Relu', [conv])], { kernel_shape: [7, 7], strides: [7, 7] });
  const flat = g.op('Flatten', [pooled], { axis: 1 });
  g.op('Gemm', [flat, g.weight([128, 8 * 8 * 8], 1 / Math.sqrt(512)), g.constant([128], new Float32Array(128))], { transB: 1 }, output);
  return g.model('sface-like', [{ name: input, type: DataType.FLOAT, shape: [1, 3, 112, 112] }], [{ name: output, type: DataType.FLOAT, shape: [1, 128] }]);
}
