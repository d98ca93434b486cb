import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { LibraryStatus } from '../../main/contract/api.js';
import { main } from '../../main/cli/loupe.js';
import { runCli } from '../helpers/cli.js';
import { writeTinyPacks } from '../helpers/packs.js';
import { tempDir, writeImage } from '../helpers/fixtures.js';
import { writeFileSync } from 'node:fs';

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir(); });
afterEach(() => t.cleanup());

async function cli(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'loupe', ...args], { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false });
  return { code, out, err };
}

describe('loupe CLI', () => {
  it('adds a folder, indexes it with progress lines, reports status, and removes it', async () => {
    const photos = join(t.dir, 'photos');
    const lib = ['--library', join(t.dir, 'lib')];
    for (let i = 0; i < 8; i++) await writeImage(join(photos, `p${i}.jpg`), { seed: i });
    writeFileSync(join(photos, 'broken.jpg'), 'not an image');

    expect(await cli(...lib, 'add-folder', photos)).toMatchObject({ code: 0, out: [`Added ${photos}. Run \`loupe index\` to index it.`] });
    const index = await cli(...lib, 'index');
    expect(index.code).toBe(0);
    expect(index.out[0]).toMatch(/^Scanned 1 folder\(s\) in [\d.]+s: 9 photo files, 9 new, 0 changed, 0 gone, 0 back\.$/);
    expect(index.out.some((l) => /^indexed 9\/9 \(1 unreadable\) · [\d.]+\/s · ETA/.test(l))).toBe(true);
    expect(index.out.at(-2)).toMatch(/^Indexed 9 photo\(s\) in [\d.]+s: 8 ok, 0 moved, 1 unreadable, 0 gone\. See `loupe status` for reasons\.$/);
    // Installing the recommended pack where the shipped catalog pins it; else importing a pack folder.
    expect(index.out.at(-1)).toMatch(/^No model pack is active.*loupe models (install clip-vit-b32-q8|import DIR)/);

    const status = await cli(...lib, 'status');
    const text = status.out.join('\n');
    expect(text).toContain(`${photos}  [ok]  8 photos, 0 pending, 1 unreadable, 0 missing`);
    expect(text).toContain('Photos: 8 indexed · 0 pending · 1 unreadable · 0 missing');
    expect(text).toContain(`Could not read (1):\n  ${join(photos, 'broken.jpg')}\n      not a recognised image`);
    // What this installation reads, and what not (and why).
    expect(text).toMatch(/Formats:\n {2}✓ JPEG, PNG, WebP, AVIF, TIFF, GIF .*libvips \d/);
    expect(text).toMatch(/✓ HEIC \/ HEIF .*libheif \(WebAssembly\)/);
    expect(text).toMatch(/✓ Camera RAW \(dng, cr2, cr3, nef/);
    expect(text).toMatch(/[✓✗] Videos \(mp4.*\): (ffmpeg \S+ \(.*\): length|videos need ffmpeg)/);

    const json = JSON.parse((await cli(...lib, '--json', 'status')).out[0]!) as LibraryStatus;
    expect(json.counts).toEqual({ ok: 8, pending: 0, error: 1, missing: 0 });
    expect(json.lastJob).toMatchObject({ kind: 'index', state: 'done', done: 9, failed: 1 });

    expect((await cli(...lib, 'remove-folder', photos)).out[0]).toBe(`Removed ${photos} (9 photos forgotten; files on disk untouched).`);
    expect(((JSON.parse((await cli(...lib, '--json', 'status')).out[0]!)) as LibraryStatus).folders).toEqual([]);
  });

  it('with only a CNN pack, says what content search works and what needs a CLIP pack', async () => {
    const photos = join(t.dir, 'photos-cnn');
    const lib = ['--library', join(t.dir, 'lib-cnn')];
    for (let i = 0; i < 3; i++) await writeImage(join(photos, `p${i}.jpg`), { seed: 40 + i });
    const packs = writeTinyPacks(join(t.dir, 'packs-cnn'));
    expect((await cli(...lib, 'models', 'import', packs.cnn, '--name', 'tiny-cnn')).code).toBe(0);
    expect((await cli(...lib, 'add-folder', photos)).code).toBe(0);
    const index = await cli(...lib, 'index');
    expect(index.code).toBe(0);
    expect(index.out.at(-1)).toMatch(/^Search by example photo and by region uses tiny-cnn; sentence search needs a CLIP pack: `loupe models (install|import)/);
  });

  it('prints JSON lines with --json and says clearly what went wrong', async () => {
    const lib = ['--library', join(t.dir, 'lib')];
    const missing = await cli(...lib, 'add-folder', join(t.dir, 'nope'));
    expect(missing.code).toBe(1);
    expect(missing.err).toEqual([`loupe: Folder not found: ${join(t.dir, 'nope')}`]);
    expect((await cli(...lib, 'remove-folder', t.dir)).err[0]).toBe(`loupe: Not a library folder: ${t.dir}`);
    expect((await cli('frobnicate')).code).toBe(2);

    await writeImage(join(t.dir, 'p', 'a.jpg'), { seed: 1 });
    await cli(...lib, 'add-folder', join(t.dir, 'p'));
    const lines = (await cli(...lib, '--json', 'index')).out.map((l) => JSON.parse(l) as { type: string });
    expect(lines[0]).toMatchObject({ type: 'scan', added: 1 });
    expect(lines.at(-1)).toMatchObject({ type: 'indexed', processed: 1, ok: 1 });
    expect(lines.filter((l) => l.type === 'progress').length).toBeGreaterThan(0);
  });

  it('runs as a real process and finds its library through LOUPE_HOME', async () => {
    await writeImage(join(t.dir, 'p', 'a.jpg'), { seed: 1 });
    const env = { LOUPE_HOME: join(t.dir, 'home') };
    expect((await runCli(['add-folder', join(t.dir, 'p')], { env })).code).toBe(0);
    expect((await runCli(['index'], { env })).code).toBe(0);
    const r = await runCli(['--json', 'status'], { env });
    const s = JSON.parse(r.stdout) as LibraryStatus;
    expect(s.library).toBe(join(t.dir, 'home'));
    expect(s.counts.ok).toBe(1);
  });

  it('prints names from the disk as they are written, never as terminal commands', async () => {
    const photos = join(t.dir, 'photos');
    const lib = ['--library', join(t.dir, 'lib')];
    // A name that would clear the screen, move the cursor home and overwrite the line, and one reversed by a bidi override.
    const hostile = 'evil\u001b[2J\u001b[Hok\roverwritten.jpg';
    const reversed = 'photo\u202egpj.exe.jpg';
    await writeImage(join(photos, hostile), { seed: 1 });
    await writeImage(join(photos, reversed), { seed: 2 });
    writeFileSync(join(photos, 'bad\u001b]0;title\u0007.jpg'), 'not an image');
    expect((await cli(...lib, 'add-folder', photos)).code).toBe(0);
    expect((await cli(...lib, 'index')).code).toBe(0);
    const outputs = [await cli(...lib, 'status'), await cli(...lib, 'search', '--limit', '10')];
    for (const o of outputs) {
      const text = [...o.out, ...o.err].join('\n');
      // eslint-disable-next-line no-control-regex -- no control character may reach the terminal
      expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    }
    expect(outputs[0]!.out.join('\n')).toContain('bad\\u001b]0;title\\u0007.jpg');
    const listed = outputs[1]!.out.join('\n');
    expect(listed).toContain('evil\\u001b[2J\\u001b[Hok\\u000doverwritten.jpg');
    expect(listed).toContain('photo\\u202egpj.exe.jpg');
    // JSON keeps the real names (escaped the JSON way), for programs.
    const json = await cli(...lib, '--json', 'search', '--limit', '10');
    const names = json.out.flatMap((l) => (JSON.parse(l) as { hits?: { photo: { path: string } }[] }).hits ?? []).map((h) => h.photo.path);
    expect(names).toContain(join(photos, hostile));
    expect(names).toContain(join(photos, reversed));
  });
});

