/**
 * Installed model packs: one folder each under the library's `models/` folder, holding the
 * Hugging Face / Transformers.js files and the `loupe-pack.json` manifest Loupe writes last.
 * A pack is assembled in `models/.incoming/<name>` (downloads resume there), every file is
 * verified, a smoke run loads the models, and only then is the folder renamed into place: a
 * half-downloaded or corrupt pack is never where the engine looks for packs.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { describeDualEncoder } from './dual-encoder.js';
import { parsePreprocessorConfig } from './preprocessing.js';
import { fsyncDirSync, writeFileAtomic } from '../util/atomic.js';
import { downloadFile } from './download.js';
import { isPinned, unpinnedMessage } from './pinning.js';
import {
  catalogDownloads, catalogSource, facePartDest, MANIFEST_FILE, packName, parseManifest, readManifestFile,
  type CatalogEntry, type ClipCatalogEntry, type FaceCatalogEntry, type PackFile, type PackManifest,
} from './manifest.js';
import { UserError } from '../contract/errors.js';
import { errorMessage } from '../util/errors.js';

export interface InstalledPack {
  readonly name: string;
  readonly dir: string;
  /** Null when the manifest is missing or invalid (then `problem` says why). */
  readonly manifest: PackManifest | null;
  readonly problem: string | null;
}

export interface FileProblem {
  readonly path: string;
  readonly problem: string;
}

export interface VerifyReport {
  readonly name: string;
  readonly ok: boolean;
  readonly files: number;
  readonly bytes: number;
  readonly problems: readonly FileProblem[];
}

export interface InstallProgress {
  readonly file: string;
  readonly fileIndex: number;
  readonly files: number;
  readonly done: number;
  readonly total: number | null;
}

export interface InstallOptions {
  /** The model hub's base URL (default https://huggingface.co, or LOUPE_HUB_URL). */
  readonly hubUrl?: string;
  /** GitHub's LFS media host, for packs kept there (default https://media.githubusercontent.com/media, or LOUPE_GITHUB_MEDIA_URL). */
  readonly githubUrl?: string;
  readonly onProgress?: (p: InstallProgress) => void;
  readonly signal?: AbortSignal;
  readonly retryDelayMs?: number;
  readonly log?: (message: string) => void;
}

export interface ImportOptions {
  readonly name?: string;
  readonly kind?: 'clip' | 'cnn' | 'face';
  readonly title?: string;
  readonly licence?: string;
  readonly featureOutput?: string;
  readonly maxSide?: number;
  /** CNN packs: levels of the R-MAC region grid (default 3). */
  readonly regionLevels?: number;
}

/** The user's to act on (see contract/errors.ts). */
export class PackError extends UserError {}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function listFiles(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p, base));
    else if (e.isFile()) out.push(relative(base, p).split(sep).join('/'));
  }
  return out.sort();
}

/**
 * Loads a staged pack's models and runs one input (encoders/trial.ts): the embedding dimension,
 * and for a CNN whose graph fixes its picture's size, that size ([height, width]).
 */
export type TrialRun = (dir: string, manifest: PackManifest) => Promise<{ dim: number; fixedInput?: readonly [number, number] }>;

/** A pack name as the user gave it, or a sentence saying why it cannot be one (never a path). */
function checkedName(name: string): string {
  const r = packName.safeParse(name);
  if (!r.success) throw new PackError(`no model pack named ${JSON.stringify(name.slice(0, 60))}: pack names are ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}

export class PackStore {
  /** @param trialRun run before a pack is installed; the store itself never loads models. */
  constructor(readonly dir: string, private readonly trialRun: TrialRun) {}

  private packDir(name: string): string {
    return join(this.dir, checkedName(name));
  }

  list(): InstalledPack[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => {
        const dir = join(this.dir, e.name);
        try {
          const manifest = readManifestFile(join(dir, MANIFEST_FILE));
          if (manifest.name !== e.name) throw new PackError(`manifest names ${manifest.name}, folder is ${e.name}`);
          return { name: e.name, dir, manifest, problem: null };
        } catch (err) {
          return { name: e.name, dir, manifest: null, problem: errorMessage(err) };
        }
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** An installed pack's manifest; throws a clear error when it is missing or broken. */
  get(name: string): { dir: string; manifest: PackManifest } {
    const dir = this.packDir(name);
    if (!existsSync(dir)) throw new PackError(`model pack ${name} is not installed (see \`loupe models list\`)`);
    try {
      return { dir, manifest: readManifestFile(join(dir, MANIFEST_FILE)) };
    } catch (err) {
      throw new PackError(`model pack ${name} is damaged: ${errorMessage(err)}; reinstall it`);
    }
  }

  has(name: string): boolean {
    return this.list().some((p) => p.name === name && p.manifest !== null);
  }

  /** Quick check before loading (sizes only); `verify` re-hashes. */
  checkSizes(name: string): FileProblem[] {
    const { dir, manifest } = this.get(name);
    const problems: FileProblem[] = [];
    for (const f of manifest.files) {
      const p = join(dir, f.path);
      const size = existsSync(p) ? statSync(p).size : -1;
      if (size < 0) problems.push({ path: f.path, problem: 'missing' });
      else if (size !== f.size) problems.push({ path: f.path, problem: `${size} bytes, manifest says ${f.size}` });
    }
    return problems;
  }

  /** Re-hashes every file of one pack, or of every pack. */
  async verify(name?: string, onFile?: (pack: string, file: string) => void): Promise<VerifyReport[]> {
    const reports: VerifyReport[] = [];
    for (const p of this.list()) {
      if (name !== undefined && p.name !== name) continue;
      if (!p.manifest) {
        reports.push({ name: p.name, ok: false, files: 0, bytes: 0, problems: [{ path: MANIFEST_FILE, problem: p.problem ?? 'invalid' }] });
        continue;
      }
      const problems: FileProblem[] = [];
      let bytes = 0;
      for (const f of p.manifest.files) {
        onFile?.(p.name, f.path);
        const path = join(p.dir, f.path);
        if (!existsSync(path)) { problems.push({ path: f.path, problem: 'missing' }); continue; }
        const size = (await stat(path)).size;
        bytes += size;
        if (size !== f.size) { problems.push({ path: f.path, problem: `${size} bytes, manifest says ${f.size}` }); continue; }
        const actual = await sha256File(path);
        if (actual !== f.sha256) problems.push({ path: f.path, problem: `SHA-256 ${actual}, manifest says ${f.sha256}` });
      }
      reports.push({ name: p.name, ok: problems.length === 0, files: p.manifest.files.length, bytes, problems });
    }
    if (name !== undefined && reports.length === 0) throw new PackError(`model pack ${name} is not installed`);
    return reports;
  }

  /** Removes a pack: renamed away first (atomic), then deleted. */
  async remove(name: string): Promise<void> {
    const dir = this.packDir(name);
    if (!existsSync(dir)) throw new PackError(`model pack ${name} is not installed`);
    const trash = join(this.dir, `.trash-${name}-${process.pid}-${Date.now()}`);
    await rename(dir, trash);
    fsyncDirSync(this.dir);
    await rm(trash, { recursive: true, force: true });
  }

  /**
   * Copies a local folder into the library as a pack: in the Hugging Face ONNX layout (vision +
   * text models: CLIP; one model: CNN), or a face pack (`detector/` and `embedder/`, each a
   * model.json beside its ONNX file, and optionally `verifier/`, a second detector). The kind is found from the files unless given.
   */
  async import(src: string, opts: ImportOptions = {}): Promise<PackManifest> {
    if (!existsSync(src) || !statSync(src).isDirectory()) throw new PackError(`${src} is not a folder`);
    const files = listFiles(src).filter((f) => f !== MANIFEST_FILE);
    const onnx = files.filter((f) => f.endsWith('.onnx'));
    const find = (...names: string[]): string | undefined => names.find((n) => files.includes(n));
    const twoTowers = find('onnx/vision_model.onnx', 'vision_model.onnx', 'onnx/vision_model_quantized.onnx', 'visual/model.onnx')
      && find('onnx/text_model.onnx', 'text_model.onnx', 'onnx/text_model_quantized.onnx', 'textual/model.onnx');
    const faces = find('detector/model.json') && find('embedder/model.json');
    const kind = opts.kind ?? (twoTowers ? 'clip' : faces ? 'face' : 'cnn');
    const name = opts.name ?? src.replace(/[\\/]+$/, '').split(/[\\/]/).pop()!.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '');
    checkedName(name);
    if (this.has(name)) throw new PackError(`a model pack named ${name} is already installed; remove it first or pass --name`);
    if (kind === 'face') return this.importFaces(src, name, files, opts);
    let roles: Record<string, string>;
    let dualFields: Record<string, unknown> = {};
    if (kind === 'clip') {
      const dual = describeDualEncoder(src, files);
      if (!twoTowers) throw new PackError(`${src}: a CLIP-family pack needs onnx/vision_model.onnx and onnx/text_model.onnx (Transformers.js) or visual/model.onnx and textual/model.onnx (Immich)`);
      if (!dual) throw new PackError(`${src}: a CLIP-family pack needs its tokenizer (merges.txt or tokenizer.json; Immich: textual/tokenizer.json) and its preprocessing (preprocessor_config.json; Immich: visual/preprocess_cfg.json)`);
      roles = { ...dual.roles };
      const { family, layout, textSettings, scoring, multilingual, languagePrefix } = dual;
      dualFields = { family, layout, textSettings, scoring, multilingual, languagePrefix };
    } else {
      const preprocessor = find('preprocessor_config.json');
      if (!preprocessor) throw new PackError(`${src} has no preprocessor_config.json`);
      roles = { preprocessor };
      const model = find('onnx/model.onnx', 'model.onnx') ?? (onnx.length === 1 ? onnx[0] : undefined);
      if (!model) throw new PackError(`${src}: a CNN pack needs exactly one ONNX model (onnx/model.onnx)`);
      roles['model'] = model;
    }
    const staging = await this.copyIn(src, name, files);
    const hashed = await this.hash(staging, files);
    const title = opts.title ?? name;
    return this.finish(staging, name, {
      kind, title, licence: opts.licence ?? 'unknown (imported)', source: `local:${src}`, roles, files: hashed,
      featureOutput: opts.featureOutput, maxSide: opts.maxSide, regionLevels: opts.regionLevels, dual: dualFields,
    });
  }

  /** A face pack: its detector and embedder folders copied and hashed, then trial-run. */
  private async importFaces(src: string, name: string, files: readonly string[], opts: ImportOptions): Promise<PackManifest> {
    for (const role of ['detector', 'embedder']) {
      if (!files.includes(`${role}/model.json`)) throw new PackError(`${src}: a face pack needs ${role}/model.json beside the ${role}'s ONNX file`);
    }
    const staging = await this.copyIn(src, name, files);
    const hashed = await this.hash(staging, files);
    const draft = {
      format: 1, name, title: opts.title ?? name, kind: 'face', licence: opts.licence ?? 'unknown (imported)', source: `local:${src}`,
      detector: 'detector/model.json', embedder: 'embedder/model.json', embeddingDim: 1, files: hashed, installedAt: new Date().toISOString(),
      ...(files.includes('verifier/model.json') ? { verifier: 'verifier/model.json' } : {}),
    };
    return this.place(staging, name, parseManifest(draft, `${name}/${MANIFEST_FILE}`));
  }

  private async copyIn(src: string, name: string, files: readonly string[]): Promise<string> {
    const staging = await this.staging(name);
    for (const f of files) {
      await mkdir(dirname(join(staging, f)), { recursive: true });
      await cp(join(src, f), join(staging, f));
    }
    return staging;
  }

  private async hash(staging: string, files: readonly string[]): Promise<PackFile[]> {
    const hashed: PackFile[] = [];
    for (const f of files) hashed.push({ path: f, size: statSync(join(staging, f)).size, sha256: await sha256File(join(staging, f)) });
    return hashed;
  }

  /**
   * Downloads a pinned catalog pack (resuming an earlier attempt): each file at its pinned commit,
   * from the model hub or GitHub's LFS store, refused unless its size and SHA-256 are the pinned
   * ones; then the pack is trial-run and moved into place. An entry without pins is refused before
   * anything is fetched.
   */
  async install(entry: CatalogEntry, opts: InstallOptions = {}): Promise<PackManifest> {
    if (this.has(entry.name)) throw new PackError(`model pack ${entry.name} is already installed`);
    if (!isPinned(entry)) throw new PackError(unpinnedMessage(entry));
    const hub = (opts.hubUrl ?? process.env['LOUPE_HUB_URL'] ?? 'https://huggingface.co').replace(/\/+$/, '');
    const github = (opts.githubUrl ?? process.env['LOUPE_GITHUB_MEDIA_URL'] ?? 'https://media.githubusercontent.com/media').replace(/\/+$/, '');
    const staging = await this.staging(entry.name, true);
    const downloads = catalogDownloads(entry);
    const hashed: PackFile[] = [];
    for (const [i, f] of downloads.entries()) {
      const sha256 = f.sha256!;
      const size = f.size!;
      const url = f.host === 'github' ? `${github}/${f.repo}/${f.revision}/${f.path}` : `${hub}/${f.repo}/resolve/${f.revision}/${f.path}`;
      const dest = join(staging, f.dest);
      await mkdir(dirname(dest), { recursive: true });
      const progress = (done: number, total: number | null): void =>
        opts.onProgress?.({ file: f.dest, fileIndex: i, files: downloads.length, done, total });
      if (existsSync(dest) && statSync(dest).size === size && (await sha256File(dest)) === sha256) progress(size, size);
      else await downloadFile(url, dest, { sha256, size, onProgress: progress, signal: opts.signal, retryDelayMs: opts.retryDelayMs });
      hashed.push({ path: f.dest, size, sha256 });
    }
    if (entry.kind === 'face') return this.finishFaces(staging, entry, hashed, catalogSource(entry));
    return this.finish(staging, entry.name, {
      kind: entry.kind, title: entry.title, licence: entry.licence, source: `${hub}/${entry.repo}@${entry.revision}`, files: hashed,
      roles: entry.kind === 'clip'
        ? {
          preprocessor: entry.preprocessor, vision: entry.vision, text: entry.text, tokenizer: entry.tokenizer,
          ...(entry.tokenizerConfig ? { tokenizerConfig: entry.tokenizerConfig } : {}),
        }
        : { preprocessor: entry.preprocessor, model: entry.model },
      featureOutput: entry.kind === 'cnn' ? entry.featureOutput : undefined,
      maxSide: entry.kind === 'cnn' ? entry.maxSide : undefined,
      dual: entry.kind === 'clip' ? this.catalogDual(staging, entry, hashed.map((f) => f.path)) : undefined,
    });
  }

  /** A catalog dual encoder's family and text settings: what its files say, where the entry does not say otherwise. */
  private catalogDual(staging: string, entry: ClipCatalogEntry, files: readonly string[]): Record<string, unknown> {
    const found = describeDualEncoder(staging, files);
    return {
      family: entry.family, layout: entry.layout, languagePrefix: entry.languagePrefix,
      multilingual: entry.multilingual || (found?.multilingual ?? false),
      textSettings: entry.textSettings ?? found?.textSettings, scoring: entry.scoring ?? found?.scoring,
    };
  }

  /** A catalog face pack: each model's model.json written beside its downloaded ONNX file, then trial-run like an import. */
  private async finishFaces(staging: string, entry: FaceCatalogEntry, downloaded: PackFile[], source: string): Promise<PackManifest> {
    const files = [...downloaded];
    for (const role of ['detector', 'embedder'] as const) {
      const part = entry[role];
      const onnx = facePartDest(role, part);
      const described = { ...part.model, format: { file: onnx.slice(role.length + 1) }, licence: part.licence, source: `${part.repo}@${part.revision}/${part.file.path}` };
      const bytes = new TextEncoder().encode(JSON.stringify(described, null, 2) + '\n');
      await writeFileAtomic(join(staging, role, 'model.json'), bytes);
      files.push({ path: `${role}/model.json`, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    const draft = {
      format: 1, name: entry.name, title: entry.title, kind: 'face', licence: entry.licence, source,
      detector: 'detector/model.json', embedder: 'embedder/model.json', embeddingDim: 1, files, installedAt: new Date().toISOString(),
      ...(entry.grouping ? { grouping: entry.grouping } : {}),
    };
    return this.place(staging, entry.name, parseManifest(draft, `${entry.name}/${MANIFEST_FILE}`));
  }

  private async staging(name: string, keep = false): Promise<string> {
    const dir = join(this.dir, '.incoming', checkedName(name));
    if (!keep) await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** Writes the manifest after a smoke run of the models, then moves the pack into place. */
  private async finish(staging: string, name: string, p: {
    kind: 'clip' | 'cnn'; title: string; licence: string; source: string; files: PackFile[]; roles: Record<string, string>;
    featureOutput?: string; maxSide?: number; regionLevels?: number; dual?: Record<string, unknown>;
  }): Promise<PackManifest> {
    const pre = parsePreprocessorConfig(JSON.parse(readFileSync(join(staging, p.roles['preprocessor']!), 'utf8')));
    const draft = {
      format: 1, name, title: p.title, kind: p.kind, licence: p.licence, source: p.source,
      embeddingDim: 1, inputSize: pre.cropWidth, mean: [...pre.mean], std: [...pre.std],
      files: p.files, installedAt: new Date().toISOString(), ...p.roles,
      ...(p.kind === 'cnn' ? { featureOutput: p.featureOutput ?? 'auto', maxSide: p.maxSide ?? 512, regionLevels: p.regionLevels ?? 3 } : {}),
      ...(p.kind === 'clip' ? Object.fromEntries(Object.entries(p.dual ?? {}).filter(([, v]) => v !== undefined)) : {}),
    };
    return this.place(staging, name, parseManifest(draft, `${name}/${MANIFEST_FILE}`));
  }

  /** Trial-runs the pack, writes its manifest with the dimension it measured, and moves it into place. */
  private async place(staging: string, name: string, manifest: PackManifest): Promise<PackManifest> {
    const trial = await this.trialRun(staging, manifest);
    const fixed = manifest.kind === 'cnn' && trial.fixedInput ? { fixedInput: [...trial.fixedInput] } : {};
    const final = parseManifest({ ...manifest, embeddingDim: trial.dim, ...fixed }, `${name}/${MANIFEST_FILE}`);
    await writeFileAtomic(join(staging, MANIFEST_FILE), new TextEncoder().encode(JSON.stringify(final, null, 2) + '\n'));
    const target = this.packDir(name);
    if (existsSync(target)) throw new PackError(`model pack ${name} appeared while installing; not replacing it`);
    await rename(staging, target);
    fsyncDirSync(this.dir);
    return final;
  }
}
