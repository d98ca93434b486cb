/** The library's state as the user sees it, and the care of its database: health, copies. */
import type { DatabaseHealth, IndexingState, LibraryStatus } from '../contract/api.js';
import { ReadOnlyLibraryError } from '../contract/errors.js';
import { schemaVersion } from '../db/database.js';
import { formatSupport } from '../ingest/support.js';
import type { Library } from './library.js';

export class LibraryCare {
  constructor(private readonly lib: Library) {}

  async status(errorLimit: number, indexing: IndexingState): Promise<Omit<LibraryStatus, 'models' | 'device'>> {
    const { repos, thumbs, db } = this.lib;
    return {
      library: this.lib.dir, schemaVersion: schemaVersion(db), folders: repos.folders.infos(),
      counts: repos.photos.stateCounts(), thumbnails: thumbs.usage(), errors: repos.photos.errors(errorLimit),
      lastJob: repos.jobs.last(), indexing, database: this.health(),
      readOnly: this.lib.readOnly === null ? null : `${this.lib.readOnly} is on a disk that cannot be written: search works, changes do not`,
      formats: formatSupport(),
      metadataProblems: repos.photos.metaProblems(errorLimit).map(({ path, problem }) => ({ path, problem })),
    };
  }

  private health(): DatabaseHealth {
    const problems = this.lib.integrityNow;
    return {
      file: this.lib.file, integrity: problems === null ? 'checking' : problems.length === 0 ? 'ok' : 'damaged', problems: problems ?? [],
      advice: problems && problems.length > 0 ? this.lib.damaged(problems).message : null,
      backups: this.lib.backups.dir, lastBackupAt: this.lib.backups.list()[0]?.takenAt ?? null,
    };
  }

  async checkDatabase(): Promise<DatabaseHealth> {
    await this.lib.integrity;
    return this.health();
  }

  async backup(dest?: string): Promise<string> {
    await this.lib.mustBeWhole();
    // A read-only library's own backups folder cannot take it; a copy elsewhere can be made.
    if (this.lib.readOnly !== null && dest === undefined) throw new ReadOnlyLibraryError(this.lib.readOnly);
    return this.lib.backups.create(this.lib.db, 'manual', dest);
  }
}
