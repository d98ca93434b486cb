/**
 * Finds a Chromium-family browser for the end-to-end tests and the UI benchmark, in this order:
 * `LOUPE_BROWSER`, the usual install paths of Chromium, Chrome and Edge on this OS, then the
 * headless Chromium shipped inside the `@sparticuz/chromium` npm package (Linux x64), so that
 * `npm ci && npm test` needs no browser installed beforehand. With none, it fails with the one
 * command that installs one.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export interface FoundBrowser {
  executablePath: string;
  /** Where it came from, for the test log. */
  source: string;
  /** Extra environment for the browser process (the npm-shipped one brings its own NSS libraries). */
  env: Record<string, string>;
}

const LINUX_PATHS = [
  '/usr/bin/chromium', '/usr/bin/chromium-browser', '/snap/bin/chromium',
  '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable', '/opt/google/chrome/chrome',
  '/usr/bin/microsoft-edge', '/usr/bin/microsoft-edge-stable',
];
const MAC_PATHS = [
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge',
];

function windowsPaths(): string[] {
  const roots = [process.env['PROGRAMFILES'], process.env['PROGRAMFILES(X86)'], process.env['LOCALAPPDATA']]
    .filter((r): r is string => typeof r === 'string' && r.length > 0);
  return roots.flatMap((r) => [
    join(r, 'Google', 'Chrome', 'Application', 'chrome.exe'),
    join(r, 'Microsoft', 'Edge', 'Application', 'msedge.exe'),
    join(r, 'Chromium', 'Application', 'chrome.exe'),
  ]);
}

/** The usual places a Chromium-family browser is installed on `platform`. */
export function usualBrowserPaths(platform: NodeJS.Platform = process.platform): string[] {
  if (platform === 'darwin') return MAC_PATHS;
  if (platform === 'win32') return windowsPaths();
  return LINUX_PATHS;
}

/** The command that installs a browser on `platform`, for the failure message. */
export function browserInstallCommand(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return 'brew install --cask chromium';
  if (platform === 'win32') return 'winget install Google.Chrome';
  return 'sudo apt-get install -y chromium';
}

interface SparticuzChromium {
  executablePath(): Promise<string>;
}
interface SparticuzModule {
  default: SparticuzChromium;
  inflate(file: string): Promise<string>;
}

/**
 * The Chromium inside `@sparticuz/chromium`, unpacked into the temp folder once. Its NSS libraries
 * (packed for Amazon Linux, plain glibc builds) are unpacked too and put on LD_LIBRARY_PATH, because
 * a bare Debian or Ubuntu has none.
 */
async function npmShippedBrowser(): Promise<FoundBrowser | null> {
  if (process.platform !== 'linux' || process.arch !== 'x64') return null;
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve('@sparticuz/chromium'); // <package>/build/index.js
  } catch {
    return null;
  }
  const mod = (await import('@sparticuz/chromium')) as unknown as SparticuzModule;
  const executablePath = await mod.default.executablePath();
  const libs = await mod.inflate(join(entry, '..', '..', 'bin', 'al2023.tar.br'));
  const libPath = [join(libs, 'lib'), process.env['LD_LIBRARY_PATH']].filter(Boolean).join(':');
  return { executablePath, source: '@sparticuz/chromium (npm)', env: { LD_LIBRARY_PATH: libPath } };
}

/** A browser to drive, or an error that says how to install one. */
export async function findBrowser(): Promise<FoundBrowser> {
  const chosen = process.env['LOUPE_BROWSER'];
  if (chosen) {
    if (!existsSync(chosen)) throw new Error(`LOUPE_BROWSER is ${chosen}, which does not exist`);
    return { executablePath: chosen, source: 'LOUPE_BROWSER', env: {} };
  }
  const installed = usualBrowserPaths().find((p) => existsSync(p));
  if (installed) return { executablePath: installed, source: 'installed', env: {} };
  const shipped = await npmShippedBrowser();
  if (shipped) return shipped;
  throw new Error(
    `No Chromium, Chrome or Edge found (LOUPE_BROWSER is unset; looked in ${usualBrowserPaths().join(', ')}). ` +
    `Install one with: ${browserInstallCommand()}`,
  );
}

/** Arguments for a headless run that never reaches the network on its own. */
export const HEADLESS_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
