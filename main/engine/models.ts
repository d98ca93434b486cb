/**
 * Model packs as the user sees them: installed packs merged with the catalog, which is active and
 * which serves search, installing (with progress events), importing, choosing, removing, and the
 * device the models run on.
 */
import { existsSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { DeviceInfo, EngineEvent, ModelPackInfo, PackKind, PackStatus } from '../contract/api.js';
import { deviceChoices, type Device } from '../encoders/device.js';
import { catalogDownloads, catalogSource, loadCatalog, MANIFEST_FILE, type CatalogEntry, type PackManifest } from '../models/manifest.js';
import { isPinned } from '../models/pinning.js';
import { PackError, PackStore, type ImportOptions, type InstallOptions, type VerifyReport } from '../models/packs.js';
import { trialRun } from '../encoders/trial.js';
import { errorMessage } from '../util/errors.js';
import type { Library } from './library.js';
import type { IndexingRuns } from './runs.js';
import { FACE_PACK_SETTING } from '../faces/stage.js';
import { rawSpace } from '../embed/spaces.js';
import { NULL_MIN_PICTURES, SIGMOID_MIN_PROBABILITY } from '../search/relevance.js';

/** The setting that names the active face pack (embedding packs' are the space registry's). */
const FACE_PACK = FACE_PACK_SETTING;

export class Models {
  /** Downloads under way, by pack, with what stops them. */
  private readonly installing = new Map<string, AbortController>();

  constructor(private readonly lib: Library, private readonly runs: IndexingRuns, private readonly emit: (e: EngineEvent) => void) {}

  /** The active pack of a kind (what embedding computes; for faces, what finds them), or null. */
  active(kind: PackKind): string | null {
    return kind === 'face' ? this.lib.repos.settings.get(FACE_PACK) : this.lib.spaces.active(kind);
  }

  private setActive(kind: PackKind, name: string): void {
    if (kind === 'face') this.lib.repos.settings.set(FACE_PACK, name);
    else this.lib.spaces.setActive(kind, name);
  }

  /** Whether a pack answers now: its vectors serve search, or (faces) it has looked at pictures. */
  private serving(m: PackManifest): boolean {
    const { spaces, repos } = this.lib;
    if (m.kind === 'face') return this.active('face') === m.name && repos.faces.scanned(m.name) > 0;
    return spaces.isServing(m.kind, m.name) && spaces.info(m.kind)?.pack === m.name;
  }

  /** What the serving CNN space learned from the library: its whitening, and the projection adapted on top. */
  private learned(m: PackManifest): string | null {
    if (m.kind !== 'cnn' || !this.serving(m)) return null;
    const info = this.lib.spaces.info('cnn');
    const w = this.lib.repos.whitenings.current(rawSpace('cnn', m.name));
    if (!info?.whiten || !w || w.space !== info.space) return 'raw descriptors: the library is too small yet to learn a whitening from';
    const a = w.whitening.adaptation;
    const how = a?.target === 'codes' ? 'its pictures\' regions and PQ codes' : 'its pictures\' regions';
    return `whitened from ${w.pictures} pictures${a ? `, adapted to this library from ${how}${a.markedPairs ? ` and ${a.markedPairs} pair${a.markedPairs === 1 ? '' : 's'} you marked the same` : ''}` : ''}`;
  }

  /** Each installed pack's part in the library: embedded of total, the space it serves, failures, what it learned. */
  packStatus(): PackStatus[] {
    const { repos, spaces } = this.lib;
    const indexed = repos.photos.stateCounts().ok;
    const out: PackStatus[] = [];
    for (const p of this.lib.packs.list()) {
      const m = p.manifest;
      if (!m) continue;
      const active = this.active(m.kind) === m.name;
      if (m.kind === 'face') {
        const looked = repos.faces.scanned(m.name);
        out.push({ name: m.name, kind: 'face', active, embedded: looked, total: Math.max(looked, indexed), serving: null, failures: 0, lastFailure: null, state: null });
        continue;
      }
      const raw = rawSpace(m.kind, m.name);
      const embedded = repos.vectors.pictures(raw);
      const failed = repos.vectors.failures(raw);
      const serving = spaces.isServing(m.kind, m.name) ? spaces.serving(m.kind) : null;
      const state = m.kind === 'cnn' ? this.learned(m)
        : m.scoring.kind === 'sigmoid' ? `results end at the model's own probability (${SIGMOID_MIN_PROBABILITY * 100} %)`
        : `results end where the library's null says relevance does (from ${NULL_MIN_PICTURES} pictures)`;
      out.push({
        name: m.name, kind: m.kind, active, embedded, total: embedded + repos.vectors.countTodo(raw) + failed.count,
        serving, failures: failed.count, lastFailure: failed.last, state,
      });
    }
    return out;
  }

  async list(): Promise<ModelPackInfo[]> {
    const { packs } = this.lib;
    const installed = packs.list();
    const catalog = loadCatalog();
    // Serving: search answers from its vectors now (a pack just installed serves once it has some).
    const state = (m: PackManifest): Pick<ModelPackInfo, 'active' | 'serving'> => ({ active: this.active(m.kind) === m.name, serving: this.serving(m) });
    const out: ModelPackInfo[] = installed.map((p) => ({
      name: p.name, kind: p.manifest?.kind ?? null, title: p.manifest?.title ?? p.name, installed: true,
      ...(p.manifest ? state(p.manifest) : { active: false, serving: false }),
      embeddingDim: p.manifest?.embeddingDim ?? null,
      bytes: p.manifest ? p.manifest.files.reduce((a, f) => a + f.size, 0) : null,
      licence: p.manifest?.licence ?? '', source: p.manifest?.source ?? '',
      description: catalog.find((c) => c.name === p.name)?.description ?? null, problem: p.problem,
      recommended: catalog.find((c) => c.name === p.name)?.recommended === true,
      note: p.manifest ? packNote(p.manifest) : null,
      learned: p.manifest ? this.learned(p.manifest) : null,
      ...dualInfo(p.manifest, catalog.find((c) => c.name === p.name)),
    }));
    for (const c of catalog) {
      if (installed.some((p) => p.name === c.name)) continue;
      out.push({
        name: c.name, kind: c.kind, title: c.title, installed: false, active: false, serving: false, embeddingDim: null,
        bytes: downloadBytes(c),
        licence: c.licence, source: catalogSource(c), description: c.description, recommended: c.recommended === true,
        problem: isPinned(c) ? null : 'not pinned in this catalog (no exact commit and checksums)',
        note: null, learned: null, ...dualInfo(null, c),
      });
    }
    return out;
  }

  private async info(name: string): Promise<ModelPackInfo> {
    return (await this.list()).find((m) => m.name === name)!;
  }

  async use(name: string): Promise<ModelPackInfo> {
    const { manifest } = this.lib.packs.get(name);
    this.setActive(manifest.kind, name);
    this.runs.whenIdle();
    return this.info(name);
  }

  /** The first pack of a kind becomes active by itself. */
  private activateIfFirst(m: PackManifest): void {
    if (!this.active(m.kind)) this.setActive(m.kind, m.name);
  }

  /** Downloads a catalog pack; progress goes to `opts.onProgress` and to listeners, as events. */
  async install(name: string, opts: InstallOptions = {}): Promise<ModelPackInfo> {
    const entry = loadCatalog().find((c) => c.name === name);
    if (!entry) throw new PackError(`no model pack named ${name} in the catalog (see \`loupe models list\`)`);
    if (this.installing.has(name)) throw new PackError(`model pack ${name} is already being installed`);
    const stop = new AbortController();
    this.installing.set(name, stop);
    try {
      const m = await this.lib.packs.install(entry, {
        ...opts,
        signal: opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal,
        onProgress: (p) => {
          opts.onProgress?.(p);
          this.emit({ type: 'install-progress', progress: { pack: name, ...p } });
        },
      });
      this.activateIfFirst(m);
      this.emit({ type: 'installed', pack: name, error: null });
      this.runs.whenIdle();
      return await this.info(name);
    } catch (err) {
      const failure = stop.signal.aborted
        ? new PackError(`the download of ${name} was cancelled; what had arrived is kept, so installing it again goes on from there`)
        : err;
      this.emit({ type: 'installed', pack: name, error: errorMessage(failure) });
      throw failure;
    } finally {
      this.installing.delete(name);
    }
  }

  /** Stops a download under way; false when there was none. */
  cancelInstall(name: string): boolean {
    const stop = this.installing.get(name);
    stop?.abort();
    return stop !== undefined;
  }

  /**
   * Adds a local folder: one in the Hugging Face ONNX layout is imported (hashed, trial-run); an
   * installed pack's folder (it has a manifest) is copied in as it is, under its folder's name.
   */
  async import(dir: string, opts: ImportOptions = {}): Promise<ModelPackInfo> {
    if (existsSync(join(dir, MANIFEST_FILE))) {
      const name = basename(resolve(dir));
      if (!this.lib.packs.has(name)) await cp(dir, join(this.lib.packs.dir, name), { recursive: true });
      const { manifest } = this.lib.packs.get(name);
      this.activateIfFirst(manifest);
      return this.info(name);
    }
    const m = await this.lib.packs.import(dir, opts);
    this.activateIfFirst(m);
    return this.info(m.name);
  }

  verify(name?: string, onFile?: (pack: string, file: string) => void): Promise<VerifyReport[]> {
    return this.lib.packs.verify(name, onFile);
  }

  /** Removes a pack that is not active; its vectors go with it. */
  async remove(name: string): Promise<void> {
    const { manifest } = this.lib.packs.get(name);
    if (this.active(manifest.kind) === name) {
      throw new PackError(`model pack ${name} is the active ${manifest.kind} model; make another one active first (\`loupe models use NAME\`)`);
    }
    if (manifest.kind === 'face') this.lib.repos.faces.dropModel(name);
    else await this.lib.spaces.dropPack(manifest.kind, name);
    await this.lib.packs.remove(name);
  }

  device(): DeviceInfo {
    return { requested: this.lib.encoders.device, choices: deviceChoices(), ...this.lib.encoders.usage() };
  }

  async setDevice(device: Device): Promise<DeviceInfo> {
    if (!deviceChoices().includes(device)) throw new PackError(`${device} is not a device on this computer (choices: ${deviceChoices().join(', ')})`);
    this.lib.repos.settings.set('device', device);
    if (device !== this.lib.encoders.device) await this.runs.between(() => this.lib.encoders.setDevice(device));
    return this.device();
  }
}

/** A pack's folder in a library's models/ folder, read without opening the library. */
export function installedPackDir(libraryDir: string, name: string): string | null {
  const found = new PackStore(join(libraryDir, 'models'), trialRun).list().find((p) => p.name === name);
  return found?.manifest ? found.dir : null;
}

/** A CNN whose graph fixes its input reads every picture letterboxed at that size: its regions are coarser. */
function packNote(m: PackManifest): string | null {
  if (m.kind !== 'cnn' || !m.fixedInput) return null;
  const [h, w] = m.fixedInput;
  return `its input is fixed at ${w}×${h}: pictures are letterboxed to that size, so region search is coarser than with a pack that reads them at ${m.maxSide} px`;
}

/** What an install of a catalog entry downloads, where the catalog says (pinned entries do). */
function downloadBytes(c: CatalogEntry): number | null {
  const files = catalogDownloads(c);
  return files.every((f) => f.size !== undefined) ? files.reduce((a, f) => a + (f.size ?? 0), 0) : null;
}

/** A dual encoder's family, scoring and languages (from its manifest, else its catalog entry) and the catalog's figures. */
function dualInfo(m: PackManifest | null, c: CatalogEntry | undefined): Pick<ModelPackInfo, 'family' | 'scoring' | 'multilingual' | 'quality' | 'cost' | 'ramMB' | 'downloadMB'> {
  const entry = c?.kind === 'clip' ? c : null;
  const clip = m?.kind === 'clip' ? m : null;
  return {
    family: clip?.family ?? entry?.family ?? null,
    // A catalog entry scores by sigmoid only where it states the checkpoint's scale and bias: neither tower's files carry them.
    scoring: clip ? clip.scoring.kind : entry ? (entry.scoring?.kind ?? 'cosine') : null,
    multilingual: clip?.multilingual ?? entry?.multilingual ?? false,
    quality: entry?.quality ?? null,
    cost: entry?.cost ?? null,
    ramMB: entry?.ramMB ?? null,
    downloadMB: entry?.downloadMB ?? null,
  };
}
