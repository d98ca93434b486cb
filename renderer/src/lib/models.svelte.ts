/**
 * Model packs as the app shows them: installed and catalog packs, which kinds can answer a search,
 * the pack offered on first run, and downloads under way (progress, cancel, the reason one failed),
 * kept up to date from the engine's events. Settings, the first-run panel and the search notice
 * share one instance.
 */
import type { EngineEvent, InstallProgress, ModelKind, ModelPackInfo, PackKind } from '../../../main/contract/api.js';
import { api } from './client.js';
import { failures } from './errors.svelte.js';

export interface InstallJob {
  readonly progress: InstallProgress | null;
  readonly error: string | null;
}

export class ModelsState {
  packs = $state<ModelPackInfo[]>([]);
  loaded = $state(false);
  /** Downloads under way, by pack; a failed or cancelled one keeps its message until tried again. */
  installs = $state<Record<string, InstallJob>>({});

  async reload(): Promise<void> {
    await failures.attempt(async () => {
      this.packs = [...(await api.listModels())];
      this.loaded = true;
    });
  }

  /** Keeps progress and the list current; true when the event changed what packs are installed. */
  reduce(e: EngineEvent): boolean {
    if (e.type === 'install-progress') {
      this.installs = { ...this.installs, [e.progress.pack]: { progress: e.progress, error: null } };
      return false;
    }
    if (e.type === 'installed') {
      const rest = Object.fromEntries(Object.entries(this.installs).filter(([name]) => name !== e.pack));
      this.installs = e.error ? { ...rest, [e.pack]: { progress: null, error: e.error } } : rest;
      void this.reload();
      return true;
    }
    if (e.type === 'embedded') void this.reload();
    return false;
  }

  install(name: string): void {
    this.installs = { ...this.installs, [name]: { progress: null, error: null } };
    // Progress and the end arrive as events; the call's own answer adds nothing.
    api.installModel(name).catch(() => undefined);
  }

  cancel(name: string): void {
    api.cancelInstall(name).catch((err: unknown) => failures.fail(err));
  }

  /** A pack of this kind is installed (it may still be computing the library's vectors). */
  hasInstalled(kind: PackKind): boolean {
    return this.packs.some((p) => p.installed && p.kind === kind && !p.problem);
  }

  /** Search can answer with this kind now. */
  serving(kind: ModelKind): boolean {
    return this.packs.some((p) => p.installed && p.kind === kind && p.serving);
  }

  /** The pack to offer for a kind: the catalog's recommended one when it is not installed. */
  offer(kind: PackKind): ModelPackInfo | null {
    return this.packs.find((p) => !p.installed && p.kind === kind && p.recommended) ?? null;
  }
}

/** What a pack lets the user do, in their words. */
export function packEnables(kind: PackKind | null): string {
  if (kind === 'clip') return 'search by sentence ("a dog on a beach"), more like this photo, and categories (birds, dogs, flowers…)';
  if (kind === 'face') return 'find the people in your photos and group each person\'s faces';
  return 'find the same object or place in other photos, and search by a region of a photo';
}

export function megabytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes < 10 * 2 ** 20 ? 1 : 0)} MB`;
}
