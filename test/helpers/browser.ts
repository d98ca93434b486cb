/**
 * Finds a Chromium-family browser for the end-to-end tests and the UI benchmark, in this order:
 * `LOUPE_BROWSER`, the usual install paths of Chromium, Chrome and Edge on this OS, then the
 * headless Chromium shipped inside the `@sparticuz/chromium` npm package (Linux x64), so that
 * `npm ci && npm test` needs no browser installed beforehand. With none, it fails with the one
 * command that installs one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startBridge, type Bridge } from '../../main/bridge/http.js';
import type { Engine } from '../../main/engine/engine.js';
import { rendererDir } from '../../main/util/paths.js';

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

/** Builds the renderer the bridge serves, when no build is there yet. */
export function ensureRendererBuilt(): void {
  if (existsSync(join(rendererDir(), 'index.html'))) return;
  const r = spawnSync('npx', ['vite', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building the renderer failed');
}

/** A headless browser and a page whose script errors fail the test. */
export async function launchPage(): Promise<{ browser: Browser; page: Page }> {
  const found = await findBrowser();
  console.log(`browser: ${found.executablePath} (${found.source})`);
  const browser = await chromium.launch({ executablePath: found.executablePath, args: HEADLESS_ARGS, env: { ...process.env, ...found.env } });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (err) => { throw err; });
  return { browser, page };
}

/** Saves a screenshot of the page as `<dir>/<name>.png`. */
export async function screenshot(page: Page, dir: string, name: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`) });
}

export interface AppInBrowser {
  readonly bridge: Bridge;
  readonly browser: Browser;
  readonly page: Page;
  close(): Promise<void>;
}

/** The built renderer served by the engine's HTTP bridge, and a browser page to drive it. */
export async function openApp(engine: Engine): Promise<AppInBrowser> {
  ensureRendererBuilt();
  const bridge = await startBridge(engine, { rendererDir: rendererDir() });
  const { browser, page } = await launchPage();
  return { bridge, browser, page, close: async () => { await browser.close(); await bridge.close(); } };
}
