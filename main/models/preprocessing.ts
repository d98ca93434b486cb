/**
 * A pack's preprocessor_config.json (the Hugging Face CLIPImageProcessor / ConvNext / ViT fields),
 * read into what Loupe honours. The pixels themselves are prepared in encoders/preprocess.ts.
 */
export interface Preprocessing {
  readonly shortestEdge: number;
  readonly cropWidth: number;
  readonly cropHeight: number;
  readonly doResize: boolean;
  readonly doCenterCrop: boolean;
  readonly rescaleFactor: number;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  readonly kernel: 'cubic' | 'linear' | 'nearest' | 'lanczos3';
  /**
   * 'shortest': the shortest edge to `shortestEdge`, proportions kept (then the crop); 'squash':
   * straight to the crop size, proportions not kept, as SigLIP's processors resize
   * (`size: {height, width}`, open_clip's `resize_mode: squash`).
   */
  readonly resizeMode: 'shortest' | 'squash';
}

export class PreprocessorConfigError extends Error {
  constructor(message: string) {
    super(`preprocessor_config.json: ${message}`);
    this.name = 'PreprocessorConfigError';
  }
}

type Json = Record<string, unknown>;

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new PreprocessorConfigError(`${what} must be a positive number`);
  return v;
}

function triple(v: unknown, what: string, fallback: readonly [number, number, number]): readonly [number, number, number] {
  if (v === undefined) return fallback;
  const a = typeof v === 'number' ? [v, v, v] : v;
  if (!Array.isArray(a) || a.length !== 3 || a.some((x) => typeof x !== 'number' || !Number.isFinite(x))) throw new PreprocessorConfigError(`${what} must be 3 numbers`);
  return [a[0] as number, a[1] as number, a[2] as number];
}

/** PIL resample codes used by Transformers: 0 nearest, 2 bilinear, 3 bicubic, 1 lanczos. */
const KERNELS: Record<number, Preprocessing['kernel']> = { 0: 'nearest', 1: 'lanczos3', 2: 'linear', 3: 'cubic' };

const OPEN_CLIP_KERNELS: Record<string, Preprocessing['kernel']> = { bicubic: 'cubic', bilinear: 'linear', nearest: 'nearest', lanczos: 'lanczos3' };

/**
 * Immich's visual/preprocess_cfg.json (open_clip's PreprocessCfg): size (a side or [h, w]), mean,
 * std, interpolation, resize_mode ('shortest' then a centre crop, or 'squash').
 */
function parseOpenClipConfig(c: Json): Preprocessing {
  const size = c['size'];
  const [h, w] = Array.isArray(size) ? [num(size[0], 'size'), num(size[1], 'size')] : [num(size, 'size'), num(size, 'size')];
  const kernel = OPEN_CLIP_KERNELS[String(c['interpolation'] ?? 'bicubic')];
  if (!kernel) throw new PreprocessorConfigError(`interpolation ${String(c['interpolation'])} is not supported`);
  const mode = String(c['resize_mode'] ?? 'shortest');
  if (mode !== 'shortest' && mode !== 'squash') throw new PreprocessorConfigError(`resize_mode ${mode} is not supported`);
  return {
    shortestEdge: Math.min(h, w), cropWidth: w, cropHeight: h, doResize: true, doCenterCrop: mode === 'shortest', rescaleFactor: 1 / 255,
    mean: triple(c['mean'], 'mean', [0.48145466, 0.4578275, 0.40821073]), std: triple(c['std'], 'std', [0.26862954, 0.26130258, 0.27577711]),
    kernel, resizeMode: mode,
  };
}

/** Reads the fields Loupe honours; anything it cannot honour is an error, not a silent default. */
export function parsePreprocessorConfig(config: unknown): Preprocessing {
  if (typeof config !== 'object' || config === null) throw new PreprocessorConfigError('not an object');
  const c = config as Json;
  if ('resize_mode' in c || 'interpolation' in c || Array.isArray(c['size'])) return parseOpenClipConfig(c);
  const size = c['size'];
  const shortestEdge = num(typeof size === 'object' && size !== null ? ((size as Json)['shortest_edge'] ?? (size as Json)['height']) : size, 'size');
  const crop = c['crop_size'] ?? size;
  const cropWidth = num(typeof crop === 'object' && crop !== null ? ((crop as Json)['width'] ?? (crop as Json)['shortest_edge']) : crop, 'crop_size');
  const cropHeight = num(typeof crop === 'object' && crop !== null ? ((crop as Json)['height'] ?? (crop as Json)['shortest_edge']) : crop, 'crop_size');
  const resample = c['resample'] ?? 3;
  const kernel = typeof resample === 'number' ? KERNELS[resample] : undefined;
  if (!kernel) throw new PreprocessorConfigError(`resample ${String(resample)} is not supported`);
  const doNormalize = c['do_normalize'] !== false;
  // {height, width} with no shortest edge and no crop asked for: straight to that size (SigLIP).
  const squash = typeof size === 'object' && size !== null && !('shortest_edge' in (size as Json)) && c['do_center_crop'] !== true;
  return {
    resizeMode: squash ? 'squash' : 'shortest',
    shortestEdge,
    cropWidth,
    cropHeight,
    doResize: c['do_resize'] !== false,
    doCenterCrop: !squash && c['do_center_crop'] !== false,
    rescaleFactor: c['do_rescale'] === false ? 1 : typeof c['rescale_factor'] === 'number' ? c['rescale_factor'] : 1 / 255,
    mean: doNormalize ? triple(c['image_mean'], 'image_mean', [0.48145466, 0.4578275, 0.40821073]) : [0, 0, 0],
    std: doNormalize ? triple(c['image_std'], 'image_std', [0.26862954, 0.26130258, 0.27577711]) : [1, 1, 1],
    kernel,
  };
}

