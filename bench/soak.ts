/**
 * bench:soak — an hour of use compressed into minutes (LOUPE_SOAK_SECONDS, default 180), bounded:
 * the engine runs in its own process as the app runs it (watching, indexing by itself) while this
 * driver makes bursts of new, changed, renamed and deleted photos, searches, edits albums, pauses
 * and resumes, switches model packs, and kills the engine with SIGKILL every ~20 s and starts it
 * again. Afterwards the database must pass integrity_check, every photo on disk must be in the
 * library exactly once, and the engine's memory must not have grown past the stated bound.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import type { AlbumInfo, FolderInfo, SearchResponse } from '../main/contract/api.js';
import { Engine } from '../main/engine/engine.js';
import type { EngineClient } from '../main/host/client.js';
import { forkEngine } from '../test/helpers/engine-process.js';
import { writeTinyPacks } from '../test/helpers/packs.js';

const SECONDS = Number(process.env['LOUPE_SOAK_SECONDS'] ?? 180);
/** Memory bound: the last session's peak RSS may exceed the first session's by at most this much. */
const RSS_GROWTH_MB = 150;
const root = join(tmpdir(), `loupe-soak-${process.pid}`);
const library = join(root, 'library');
const photos = join(root, 'photos');

let seed = 12345;
const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

async function photo(path: string, n: number): Promise<void> {
  const img = sharp({ create: { width: 160 + (n % 7) * 8, height: 120, channels: 3, background: { r: (n * 37) % 256, g: (n * 91) % 256, b: (n * 53) % 256 } } });
  writeFileSync(path, await img.jpeg({ quality: 80 }).toBuffer());
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

const start = (): { client: EngineClient; child: ChildProcess } => forkEngine(library, [], true);

async function main(): Promise<void> {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(photos, { recursive: true });
  let next = 0;
  for (; next < 150; next++) await photo(join(photos, `p${next}.jpg`), next);
  const packs = [writeTinyPacks(join(root, 'packs'), 1).clip, writeTinyPacks(join(root, 'packs'), 2).clip];
  const setup = Engine.open({ libraryDir: library });
  await setup.importModel(packs[0]!, { name: 'clip-a' });
  await setup.importModel(packs[1]!, { name: 'clip-b' });
  await setup.addFolder(photos);
  await setup.close();

  const counts: Record<string, number> = {};
  const count = (k: string): void => { counts[k] = (counts[k] ?? 0) + 1; };
  const sessions: { peakMb: number; seconds: number }[] = [];
  const started = performance.now();
  const end = started + SECONDS * 1000;
  let failures = 0;
  while (performance.now() < end) {
    const { client, child } = start();
    await client.ready;
    const sessionStart = performance.now();
    const sessionEnd = Math.min(end, sessionStart + 15_000 + rand() * 10_000);
    let peak = 0;
    const sampler = setInterval(() => { peak = Math.max(peak, rssMb(child.pid!)); }, 250);
    try {
      while (performance.now() < sessionEnd) {
        const action = pick(['burst', 'burst', 'search', 'search', 'album', 'pause', 'model']);
        count(action);
        try {
          if (action === 'burst') {
            for (let i = 0; i < 10; i++) await photo(join(photos, `p${next++}.jpg`), next);
            const files = readdirSync(photos).filter((f) => f.endsWith('.jpg'));
            for (let i = 0; i < 3; i++) { const f = pick(files); if (existsSync(join(photos, f))) unlinkSync(join(photos, f)); }
            for (let i = 0; i < 3; i++) { const f = pick(files); if (existsSync(join(photos, f))) renameSync(join(photos, f), join(photos, `r${next++}-${f}`)); }
            const f = pick(files);
            if (existsSync(join(photos, f))) await photo(join(photos, f), next++);
          } else if (action === 'search') {
            await client.call('search', [{ text: pick(['a red photo', 'something blue', 'p1', 'a dog']), limit: 50 }]) as SearchResponse;
            await client.call('search', [{ limit: 100, offset: Math.floor(rand() * 100) }]);
          } else if (action === 'album') {
            const page = await client.call('search', [{ limit: 30 }]) as SearchResponse;
            const ids = page.hits.map((h) => h.photo.id);
            const albums = await client.call('listAlbums', []) as AlbumInfo[];
            const album = albums.length < 5 ? await client.call('createAlbum', [`Album ${next}`]) as AlbumInfo : pick(albums);
            if (ids.length > 3) {
              await client.call('addToAlbum', [album.id, ids.slice(0, 5)]);
              await client.call('reorderAlbum', [album.id, [...ids.slice(0, 5)].reverse()]);
              await client.call('removeFromAlbum', [album.id, [ids[0]!]]);
            }
          } else if (action === 'pause') {
            await client.call('pauseIndexing', []);
            await new Promise((r) => setTimeout(r, 300));
            await client.call('resumeIndexing', []);
          } else {
            await client.call('useModel', [pick(['clip-a', 'clip-b'])]);
          }
        } catch (err) {
          // A call refused for a good reason (a photo gone meanwhile) is fine; a failure of Loupe is counted.
          const kind = (err as { kind?: string }).kind;
          if (kind === 'internal' || kind === undefined) { failures++; console.log(`  ${action} failed: ${(err as Error).message}`); }
        }
        await new Promise((r) => setTimeout(r, 100 + rand() * 300));
      }
    } finally {
      clearInterval(sampler);
    }
    child.kill('SIGKILL');
    count('kill -9');
    await new Promise((r) => child.once('exit', r));
    sessions.push({ peakMb: peak, seconds: (performance.now() - sessionStart) / 1000 });
  }

  // Settle: open in-process, bring the library up to date with the disk, then check it.
  const e = Engine.open({ libraryDir: library });
  await e.scan();
  await e.index();
  const folders = await e.listFolders() as FolderInfo[];
  await e.close();
  const db = new Database(join(library, 'loupe.db'), { readonly: true });
  const integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
  const rows = db.prepare(`SELECT path, state FROM photos`).all() as { path: string; state: string }[];
  const albums = (db.prepare('SELECT count(*) n FROM albums').get() as { n: number }).n;
  db.close();
  const onDisk = readdirSync(photos).filter((f) => f.endsWith('.jpg')).map((f) => join(photos, f));
  const present = rows.filter((r) => r.state !== 'missing');
  const byPath = new Map<string, number>();
  for (const r of present) byPath.set(r.path, (byPath.get(r.path) ?? 0) + 1);
  const missingFromLibrary = onDisk.filter((p) => !byPath.has(p)).length;
  const twice = [...byPath.values()].filter((n) => n > 1).length;
  const ghosts = present.filter((r) => !existsSync(r.path)).length;
  const first = sessions[0]?.peakMb ?? 0;
  const last = sessions.at(-1)?.peakMb ?? 0;
  const maxPeak = Math.max(...sessions.map((s) => s.peakMb));

  console.log(`bench:soak — ${SECONDS} s, ${sessions.length} engine sessions ended by kill -9, ${failures} failures of Loupe`);
  console.log(`  actions: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`  library: ${onDisk.length} photos on disk, ${present.length} present rows, ${missingFromLibrary} not in the library, ${twice} in it twice, ` +
    `${ghosts} rows for files that are gone, ${albums} albums, ${folders.length} folder(s)`);
  console.log(`  integrity_check: ${integrity.join('; ')}`);
  console.log(`  engine RSS peak per session: first ${first.toFixed(0)} MB, last ${last.toFixed(0)} MB, max ${maxPeak.toFixed(0)} MB ` +
    `(bound: last ≤ first + ${RSS_GROWTH_MB} MB)`);
  const ok = integrity.join() === 'ok' && missingFromLibrary === 0 && twice === 0 && ghosts === 0 && failures === 0 && last <= first + RSS_GROWTH_MB;
  console.log(ok ? '  PASS' : '  FAIL');
  rmSync(root, { recursive: true, force: true });
  process.exitCode = ok ? 0 : 1;
}

await main();
