/**
 * What a dual-encoder pack is, read from its files: which layout (Transformers.js: onnx/vision_model.onnx
 * + onnx/text_model.onnx beside config.json, preprocessor_config.json and the tokenizer; Immich's
 * open_clip exports: visual/model.onnx + visual/preprocess_cfg.json, textual/model.onnx + its
 * tokenizer files, config.json from open_clip), which family (CLIP, MobileCLIP, SigLIP, SigLIP 2,
 * an XLM-R or NLLB multilingual tower), and so how its sentences are prepared and its scores read.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClipFamily, Scoring } from './manifest.js';

export interface DualEncoderDescription {
  readonly layout: 'transformers.js' | 'immich';
  readonly family: ClipFamily;
  readonly roles: { vision: string; text: string; tokenizer: string; preprocessor: string; tokenizerConfig?: string };
  readonly textSettings: { context: number; padding: 'longest' | 'max_length'; canonicalize: boolean; lowercase: boolean };
  readonly scoring: Scoring;
  readonly multilingual: boolean;
  readonly languagePrefix: 'none' | 'nllb';
}

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function readConfig(dir: string, files: readonly string[]): Json {
  if (!files.includes('config.json')) return {};
  try {
    return obj(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
  } catch {
    return {};
  }
}

/** The family an open_clip config (Immich's layout) describes. */
function openClipFamily(config: Json): ClipFamily {
  const text = obj(config['text_cfg']);
  const vision = obj(config['vision_cfg']);
  const tokenizer = str(text['hf_tokenizer_name']).toLowerCase();
  const names = `${tokenizer} ${str(text['hf_model_name'])} ${str(vision['timm_model_name'])} ${str(config['model_name'])}`.toLowerCase();
  if (names.includes('nllb')) return 'nllb-siglip';
  if (names.includes('xlm-roberta')) return 'xlm-roberta';
  if (names.includes('siglip2') || names.includes('gemma')) return 'siglip2';
  if (names.includes('mobileclip') || names.includes('fastvit') || names.includes('mci')) return 'mobileclip';
  if ('init_logit_bias' in config) return 'siglip';
  return 'clip';
}

/** The family a Transformers.js config.json (model_type) describes. */
function hubFamily(config: Json): ClipFamily {
  const type = str(config['model_type']).toLowerCase();
  if (type === 'siglip2') return 'siglip2';
  if (type === 'siglip') return 'siglip';
  if (type.includes('mobileclip')) return 'mobileclip';
  if (type.includes('xlm-roberta') || type === 'mclip') return 'xlm-roberta';
  return 'clip';
}

const SIGMOID_FAMILIES: ReadonlySet<ClipFamily> = new Set(['siglip', 'siglip2', 'nllb-siglip']);

/**
 * SigLIP's learned scale and bias are parameters of the checkpoint, not of either tower's graph:
 * a pack states them as `logit_scale` (the exponentiated scale, as the logits use it) and
 * `logit_bias` in config.json. Without them the pack is scored like CLIP (calibrated on the library).
 */
function scoringOf(config: Json, family: ClipFamily): Scoring {
  const scale = num(config['logit_scale']);
  const bias = num(config['logit_bias']);
  if (SIGMOID_FAMILIES.has(family) && scale !== undefined && scale > 0 && bias !== undefined) return { kind: 'sigmoid', scale, bias };
  return { kind: 'cosine' };
}

/** The pack's roles, family and text settings; null when the files are not a dual encoder's. */
export function describeDualEncoder(dir: string, files: readonly string[]): DualEncoderDescription | null {
  const has = (f: string): boolean => files.includes(f);
  const find = (...names: string[]): string | undefined => names.find(has);
  const config = readConfig(dir, files);
  if (has('visual/model.onnx') && has('textual/model.onnx')) {
    const tokenizer = find('textual/tokenizer.json', 'textual/merges.txt');
    const preprocessor = find('visual/preprocess_cfg.json', 'visual/preprocessor_config.json');
    if (!tokenizer || !preprocessor) return null;
    const family = openClipFamily(config);
    const text = obj(config['text_cfg']);
    const kwargs = obj(text['tokenizer_kwargs']);
    return {
      layout: 'immich', family,
      roles: { vision: 'visual/model.onnx', text: 'textual/model.onnx', tokenizer, preprocessor, ...(has('textual/tokenizer_config.json') ? { tokenizerConfig: 'textual/tokenizer_config.json' } : {}) },
      // Immich pads every sentence to the context (its exports often fix it), as open_clip trained them.
      textSettings: { context: num(text['context_length']) ?? 77, padding: 'max_length', canonicalize: str(kwargs['clean']) === 'canonicalize', lowercase: family === 'siglip2' },
      scoring: scoringOf(config, family),
      multilingual: family === 'xlm-roberta' || family === 'nllb-siglip',
      languagePrefix: family === 'nllb-siglip' ? 'nllb' : 'none',
    };
  }
  const vision = find('onnx/vision_model.onnx', 'vision_model.onnx', 'onnx/vision_model_quantized.onnx');
  const text = find('onnx/text_model.onnx', 'text_model.onnx', 'onnx/text_model_quantized.onnx');
  const tokenizer = find('merges.txt', 'tokenizer.json', 'bpe_simple_vocab_16e6.txt.gz', 'bpe_simple_vocab_16e6.txt');
  const preprocessor = find('preprocessor_config.json');
  if (!vision || !text || !tokenizer || !preprocessor) return null;
  const family = hubFamily(config);
  const sigmoid = family === 'siglip' || family === 'siglip2';
  const textConfig = obj(config['text_config']);
  const context = num(textConfig['max_position_embeddings']) ?? (sigmoid ? 64 : 77);
  return {
    layout: 'transformers.js', family,
    roles: { vision, text, tokenizer, preprocessor, ...(has('tokenizer_config.json') && tokenizer === 'tokenizer.json' ? { tokenizerConfig: 'tokenizer_config.json' } : {}) },
    // SigLIP pools the last position, so it must see the padding it was trained with.
    textSettings: { context, padding: sigmoid ? 'max_length' : 'longest', canonicalize: false, lowercase: family === 'siglip2' },
    scoring: scoringOf(config, family),
    multilingual: family === 'xlm-roberta' || family === 'nllb-siglip' || config['multilingual'] === true,
    languagePrefix: family === 'nllb-siglip' ? 'nllb' : 'none',
  };
}
