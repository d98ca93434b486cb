/**
 * Loaded encoders, one per pack, kept for the engine's lifetime: loading a model costs seconds,
 * so indexing runs and queries share them.
 */
import type { PackStore } from '../models/packs.js';
import { PackError } from '../models/packs.js';
import { ClipEncoder, type EncoderOptions } from './clip.js';
import { CnnEncoder } from './cnn.js';

export class EncoderCache {
  private readonly clips = new Map<string, Promise<ClipEncoder>>();
  private readonly cnns = new Map<string, Promise<CnnEncoder>>();

  constructor(private readonly packs: PackStore, private readonly opts: EncoderOptions = {}) {}

  private checked(name: string, kind: 'clip' | 'cnn'): ReturnType<PackStore['get']> {
    const pack = this.packs.get(name);
    if (pack.manifest.kind !== kind) throw new PackError(`model pack ${name} is a ${pack.manifest.kind} pack, not ${kind}`);
    const problems = this.packs.checkSizes(name);
    if (problems.length > 0) {
      throw new PackError(`model pack ${name} is damaged (${problems.map((p) => `${p.path}: ${p.problem}`).join('; ')}); run \`loupe models verify\` and reinstall it`);
    }
    return pack;
  }

  /** A pack's manifest, without loading its models. */
  manifest(name: string): ReturnType<PackStore['get']>['manifest'] {
    return this.packs.get(name).manifest;
  }

  clip(name: string): Promise<ClipEncoder> {
    let e = this.clips.get(name);
    if (!e) {
      const { dir, manifest } = this.checked(name, 'clip');
      if (manifest.kind !== 'clip') throw new PackError('unreachable');
      e = ClipEncoder.load(dir, manifest, this.opts);
      e.catch(() => this.clips.delete(name));
      this.clips.set(name, e);
    }
    return e;
  }

  cnn(name: string): Promise<CnnEncoder> {
    let e = this.cnns.get(name);
    if (!e) {
      const { dir, manifest } = this.checked(name, 'cnn');
      if (manifest.kind !== 'cnn') throw new PackError('unreachable');
      e = CnnEncoder.load(dir, manifest, this.opts);
      e.catch(() => this.cnns.delete(name));
      this.cnns.set(name, e);
    }
    return e;
  }

  async close(): Promise<void> {
    const all = [...this.clips.values(), ...this.cnns.values()];
    this.clips.clear();
    this.cnns.clear();
    for (const p of all) await p.then((e) => e.close(), () => undefined);
  }
}
