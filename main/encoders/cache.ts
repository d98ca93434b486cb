/**
 * Loaded encoders, one per pack, kept for the engine's lifetime: loading a model costs seconds,
 * so indexing runs and queries share them.
 */
import type { PackManifest } from '../models/manifest.js';
import type { PackStore } from '../models/packs.js';
import { PackError } from '../models/packs.js';
import { ClipEncoder, type EncoderOptions } from './clip.js';
import { CnnEncoder } from './cnn.js';

export class EncoderCache {
  private readonly clips = new Map<string, Promise<ClipEncoder>>();
  private readonly cnns = new Map<string, Promise<CnnEncoder>>();

  constructor(private readonly packs: PackStore, private readonly opts: EncoderOptions = {}) {}

  /** A pack's manifest, without loading its models. */
  manifest(name: string): PackManifest {
    return this.packs.get(name).manifest;
  }

  /** Loads a pack of the given kind once; a failed load is forgotten so the next call retries. */
  private load<K extends PackManifest['kind'], E>(
    cache: Map<string, Promise<E>>, name: string, kind: K,
    make: (dir: string, manifest: Extract<PackManifest, { kind: K }>) => Promise<E>,
  ): Promise<E> {
    let e = cache.get(name);
    if (e) return e;
    const { dir, manifest } = this.packs.get(name);
    if (manifest.kind !== kind) throw new PackError(`model pack ${name} is a ${manifest.kind} pack, not ${kind}`);
    const problems = this.packs.checkSizes(name);
    if (problems.length > 0) {
      throw new PackError(`model pack ${name} is damaged (${problems.map((p) => `${p.path}: ${p.problem}`).join('; ')}); run \`loupe models verify\` and reinstall it`);
    }
    e = make(dir, manifest as Extract<PackManifest, { kind: K }>);
    e.catch(() => cache.delete(name));
    cache.set(name, e);
    return e;
  }

  clip(name: string): Promise<ClipEncoder> {
    return this.load(this.clips, name, 'clip', (dir, m) => ClipEncoder.load(dir, m, this.opts));
  }

  cnn(name: string): Promise<CnnEncoder> {
    return this.load(this.cnns, name, 'cnn', (dir, m) => CnnEncoder.load(dir, m, this.opts));
  }

  async close(): Promise<void> {
    const all = [...this.clips.values(), ...this.cnns.values()];
    this.clips.clear();
    this.cnns.clear();
    for (const p of all) await p.then((e) => e.close(), () => undefined);
  }
}
