/** Scanning the user's folders, reporting folders that go offline or come back. */
import type { EngineEvent, ScanSummary } from '../contract/api.js';
import type { Repos } from '../db/repos/index.js';
import { walkExclusions, type FolderRow } from '../ingest/folders.js';
import { scanFolder, type ScanCounts, type ScanResult } from '../ingest/scanner.js';

export class Scanning {
  constructor(private readonly repos: Repos, private readonly libraryDir: string, private readonly emit: (e: EngineEvent) => void) {}

  async scanOne(folder: FolderRow, dir?: string, recursive = true): Promise<ScanResult> {
    const before = this.repos.folders.byPath(folder.path)?.state;
    const result = await scanFolder(this.repos, folder, { dir, recursive, exclude: walkExclusions(this.repos, folder, this.libraryDir) });
    const state = result.offline ? 'offline' : 'ok';
    if (before !== state) this.emit({ type: 'folder-state', folderId: folder.id, path: folder.path, state });
    return result;
  }

  async scanAll(): Promise<ScanSummary> {
    const started = Date.now();
    const total: ScanCounts = { seen: 0, added: 0, changed: 0, missing: 0, revived: 0, errors: 0 };
    const skipped: string[] = [];
    const folders = this.repos.folders.list();
    for (const f of folders) {
      const r = await this.scanOne(f);
      for (const k of Object.keys(total) as (keyof ScanCounts)[]) total[k] += r.counts[k];
      skipped.push(...r.skippedDirs);
      // Yield between folders so a long scan never starves the event loop.
      await new Promise((res) => setImmediate(res));
    }
    const summary: ScanSummary = { folders: folders.length, ...total, skippedDirs: skipped, ms: Date.now() - started };
    this.emit({ type: 'scan', summary });
    return summary;
  }
}
