/**
 * The model-pack manifest (`loupe-pack.json`, written by Loupe into every installed pack) and the
 * catalog of well-known packs (`models/catalog.json`). Both are validated with zod: a pack whose
 * manifest does not parse is reported and never loaded.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { errorMessage } from '../util/errors.js';

export const MANIFEST_FILE = 'loupe-pack.json';

const PACK_NAME = /^[a-z0-9][a-z0-9._-]{0,47}$/;
/** A relative path inside a pack: no absolute paths, no `..`, no backslashes. */
const relPath = z.string().min(1).max(300).refine((p) => !p.startsWith('/') && !p.includes('\\') && !p.split('/').some((s) => s === '..' || s === '' || s === '.'), 'must be a relative path inside the pack');
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256');
const triple = z.tuple([z.number(), z.number(), z.number()]);

export const packName = z.string().regex(PACK_NAME, 'must be 1–48 of a–z, 0–9, ".", "_", "-", starting with a letter or digit');

export const PackFileSchema = z.object({
  path: relPath,
  size: z.number().int().nonnegative(),
  sha256,
});

const common = {
  format: z.literal(1),
  name: packName,
  title: z.string().min(1),
  licence: z.string().min(1),
  /** Where the weights came from (a URL, or `local:` + the imported folder). */
  source: z.string().min(1),
  embeddingDim: z.number().int().positive(),
  inputSize: z.number().int().positive(),
  mean: triple,
  std: triple,
  preprocessor: relPath,
  files: z.array(PackFileSchema).min(1),
  installedAt: z.string().optional(),
};

/**
 * The dual-encoder families Loupe runs: they differ in how sentences are tokenized and padded, how
 * pictures are resized, and how a score becomes a probability (TextSettings, Scoring).
 */
export const CLIP_FAMILIES = ['clip', 'mobileclip', 'siglip', 'siglip2', 'xlm-roberta', 'nllb-siglip'] as const;
export type ClipFamily = (typeof CLIP_FAMILIES)[number];

/** Where a pack's files came from: Transformers.js (onnx/…) or Immich's open_clip exports (visual/, textual/). */
export const PACK_LAYOUTS = ['transformers.js', 'immich'] as const;

export const TextSettingsSchema = z.object({
  context: z.number().int().min(8).max(1024).default(77),
  padding: z.enum(['longest', 'max_length']).default('longest'),
  canonicalize: z.boolean().default(false),
  lowercase: z.boolean().default(false),
});

/**
 * How a cosine becomes relevance. 'cosine': CLIP-style softmax training says nothing absolute, so
 * the cut-off is calibrated on the library (search/relevance.ts); 'sigmoid': SigLIP's own
 * probability σ(scale·cos + bias), with the learned scale and bias of the checkpoint.
 */
export const ScoringSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('cosine') }),
  z.object({ kind: z.literal('sigmoid'), scale: z.number().positive(), bias: z.number() }),
]);
export type Scoring = z.infer<typeof ScoringSchema>;

export const ClipManifestSchema = z.object({
  ...common,
  kind: z.literal('clip'),
  family: z.enum(CLIP_FAMILIES).default('clip'),
  layout: z.enum(PACK_LAYOUTS).default('transformers.js'),
  vision: relPath,
  text: relPath,
  /** CLIP BPE merges (merges.txt, bpe_simple_vocab_16e6.txt[.gz]) or a Hugging Face tokenizer.json. */
  tokenizer: relPath,
  /** tokenizer_config.json (its pad token), where the pack has one. */
  tokenizerConfig: relPath.optional(),
  textSettings: TextSettingsSchema.default({ context: 77, padding: 'longest', canonicalize: false, lowercase: false }),
  scoring: ScoringSchema.default({ kind: 'cosine' }),
  /** Sentences in many languages (a multilingual text tower). */
  multilingual: z.boolean().default(false),
  /** NLLB towers read the language's FLORES-200 code before the text ("deu_Latn" + text). */
  languagePrefix: z.enum(['none', 'nllb']).default('none'),
});

export const CnnManifestSchema = z.object({
  ...common,
  kind: z.literal('cnn'),
  model: relPath,
  /** The last convolutional map's tensor; "auto": the input of the final global pooling. */
  featureOutput: z.string().min(1).default('auto'),
  /** Pictures are resized to fit this many pixels on their long side before the CNN sees them. */
  maxSide: z.number().int().min(64).max(2048).default(512),
  /**
   * [height, width] where the graph fixes its picture's size (many published exports fix 224×224):
   * pictures are then letterboxed to it, and region search is coarser (a 7×7 map). Found by the trial run.
   */
  fixedInput: z.tuple([z.number().int().positive(), z.number().int().positive()]).optional(),
  /**
   * Levels of the R-MAC grid of regional descriptors: level l has squares of side 2/(l+1) of the
   * shorter side, so more levels find smaller objects and give tighter boxes, at more vectors per
   * photo (3 levels: about 20 on a 4:3 photo; see docs/evaluation.md for what each level buys).
   */
  regionLevels: z.number().int().min(1).max(6).default(3),
});

/**
 * How close, in this embedder's space, a face must be to a person to join them: the cosine to
 * their centre, and how much closer than to the next person. Spaces differ (MobileFaceNet's, its
 * common direction removed, puts different people below 0.2 and the same face above 0.9; SFace's
 * verification threshold is 0.363), so a pack may name its own; faces/cluster.ts has the default.
 */
const Grouping = z.object({ join: z.number().min(-1).max(1), margin: z.number().min(0).max(2) });

/**
 * A face pack: a detector and an embedder, each a model.json (input, normalisation, outputs,
 * anchors, crop recipe) beside its ONNX file, laid out as the real ones in ../shared/models are.
 */
export const FaceManifestSchema = z.object({
  format: z.literal(1),
  name: packName,
  title: z.string().min(1),
  licence: z.string().min(1),
  source: z.string().min(1),
  kind: z.literal('face'),
  /** The detector's model.json and the embedder's, inside the pack. */
  detector: relPath,
  embedder: relPath,
  /**
   * A second detector's model.json, run on a square about each face the first finds: a face it
   * does not confirm is dropped (BlazeFace takes a cat's face, a horse's, a patch of a landscape
   * for faces at the scores it gives small real ones; the full-range detector does not).
   */
  verifier: relPath.optional(),
  /** The face vector's length. */
  embeddingDim: z.number().int().positive(),
  grouping: Grouping.optional(),
  files: z.array(PackFileSchema).min(1),
  installedAt: z.string().optional(),
});

export const ManifestSchema = z.discriminatedUnion('kind', [ClipManifestSchema, CnnManifestSchema, FaceManifestSchema]);
export type PackManifest = z.infer<typeof ManifestSchema>;
export type ClipManifest = z.infer<typeof ClipManifestSchema>;
export type CnnManifest = z.infer<typeof CnnManifestSchema>;
export type FaceManifest = z.infer<typeof FaceManifestSchema>;
/** The packs whose vectors live in embedding spaces (CLIP, CNN). */
export type EmbeddingManifest = ClipManifest | CnnManifest;
export type PackFile = z.infer<typeof PackFileSchema>;

/** A catalog file: size and SHA-256 are filled by `npm run pin-catalog`; an entry without them is refused at install (pinning.ts). */
const CatalogFile = z.object({ path: relPath, size: z.number().int().nonnegative().optional(), sha256: sha256.optional() });

const repoId = z.string().regex(/^[\w.-]+\/[\w.-]+$/);

const catalogCommon = {
  name: packName,
  title: z.string(),
  licence: z.string(),
  description: z.string(),
  /** The catalog's choice for its kind: what the app offers on first run. */
  recommended: z.boolean().optional(),
};

/** Published zero-shot and retrieval figures (percent), and their source. */
const Quality = z.object({
  imagenet: z.number().optional(),
  flickrT2I: z.number().optional(),
  cocoT2I: z.number().optional(),
  source: z.string(),
});
export type PackQuality = z.infer<typeof Quality>;

/** bench:encode's figures for the pack's family and precision on a 2-core laptop-class CPU. */
const Cost = z.object({ imagesPerSec: z.number().positive(), sentenceMs: z.number().positive(), measured: z.string() });
export type PackCost = z.infer<typeof Cost>;

const hubCommon = {
  ...catalogCommon,
  /** A Hugging Face model repository in the Transformers.js ONNX layout. */
  repo: repoId,
  revision: z.string().min(1),
  preprocessor: relPath,
  files: z.array(CatalogFile).min(1),
};

/**
 * One model of a face pack: a single ONNX file kept in a Hugging Face repository or in a GitHub
 * repository's LFS store (where OpenCV's Zoo keeps YuNet and SFace), and the model.json that
 * Loupe writes beside it at install, since those repositories ship none (encoders/faces.ts reads it).
 */
const FacePart = z.object({
  host: z.enum(['huggingface', 'github']).default('huggingface'),
  repo: repoId,
  revision: z.string().min(1),
  file: CatalogFile,
  /** The model.json, less its `format.file` (the installer names the file). */
  model: z.record(z.string(), z.unknown()),
  licence: z.string(),
});
export type FacePart = z.infer<typeof FacePart>;

export const CatalogEntrySchema = z.discriminatedUnion('kind', [
  z.object({
    ...hubCommon, kind: z.literal('clip'), vision: relPath, text: relPath, tokenizer: relPath,
    family: z.enum(CLIP_FAMILIES).default('clip'),
    layout: z.enum(PACK_LAYOUTS).default('transformers.js'),
    tokenizerConfig: relPath.optional(),
    textSettings: TextSettingsSchema.optional(),
    scoring: ScoringSchema.optional(),
    multilingual: z.boolean().default(false),
    languagePrefix: z.enum(['none', 'nllb']).default('none'),
    /** Published quality, with where it was published (the issue's table; open_clip's results, the papers). */
    quality: Quality.optional(),
    /** What the files weigh, and the encoder's measured cost on a laptop-class CPU (bench:encode). */
    downloadMB: z.number().positive().optional(),
    ramMB: z.number().positive().optional(),
    cost: Cost.optional(),
  }),
  z.object({ ...hubCommon, kind: z.literal('cnn'), model: relPath, featureOutput: z.string().default('auto'), maxSide: z.number().int().default(512) }),
  z.object({ ...catalogCommon, kind: z.literal('face'), detector: FacePart, embedder: FacePart, grouping: Grouping.optional() }),
]);
export type CatalogEntry = z.infer<typeof CatalogEntrySchema>;
export type ClipCatalogEntry = Extract<CatalogEntry, { kind: 'clip' }>;
export type FaceCatalogEntry = Extract<CatalogEntry, { kind: 'face' }>;

/** One file an install fetches: where it is kept, and where it goes in the pack. */
export interface CatalogDownload {
  readonly host: 'huggingface' | 'github';
  readonly repo: string;
  readonly revision: string;
  readonly path: string;
  readonly size?: number;
  readonly sha256?: string;
  /** Its path inside the installed pack. */
  readonly dest: string;
}

/** A face model's file goes into its role's folder (detector/, embedder/) under its own name. */
export function facePartDest(role: 'detector' | 'embedder', part: FacePart): string {
  return `${role}/${part.file.path.slice(part.file.path.lastIndexOf('/') + 1)}`;
}

/** Every file a catalog entry's install fetches, in order. */
export function catalogDownloads(entry: CatalogEntry): CatalogDownload[] {
  if (entry.kind !== 'face') {
    return entry.files.map((f) => ({ host: 'huggingface', repo: entry.repo, revision: entry.revision, ...f, dest: f.path }));
  }
  return (['detector', 'embedder'] as const).map((role) => {
    const part = entry[role];
    return { host: part.host, repo: part.repo, revision: part.revision, ...part.file, dest: facePartDest(role, part) };
  });
}

/** Where a catalog entry's weights are published, for people to read. */
export function catalogSource(entry: CatalogEntry): string {
  const page = (host: 'huggingface' | 'github', repo: string): string => (host === 'github' ? `https://github.com/${repo}` : `https://huggingface.co/${repo}`);
  if (entry.kind !== 'face') return page('huggingface', entry.repo);
  const [d, e] = [entry.detector, entry.embedder];
  return d.repo === e.repo && d.host === e.host ? page(d.host, d.repo) : `${page(d.host, d.repo)} + ${page(e.host, e.repo)}`;
}

export const CatalogSchema = z.object({ format: z.literal(1), packs: z.array(CatalogEntrySchema) });

export class ManifestError extends Error {
  constructor(readonly where: string, issues: string) {
    super(`${where}: ${issues}`);
    this.name = 'ManifestError';
  }
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ');
}

export function parseManifest(json: unknown, where: string): PackManifest {
  const r = ManifestSchema.safeParse(json);
  if (!r.success) throw new ManifestError(where, describe(r.error));
  const m = r.data;
  const listed = new Set(m.files.map((f) => f.path));
  const roles = m.kind === 'clip' ? [m.vision, m.text, m.tokenizer, m.preprocessor, ...(m.tokenizerConfig ? [m.tokenizerConfig] : [])] : m.kind === 'cnn' ? [m.model, m.preprocessor] : [m.detector, m.embedder, ...(m.verifier ? [m.verifier] : [])];
  for (const p of roles) if (!listed.has(p)) throw new ManifestError(where, `${p} is used but not listed in files`);
  return m;
}

export function readManifestFile(path: string): PackManifest {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ManifestError(path, errorMessage(err));
  }
  return parseManifest(json, path);
}

/**
 * models/catalog.json, found from the engine's source (main/models) or its build (dist/main/models);
 * LOUPE_CATALOG names another (a mirror's, or a test's pinned against its own hub).
 */
export function catalogPath(): string {
  const chosen = process.env['LOUPE_CATALOG'];
  if (chosen) return chosen;
  for (const rel of ['../../models/catalog.json', '../../../models/catalog.json']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error('models/catalog.json is missing from this installation');
}

export function loadCatalog(path = catalogPath()): CatalogEntry[] {
  const r = CatalogSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!r.success) throw new ManifestError('models/catalog.json', describe(r.error));
  return r.data.packs;
}
