/**
 * Where Electron's binary is, or why it is not there and how to get it. Electron's npm package no
 * longer downloads its binary at install (so `npm ci` works offline); it fetches it on first use
 * from GitHub. `npm run app` and `npm run test:app` ask here first, so a machine that cannot reach
 * GitHub gets a clear sentence instead of a stack trace.
 *
 *   node --import tsx scripts/electron-binary.ts   prints the path, or the reason (exit 1)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export type ElectronBinary =
  | { readonly ok: true; readonly path: string; readonly version: string }
  | { readonly ok: false; readonly version: string; readonly reason: string };

function electronPackage(): { dir: string; version: string } {
  const pkg = createRequire(import.meta.url).resolve('electron/package.json');
  const { version } = JSON.parse(readFileSync(pkg, 'utf8')) as { version: string };
  return { dir: dirname(pkg), version };
}

/** The binary as Electron's own index.js would find it, without its download-on-require. */
function installedBinary(dir: string): string | null {
  const pathFile = join(dir, 'path.txt');
  const rel = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  const override = process.env['ELECTRON_OVERRIDE_DIST_PATH'];
  if (override) {
    const p = join(override, rel ?? (process.platform === 'win32' ? 'electron.exe' : 'electron'));
    return existsSync(p) ? p : null;
  }
  if (!rel) return null;
  const p = join(dir, 'dist', rel);
  return existsSync(p) ? p : null;
}

/** How to get the binary where the download failed. */
export function howToGetElectron(version: string): string {
  const zip = `electron-v${version}-${process.platform}-${process.arch}.zip`;
  return [
    `Get it in one of these ways:`,
    `  - on a network that reaches github.com: npx install-electron`,
    `  - from a mirror: ELECTRON_MIRROR=https://your.mirror/electron/ npx install-electron`,
    `  - from a copy of ${zip}: unpack it and set ELECTRON_OVERRIDE_DIST_PATH to that folder`,
    `The CLI (npm run loupe -- …) and the app in a browser (npm run serve) need no Electron.`,
  ].join('\n');
}

/** Finds the binary; with `download`, tries Electron's own installer once when it is missing. */
export function findElectron(download: boolean): ElectronBinary {
  const { dir, version } = electronPackage();
  let path = installedBinary(dir);
  let failure = 'it was never downloaded';
  if (!path && download && !process.env['ELECTRON_OVERRIDE_DIST_PATH']) {
    const r = spawnSync(process.execPath, [join(dir, 'install.js')], { encoding: 'utf8' });
    const said = `${r.stderr ?? ''}\n${r.stdout ?? ''}`.trim().split('\n').filter(Boolean);
    failure = r.status === 0 ? 'its installer ran but left no binary' : `downloading it failed: ${said.at(-1) ?? `exit ${r.status}`}`;
    path = installedBinary(dir);
  }
  if (path) return { ok: true, path, version };
  const where = process.env['ELECTRON_OVERRIDE_DIST_PATH'] ?? join(dir, 'dist');
  return { ok: false, version, reason: `Electron ${version}'s binary is not in ${where}: ${failure}.` };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const found = findElectron(process.argv.includes('--download'));
  if (found.ok) console.log(found.path);
  else {
    console.error(found.reason);
    process.exit(1);
  }
}
