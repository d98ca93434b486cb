/**
 * electron-builder packs the app with the project's configuration, for real, around a stand-in
 * for Electron's binary (the real one cannot be downloaded here): a small executable carrying
 * Electron's fuse wire, with Electron's default fuses. Checked: the fuses come out flipped as the
 * security checklist asks, the asar holds the app and what the engine reads at run time and
 * nothing else of the repository, the native addons are unpacked, and only this OS's are shipped.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { listPackage } from '@electron/asar';
import { FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { tempDir } from '../helpers/fixtures.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
// Electron's defaults: RunAsNode, NODE_OPTIONS, --inspect and file:// privileges on; the rest off.
const ELECTRON_DEFAULT_WIRE = '10110001';
const t = tempDir();
let out: string;

function sizeOf(path: string): number {
  const s = statSync(path);
  return s.isDirectory() ? readdirSync(path).reduce((a, n) => a + sizeOf(join(path, n)), 0) : s.size;
}



describe.skipIf(process.platform !== 'linux')('the packaged app (electron-builder --dir)', () => {
  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'main', 'host', 'process.js'))) {
      const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
      if (r.status !== 0) throw new Error('npm run build failed');
    }
    const fake = join(t.dir, 'electron-dist');
    mkdirSync(fake, { recursive: true });
    writeFileSync(join(fake, 'electron'), Buffer.concat([
      Buffer.from('#!/bin/sh\nexit 0\n# '), Buffer.from(SENTINEL), Buffer.from([1, ELECTRON_DEFAULT_WIRE.length]), Buffer.from(ELECTRON_DEFAULT_WIRE), Buffer.from('\n'),
    ]));
    chmodSync(join(fake, 'electron'), 0o755);
    writeFileSync(join(fake, 'version'), 'v45.5.0');
    const dest = join(t.dir, 'release');
    await promisify(execFile)('npx', [
      'electron-builder', '--config', 'electron-builder.yml', '--linux', 'dir', '--publish', 'never',
      `-c.electronDist=${fake}`, '-c.electronVersion=45.5.0', `-c.directories.output=${dest}`,
    ], { cwd: ROOT, timeout: 240_000 });
    out = join(dest, 'linux-unpacked');
  }, 300_000);

  it('has Electron\'s fuses flipped: no RunAsNode, NODE_OPTIONS or --inspect; the app only from its checked asar', async () => {
    const wire = await getCurrentFuseWire(join(out, 'loupe'));
    // The wire holds '1' for a fuse that is on, '0' for off.
    const on = (o: FuseV1Options): boolean => wire[o] === '1'.charCodeAt(0);
    expect(on(FuseV1Options.RunAsNode)).toBe(false);
    expect(on(FuseV1Options.EnableNodeOptionsEnvironmentVariable)).toBe(false);
    expect(on(FuseV1Options.EnableNodeCliInspectArguments)).toBe(false);
    expect(on(FuseV1Options.GrantFileProtocolExtraPrivileges)).toBe(false);
    expect(on(FuseV1Options.OnlyLoadAppFromAsar)).toBe(true);
    expect(on(FuseV1Options.EnableEmbeddedAsarIntegrityValidation)).toBe(true);
    expect(on(FuseV1Options.EnableCookieEncryption)).toBe(true);
  });

  it('packs the built app and what the engine reads at run time, and nothing else of the repository', () => {
    const files = listPackage(join(out, 'resources', 'app.asar'), { isPack: false }).map((f) => f.replace(/\\/g, '/'));
    const top = new Set(files.map((f) => f.split('/')[1]));
    expect([...top].sort()).toEqual(['dist', 'models', 'node_modules', 'package.json', 'resources']);
    for (const f of ['/dist/electron/main.js', '/dist/electron/preload.cjs', '/dist/main/host/process.js', '/dist/main/encoders/worker.js',
      '/dist/renderer/index.html', '/models/catalog.json', '/resources/taxonomies/imagenet.json']) expect(files, f).toContain(f);
    expect(files.filter((f) => f.startsWith('/dist/') && f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('/models/') && f !== '/models/catalog.json')).toEqual([]);
  });

  it('unpacks the native addons, for this OS only, and reports the size', () => {
    const unpacked = join(out, 'resources', 'app.asar.unpacked', 'node_modules');
    const addons: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (e.name.endsWith('.node')) addons.push(relative(unpacked, join(d, e.name)));
      }
    };
    walk(unpacked);
    expect(addons.some((a) => a.startsWith('better-sqlite3/prebuilds/linux-x64'))).toBe(true);
    expect(addons.some((a) => a.startsWith('onnxruntime-node/bin/napi-v6/linux/x64/'))).toBe(true);
    expect(addons.some((a) => /sharp-linux-x64.*\.node$/.test(a))).toBe(true);
    expect(addons.filter((a) => /darwin|win32/.test(a))).toEqual([]);
    expect(existsSync(join(unpacked, 'better-sqlite3', 'deps'))).toBe(false);
    const asar = statSync(join(out, 'resources', 'app.asar')).size;
    const native = sizeOf(unpacked);
    console.log(`packaged app (linux x64, without Electron's runtime): app.asar ${(asar / 2 ** 20).toFixed(1)} MB, unpacked addons ${(native / 2 ** 20).toFixed(1)} MB`);
    expect(asar + native).toBeLessThan(200 * 2 ** 20);
  });
});
