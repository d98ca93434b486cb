import envPaths from 'env-paths';
import { resolve } from 'node:path';

/** The library folder: explicit option, then LOUPE_HOME, then the platform's app-data folder. */
export function resolveLibraryDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return resolve(explicit);
  const fromEnv = env['LOUPE_HOME'];
  if (fromEnv) return resolve(fromEnv);
  return envPaths('Loupe', { suffix: '' }).data;
}
