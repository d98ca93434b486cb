/**
 * The sidecar-writing preference and its upkeep: off by default; when on, every change to
 * albums or taught categories writes the sidecars it touches (collections/sidecars.ts), one pass
 * at a time — changes made during a pass start one more — and each pass ends in a `sidecars` event.
 */
import type { EngineEvent, Preferences, SidecarReport } from '../contract/api.js';
import { syncSidecars } from '../collections/sidecars.js';
import type { Repos } from '../db/repos/index.js';
import { errorMessage } from '../util/errors.js';
import { UserError } from '../contract/errors.js';
import { DEFAULT_TILES } from '../contract/map.js';
import { READ_TEXT_SETTING } from '../text/stage.js';
import { SEARCH_LANGUAGE_SETTING, systemLanguage } from '../encoders/languages.js';

const KEY = 'write_sidecars';
const ONLINE_MAP = 'map.online';

export class SidecarWriting {
  private pass: Promise<SidecarReport> | null = null;
  private again = false;

  constructor(private readonly repos: Repos, private readonly emit: (e: EngineEvent) => void) {}

  preferences(): Preferences {
    return {
      writeSidecars: this.repos.settings.get(KEY) === '1',
      readText: this.repos.settings.get(READ_TEXT_SETTING) !== '0',
      onlineMap: this.repos.settings.get(ONLINE_MAP) === '1',
      mapTiles: process.env['LOUPE_TILE_URL'] ?? DEFAULT_TILES,
      language: this.repos.settings.get(SEARCH_LANGUAGE_SETTING) ?? systemLanguage(),
    };
  }

  set(changes: Partial<Omit<Preferences, 'mapTiles'>>): Preferences {
    const before = this.preferences();
    if (changes.writeSidecars !== undefined) this.repos.settings.set(KEY, changes.writeSidecars ? '1' : null);
    if (changes.readText !== undefined) this.repos.settings.set(READ_TEXT_SETTING, changes.readText ? null : '0');
    if (changes.onlineMap !== undefined) this.repos.settings.set(ONLINE_MAP, changes.onlineMap ? '1' : null);
    if (changes.language !== undefined) this.repos.settings.set(SEARCH_LANGUAGE_SETTING, changes.language);
    if (!before.writeSidecars && changes.writeSidecars) this.changed();
    return this.preferences();
  }

  /** Albums or categories changed: their sidecars are written, when the user turned that on. */
  changed(): void {
    if (!this.preferences().writeSidecars) return;
    if (this.pass) {
      this.again = true;
      return;
    }
    this.pass = this.run();
  }

  /** The pass under way and any it leads to, or a new one (the CLI's `loupe sidecars`). */
  async settle(): Promise<SidecarReport> {
    if (!this.preferences().writeSidecars) throw new UserError('writing sidecars is off: Loupe writes nothing beside your photos until you turn it on');
    if (!this.pass) this.pass = this.run();
    return this.pass;
  }

  /** Waits for a pass under way (closing the library). */
  async idle(): Promise<void> {
    await this.pass;
  }

  private async run(): Promise<SidecarReport> {
    let report: SidecarReport = { written: 0, unchanged: 0, failed: [] };
    try {
      do {
        this.again = false;
        try {
          report = await syncSidecars(this.repos);
        } catch (err) {
          // The library's own database failing: said once, and the next change tries again.
          report = { written: 0, unchanged: 0, failed: [{ path: '', error: errorMessage(err) }] };
        }
        this.emit({ type: 'sidecars', report });
      } while (this.again);
    } finally {
      this.pass = null;
    }
    return report;
  }
}
