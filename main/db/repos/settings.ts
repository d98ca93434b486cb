/** Small key/value library state (migration 3's settings table). */
import { Repo } from './repo.js';

export class SettingsRepo extends Repo {
  get(key: string): string | null {
    return this.one<{ value: string }>('SELECT value FROM settings WHERE key = ?', key)?.value ?? null;
  }

  set(key: string, value: string | null): void {
    if (value === null) this.run('DELETE FROM settings WHERE key = ?', key);
    else this.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', key, value);
  }
}
