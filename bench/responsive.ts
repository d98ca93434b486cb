/**
 * bench:responsive — does the API answer while a big folder is scanned? Makes a tree of 25,000
 * photo files (empty: a scan only stats), serves the engine over the HTTP bridge on 127.0.0.1,
 * starts a scan through the API and meanwhile calls listFolders every 5 ms; prints the call
 * latencies (p50, p99, max; target: every call under 100 ms) and how long the scan took.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBridge } from '../main/bridge/http.js';
import { Engine } from '../main/engine/engine.js';

const FILES = Number(process.env['LOUPE_BENCH_FILES'] ?? 25_000);
const root = join(tmpdir(), `loupe-bench-responsive-${process.pid}`);

function call(origin: string, key: string, method: string): Promise<number> {
  const t0 = performance.now();
  const url = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: url.port, path: `/api/${method}`, method: 'POST',
      headers: { Host: url.host, Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - t0));
    });
    req.on('error', reject);
    req.end('[]');
  });
}

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function run(): Promise<void> {
  const photos = join(root, 'photos');
  for (let d = 0; d < FILES / 250; d++) {
    const dir = join(photos, `day-${d}`, 'camera');
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 250; i++) writeFileSync(join(dir, `IMG_${i}.jpg`), '');
  }
  const engine = Engine.open({ libraryDir: join(root, 'library') });
  const bridge = await startBridge(engine);
  try {
    await engine.addFolder(photos);
    const latencies: number[] = [];
    const t0 = performance.now();
    let scanning = true;
    const scan = call(bridge.origin, bridge.key, 'scan').then((ms) => { scanning = false; return ms; });
    while (scanning) {
      latencies.push(await call(bridge.origin, bridge.key, 'listFolders'));
      await new Promise((r) => setTimeout(r, 5));
    }
    const scanMs = await scan;
    console.log(`bench:responsive — ${FILES.toLocaleString()} files scanned through the API in ${(scanMs / 1000).toFixed(2)} s (wall ${((performance.now() - t0) / 1000).toFixed(2)} s)`);
    console.log(`  listFolders while scanning: ${latencies.length} calls, p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms (target: all < 100 ms)`);
  } finally {
    await bridge.close();
    await engine.close();
    rmSync(root, { recursive: true, force: true });
  }
}

await run();
