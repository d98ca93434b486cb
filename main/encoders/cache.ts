/**
 * Loaded encoders, one per pack, kept for the engine's lifetime: loading a model costs seconds,
 * so indexing runs and queries share them.
 */
import type { DeviceInfo } from '../contract/api.js';
import type { PackManifest } from '../models/manifest.js';
import type { PackStore } from '../models/packs.js';
import { PackError } from '../models/packs.js';
import { ClipEncoder, type EncoderOptions } from './clip.js';
import { CnnEncoder } from './cnn.js';
import type { Device } from './device.js';
import { FacePack } from './faces.js';
import { OCR_MODEL, TextReader } from './ocr.js';

type Loaded = ClipEncoder | CnnEncoder | FacePack;

export class EncoderCache {
  private readonly clips = new Map<string, Promise<ClipEncoder>>();
  private readonly cnns = new Map<string, Promise<CnnEncoder>>();
  private readonly facePacks = new Map<string, Promise<FacePack>>();
  /** PP-OCR, shipped with the app (not a pack): loaded on first use. */
  private reader: Promise<TextReader> | null = null;
  private readerReady: TextReader | null = null;
  /** Encoders whose load finished, for reporting where they run. */
  private readonly ready = new Map<string, Loaded>();
  private opts: EncoderOptions;

  constructor(private readonly packs: PackStore, opts: EncoderOptions = {}) {
    this.opts = opts;
  }

  get device(): Device {
    return this.opts.device ?? 'auto';
  }

  /** A pack's manifest, without loading its models. */
  manifest(name: string): PackManifest {
    return this.packs.get(name).manifest;
  }

  /** Loads a pack of the given kind once; a failed load is forgotten so the next call retries. */
  private load<K extends PackManifest['kind'], E extends Loaded>(
    cache: Map<string, Promise<E>>, name: string, kind: K,
    make: (dir: string, manifest: Extract<PackManifest, { kind: K }>) => Promise<E>,
  ): Promise<E> {
    const cached = cache.get(name);
    if (cached) return cached;
    const { dir, manifest } = this.packs.get(name);
    if (manifest.kind !== kind) throw new PackError(`model pack ${name} is a ${manifest.kind} pack, not ${kind}`);
    const problems = this.packs.checkSizes(name);
    if (problems.length > 0) {
      throw new PackError(`model pack ${name} is damaged (${problems.map((p) => `${p.path}: ${p.problem}`).join('; ')}); run \`loupe models verify\` and reinstall it`);
    }
    const loading = make(dir, manifest as Extract<PackManifest, { kind: K }>);
    loading.then((enc) => {
      if (cache.get(name) === loading) this.ready.set(`${kind}:${name}`, enc);
    }, () => cache.delete(name));
    cache.set(name, loading);
    return loading;
  }

  clip(name: string): Promise<ClipEncoder> {
    return this.load(this.clips, name, 'clip', (dir, m) => ClipEncoder.load(dir, m, this.opts));
  }

  cnn(name: string): Promise<CnnEncoder> {
    return this.load(this.cnns, name, 'cnn', (dir, m) => CnnEncoder.load(dir, m, this.opts));
  }

  faces(name: string): Promise<FacePack> {
    return this.load(this.facePacks, name, 'face', (dir, m) => FacePack.load(dir, m, this.opts));
  }

  text(): Promise<TextReader> {
    if (!this.reader) {
      const loading = TextReader.load(undefined, this.opts);
      loading.then((r) => {
        if (this.reader === loading) this.readerReady = r;
      }, () => {
        if (this.reader === loading) this.reader = null;
      });
      this.reader = loading;
    }
    return this.reader;
  }

  /** Where each loaded model runs, and why an accelerator was not used. */
  usage(): Pick<DeviceInfo, 'used' | 'notes'> {
    const used: { pack: string; model: string; provider: DeviceInfo['used'][number]['provider'] }[] = [];
    const notes = new Set<string>();
    for (const enc of this.ready.values()) {
      for (const [model, provider] of Object.entries(enc.providers)) used.push({ pack: enc.manifest.name, model, provider });
      for (const n of enc.notes) notes.add(n);
    }
    const ocr = this.readerReady ? Object.entries(this.readerReady.providers) : [];
    for (const [model, provider] of ocr) used.push({ pack: OCR_MODEL, model, provider });
    return { used, notes: [...notes] };
  }

  /** Unloads every model; the next use loads it on `device`. */
  async setDevice(device: Device): Promise<void> {
    await this.close();
    this.opts = { ...this.opts, device };
  }

  async close(): Promise<void> {
    const all: Promise<{ close(): Promise<void> }>[] = [...this.clips.values(), ...this.cnns.values(), ...this.facePacks.values()];
    if (this.reader) all.push(this.reader);
    this.reader = null;
    this.readerReady = null;
    this.clips.clear();
    this.cnns.clear();
    this.facePacks.clear();
    this.ready.clear();
    for (const p of all) await p.then((e) => e.close(), () => undefined);
  }
}
