/**
 * What the installer ships, checked without Electron's binary: every native addon in the app's
 * production dependencies is a Node-API addon (one build loads in Node and in Electron's utility
 * process, so no rebuild for Electron's ABI is needed or done), and electron-builder's
 * configuration flips the fuses and unpacks the addons from the asar.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..');

/** The folders of the app's production dependencies, as npm resolves them. */
function productionPackages(): string[] {
  const out = execFileSync('npm', ['ls', '--omit=dev', '--parseable', '--all'], { cwd: ROOT, encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim()).filter((l) => l.length > 0 && l !== ROOT);
}

function addonsUnder(dir: string): string[] {
  const found: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== 'node_modules') found.push(...addonsUnder(p));
    else if (e.isFile() && e.name.endsWith('.node')) found.push(p);
  }
  return found;
}

/** How an addon registers itself: Node-API's entry point, or the V8 ABI's (one per Node version). */
export function addonKind(binary: Buffer): 'node-api' | 'v8-abi' | 'unknown' {
  const text = binary.toString('latin1');
  if (/node_register_module_v\d+/.test(text)) return 'v8-abi';
  if (text.includes('napi_register_module_v1')) return 'node-api';
  return 'unknown';
}

describe('native addons', () => {
  const addons = productionPackages().flatMap(addonsUnder);

  it('finds the engine\'s addons (SQLite, sharp, onnxruntime) among the production dependencies', () => {
    const names = addons.map((a) => relative(ROOT, a));
    expect(names.some((n) => n.includes('better-sqlite3'))).toBe(true);
    expect(names.some((n) => /@img\/sharp-[^/]+\/lib\/sharp-.+\.node$/.test(n))).toBe(true);
    expect(names.some((n) => n.includes('onnxruntime_binding.node'))).toBe(true);
  });

  it('ships only Node-API addons, so Node and Electron load the same files', () => {
    const notNodeApi = addons.filter((a) => statSync(a).size > 0 && addonKind(readFileSync(a)) !== 'node-api');
    expect(notNodeApi.map((a) => relative(ROOT, a))).toEqual([]);
  });

  it('tells a V8-ABI addon from a Node-API one', () => {
    expect(addonKind(Buffer.from('\0node_register_module_v115\0'))).toBe('v8-abi');
    expect(addonKind(Buffer.from('\0napi_register_module_v1\0'))).toBe('node-api');
  });
});

interface PlatformConfig {
  files?: string[];
}
interface BuilderConfig {
  npmRebuild?: boolean;
  asar?: boolean;
  asarUnpack?: string[];
  files?: string[];
  electronFuses?: Record<string, boolean>;
  linux?: PlatformConfig;
  win?: PlatformConfig;
  mac?: PlatformConfig;
}

describe('electron-builder configuration', () => {
  const config = parse(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as BuilderConfig;

  it('flips the fuses Electron\'s security checklist asks for', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('packs the app in an asar with every addon unpacked, and rebuilds nothing', () => {
    expect(config.asar).toBe(true);
    expect(config.npmRebuild).toBe(false);
    for (const pkg of ['better-sqlite3', 'sharp', '@img', 'onnxruntime-node']) expect(config.asarUnpack).toContain(`node_modules/${pkg}/**`);
  });

  it('ships what the engine reads at run time, which exists in a built clone', () => {
    for (const os of ['linux', 'win', 'mac'] as const) {
      expect(config[os]?.files, os).toEqual(expect.arrayContaining(['dist/**', '!dist/**/*.map', 'package.json', 'models/catalog.json', 'resources/taxonomies/**']));
    }
    expect(existsSync(join(ROOT, 'models', 'catalog.json'))).toBe(true);
    expect(readdirSync(join(ROOT, 'resources', 'taxonomies')).length).toBeGreaterThan(0);
  });

  it('leaves out the other operating systems\' native binaries', () => {
    const others: Record<'linux' | 'win' | 'mac', string[]> = { linux: ['darwin', 'win32'], win: ['darwin', 'linux'], mac: ['linux', 'win32'] };
    for (const [os, excluded] of Object.entries(others) as ['linux' | 'win' | 'mac', string[]][]) {
      const files = config[os]?.files ?? [];
      expect(files, os).toContain(`!node_modules/onnxruntime-node/bin/napi-v6/{${excluded.join(',')}}/**`);
      expect(files.some((f) => f.startsWith('!node_modules/better-sqlite3/prebuilds/')), os).toBe(true);
    }
  });
});
