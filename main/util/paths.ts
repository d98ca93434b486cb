import envPaths from 'env-paths';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The library folder: explicit option, then LOUPE_HOME, then the platform's app-data folder. */
export function resolveLibraryDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return resolve(explicit);
  const fromEnv = env['LOUPE_HOME'];
  if (fromEnv) return resolve(fromEnv);
  return envPaths('Loupe', { suffix: '' }).data;
}

/** The folder holding Loupe's package.json, found from this module (source or compiled). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'main'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the Loupe package folder');
    dir = up;
  }
}

/** The built renderer (`npm run build:renderer`). */
export function rendererDir(): string {
  return join(packageRoot(), 'dist', 'renderer');
}
