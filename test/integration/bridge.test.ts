/**
 * The HTTP bridge on a real socket on 127.0.0.1, over a real library: the key is required for
 * everything, API calls pass the same checks as IPC, pictures are served by photo id only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import sharp from 'sharp';
import type { FolderInfo, SearchResponse } from '../../main/contract/api.js';
import { parseCall } from '../../main/contract/calls.js';
import { REMOTE_METHODS } from '../../main/contract/calls.js';
import { startBridge, type Bridge } from '../../main/bridge/http.js';
import { tempDir, writeImage } from '../helpers/fixtures.js';
import { testLibrary, type TestLibrary } from '../helpers/library.js';

let lib: TestLibrary;
let bridge: Bridge;
const page = tempDir();

beforeAll(async () => {
  lib = testLibrary();
  await writeImage(join(lib.photos, 'a.jpg'), { width: 640, height: 480, seed: 1 });
  await writeImage(join(lib.photos, 'b.png'), { width: 300, height: 200, seed: 2, format: 'png' });
  await writeImage(join(lib.photos, 'c.heic'), { width: 320, height: 240, seed: 3, format: 'heif' });
  writeFileSync(join(lib.photos, 'broken.jpg'), 'not a picture');
  mkdirSync(join(page.dir, 'assets'));
  writeFileSync(join(page.dir, 'index.html'), '<!doctype html><title>Loupe</title>');
  writeFileSync(join(page.dir, 'assets', 'app.js'), 'console.log(1)');
  bridge = await startBridge(lib.engine, { rendererDir: page.dir });
});

afterAll(async () => {
  await bridge.close();
  await lib.close();
  page.cleanup();
});

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

/** A raw HTTP request, so the test controls every header (Host, Cookie) itself. */
function http(path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const url = new URL(bridge.origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: url.port, path, method: opts.method ?? 'GET', headers: { Host: url.host, ...opts.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const auth = (): Record<string, string> => ({ Authorization: `Bearer ${bridge.key}` });
const call = (method: string, args: unknown[], headers = auth()): Promise<Reply> =>
  http(`/api/${method}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(args) });
const result = <T>(r: Reply): T => (JSON.parse(r.body.toString()) as { result: T }).result;

describe('the HTTP bridge', () => {
  it('listens on 127.0.0.1 only, with a fresh random key each session', async () => {
    expect(bridge.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(bridge.key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const other = await startBridge(lib.engine);
    try {
      expect(other.key).not.toBe(bridge.key);
    } finally {
      await other.close();
    }
  });

  it('refuses every request without the key: the page, the API, pictures and events', async () => {
    for (const path of ['/', '/assets/app.js', '/media/thumb/1/256', '/api/events']) {
      const r = await http(path);
      expect(r.status, path).toBe(401);
    }
    expect((await call('listFolders', [], {})).status).toBe(401);
    expect((await call('listFolders', [], { Authorization: 'Bearer nope' })).status).toBe(401);
    expect((await call('listFolders', [], { Cookie: 'loupe_key=nope' })).status).toBe(401);
    expect((await http(`/?key=${'x'.repeat(43)}`)).status).toBe(401);
  });

  it('trades the key in the address for a strict HttpOnly cookie for the app\'s own host name, that then opens the page', async () => {
    // On 127.0.0.1 no cookie is set (it would reach every other local server): it sends the browser to the app's host.
    const onLoopback = await http(`/?key=${bridge.key}`);
    expect(onLoopback.status).toBe(303);
    expect(onLoopback.headers['set-cookie']).toBeUndefined();
    expect(onLoopback.headers['location']).toBe(`${bridge.appOrigin}/?key=${bridge.key}`);
    expect(bridge.appOrigin).toMatch(/^http:\/\/loupe-[0-9a-f]{24}\.localhost:\d+$/);
    expect(bridge.openUrl).toBe(`${bridge.appOrigin}/?key=${bridge.key}`);
    const app = { Host: new URL(bridge.appOrigin).host };
    const r = await http(`/?key=${bridge.key}`, { headers: app });
    expect(r.status).toBe(303);
    expect(r.headers['location']).toBe('/');
    const cookie = String(r.headers['set-cookie']);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).not.toMatch(/Domain=/i);
    const jar = cookie.split(';')[0]!;
    // The cookie opens nothing on another host name of this machine.
    expect((await http('/', { headers: { Cookie: jar } })).status).toBe(401);
    expect((await call('listFolders', [], { Cookie: jar })).status).toBe(401);
    const home = await http('/', { headers: { ...app, Cookie: jar } });
    expect(home.status).toBe(200);
    expect(home.body.toString()).toContain('<title>Loupe</title>');
    expect(home.headers['content-security-policy']).toContain("script-src 'self'");
    expect(home.headers['content-security-policy']).toContain("default-src 'none'");
    expect((await http('/assets/app.js', { headers: { ...app, Cookie: jar } })).headers['content-type']).toContain('text/javascript');
    // Unknown routes fall back to the app; missing assets and escapes are 404, never a file outside.
    expect((await http('/albums/3', { headers: { ...app, Cookie: jar } })).body.toString()).toContain('<title>Loupe</title>');
    expect((await http('/assets/missing.js', { headers: { ...app, Cookie: jar } })).status).toBe(404);
    for (const path of ['/..%2f..%2f..%2fetc%2fpasswd', '/assets/../../../etc/passwd', '/%2e%2e/package.json']) {
      const escape = await http(path, { headers: { ...app, Cookie: jar } });
      expect(escape.status, path).toBe(400);
      expect(escape.body.toString()).not.toContain('root:');
    }
  });

  it('refuses requests another page makes with the app\'s cookie (Origin, Sec-Fetch-Site, Referer)', async () => {
    const app = { Host: new URL(bridge.appOrigin).host };
    const jar = String((await http(`/?key=${bridge.key}`, { headers: app })).headers['set-cookie']).split(';')[0]!;
    const withCookie = { ...app, Cookie: jar };
    const add = (headers: Record<string, string>): ReturnType<typeof call> => call('addFolder', ['/etc'], { ...withCookie, ...headers });
    expect((await add({ Origin: 'http://evil.example' })).status).toBe(403);
    expect((await add({ Origin: 'http://127.0.0.1:9' })).status).toBe(403);
    expect((await add({ 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect((await add({ 'Sec-Fetch-Site': 'same-site' })).status).toBe(403);
    expect((await add({ Referer: 'http://evil.example/page' })).status).toBe(403);
    expect((await http('/media/photo/1', { headers: { ...withCookie, 'Sec-Fetch-Site': 'cross-site' } })).status).toBe(403);
    expect((await lib.engine.listFolders()).some((f) => f.path === '/etc')).toBe(false);
    // The app's own page is let through.
    const own = await call('listFolders', [], { ...withCookie, Origin: bridge.appOrigin, 'Sec-Fetch-Site': 'same-origin' });
    expect(own.status).toBe(200);
  });

  it('refuses a request for another host name (DNS rebinding)', async () => {
    const r = await http('/api/listFolders', { method: 'POST', headers: { ...auth(), Host: `evil.example:${new URL(bridge.origin).port}`, 'Content-Type': 'application/json' }, body: '[]' });
    expect(r.status).toBe(403);
  });

  it('runs the engine API: add a folder, index it, search and browse, with the answers the engine gives', async () => {
    const added = await call('addFolder', [lib.photos]);
    expect(added.status).toBe(200);
    expect(result<FolderInfo>(added).path).toBe(lib.photos);
    expect((await call('scan', [])).status).toBe(200);
    const indexed = result<{ ok: number; failed: number }>(await call('index', []));
    expect(indexed).toMatchObject({ ok: 3, failed: 1 });
    const browse = result<SearchResponse>(await call('search', [{ sort: 'newest', limit: 10 }]));
    expect(browse.total).toBe(3);
    const direct = JSON.parse(JSON.stringify(await lib.engine.search({ sort: 'newest', limit: 10 }))) as SearchResponse;
    expect({ ...browse, tookMs: 0 }).toEqual({ ...direct, tookMs: 0 });
    const status = result<{ errors: { path: string; error: string }[] }>(await call('status', [{ errorLimit: 5 }]));
    expect(status.errors.map((e) => e.path)).toEqual([join(lib.photos, 'broken.jpg')]);
    // Trailing nulls stand for arguments left out (JSON has no undefined).
    expect((await call('albumPhotos', [999, null, null])).status).toBe(422);
    // Photos marked as the same object: by id, at least two, all of them real.
    const [x, y] = browse.hits.map((h) => h.photo.id);
    expect((await call('markSame', [[x]])).status).toBe(400);
    const unknown = await call('markSame', [[x, 999_999]]);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body.toString()).error).toMatch(/no photo 999999/);
    const group = result<{ id: number; photoIds: number[] }>(await call('markSame', [[x, y]]));
    expect(group.photoIds).toEqual([x, y].sort((a, b) => a! - b!));
    expect(result(await call('listSameGroups', []))).toEqual([group]);
    expect(result(await call('unmarkSame', [[x]]))).toEqual({ removed: 2 });
    expect(result(await call('listSameGroups', []))).toEqual([]);
  });

  it('checks every call before the engine sees it: unknown methods, bad arguments, paths in a search', async () => {
    expect((await call('close', [])).status).toBe(400);
    expect((await call('constructor', [])).status).toBe(400);
    expect((await call('__proto__', [])).status).toBe(400);
    const bad = await call('getPhoto', ['1; DROP TABLE photos']);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.toString()).error).toMatch(/getPhoto: 0:/);
    expect((await call('search', [{ photo: { path: '/etc/passwd' } }])).status).toBe(400);
    expect((await call('search', [{ limit: -1 }])).status).toBe(400);
    expect((await call('addToAlbum', [1, ['x']])).status).toBe(400);
    // A page cannot point the map at a server of its choosing: where tiles come from is the installation's.
    expect((await call('setPreferences', [{ mapTiles: 'https://evil.example/{z}/{x}/{y}.png' }])).status).toBe(400);
    expect((await call('setPreferences', [{ onlineMap: 'yes' }])).status).toBe(400);
    // Not JSON, and not declared as JSON (a form post from another site).
    expect((await http('/api/listFolders', { method: 'POST', headers: { ...auth(), 'Content-Type': 'application/json' }, body: '{oops' })).status).toBe(400);
    expect((await http('/api/listFolders', { method: 'POST', headers: { ...auth(), 'Content-Type': 'text/plain' }, body: '[]' })).status).toBe(415);
    expect((await http('/api/listFolders', { headers: auth() })).status).toBe(405);
    // The same table checks IPC: one schema for both.
    expect(() => parseCall('search', [{ photo: { path: '/etc/passwd' } }])).toThrow(/photo/);
    expect(parseCall('status', [null]).args).toEqual([]);
  });

  it('serves pictures by photo id only, and refuses anything that looks like a path or an unknown id', async () => {
    const rows = lib.rows().filter((r) => r.state === 'ok');
    const jpeg = rows.find((r) => r.path.endsWith('a.jpg'))!;
    const heic = rows.find((r) => r.path.endsWith('c.heic'))!;
    const thumb = await http(`/media/thumb/${jpeg.id}/256`, { headers: auth() });
    expect(thumb.status).toBe(200);
    expect(thumb.headers['content-type']).toBe('image/jpeg');
    expect(await sharp(thumb.body).metadata()).toMatchObject({ format: 'jpeg', width: 256, height: 192 });
    const original = await http(`/media/photo/${jpeg.id}`, { headers: auth() });
    expect(original.status).toBe(200);
    expect((await sharp(original.body).metadata()).width).toBe(640);
    // A format browsers cannot show arrives as JPEG.
    const converted = await http(`/media/photo/${heic.id}`, { headers: auth() });
    expect(converted.headers['content-type']).toBe('image/jpeg');
    expect(await sharp(converted.body).metadata()).toMatchObject({ format: 'jpeg', width: 320, height: 240 });
    const broken = lib.rows().find((r) => r.path.endsWith('broken.jpg'))!;
    for (const [path, status] of [
      [`/media/thumb/${broken.id}/256`, 404], // in the library but not readable
      ['/media/thumb/99999/256', 404],
      ['/media/thumb/0/256', 400],
      [`/media/thumb/${jpeg.id}/300`, 400],
      [`/media/thumb/${jpeg.id}/../../../etc/passwd`, 400],
      ['/media/thumb/..%2F..%2Fetc%2Fpasswd/256', 400],
      [`/media/photo/${encodeURIComponent(jpeg.path)}`, 400],
      ['/media/photo/1e3', 400],
      ['/media/photo/-1', 400],
      [`/media/file${jpeg.path}`, 400],
    ] as const) {
      const r = await http(path, { headers: auth() });
      expect(r.status, path).toBe(status);
      expect(r.headers['content-type'], path).toContain('application/json');
    }
  });

  it('streams engine events to the page', async () => {
    const url = new URL(bridge.origin);
    const got = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: url.port, path: '/api/events', headers: { Host: url.host, ...auth() } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
          if (text.includes('"type":"scan"')) {
            req.destroy();
            resolve(text);
          }
        });
        // Once connected, any engine work is reported.
        void lib.engine.scan();
      });
      req.on('error', reject);
      req.end();
    });
    const line = got.split('\n').find((l) => l.startsWith('data: '))!;
    expect(JSON.parse(line.slice(6))).toMatchObject({ type: 'scan', summary: { folders: 1 } });
  });
});

describe('every user mistake is a 4xx with a sentence', () => {
  it('sweeps every remote method with malformed and hostile arguments: never a 500', async () => {
    const values: unknown[] = [
      null, -1, 0, 1.5, 1e20, '', 'x'.repeat(5000), '../../../../etc', '__proto__', 'constructor', 'nope/x', 'category:nope/x',
      {}, { __proto__: { polluted: 1 } }, [], [1, 'a'], { text: 'category:nope/x' }, { photo: { id: 999_999 } }, { region: { photoId: 1, box: { x: 2 } } },
    ];
    const argLists: unknown[][] = [[], ...values.map((v) => [v]), ...values.map((v) => [1, v]), ...values.map((v) => [v, v, v])];
    const failures: string[] = [];
    for (const method of Object.keys(REMOTE_METHODS)) {
      if (method === 'installModel' || method === 'scan' || method === 'index') continue; // real work or the network; swept below
      for (const args of argLists) {
        const r = await call(method, args);
        const body = JSON.parse(r.body.toString()) as { error?: string };
        if (r.status >= 500) failures.push(`${method}(${JSON.stringify(args).slice(0, 60)}) → ${r.status} ${body.error}`);
        else if (r.status >= 400 && !(typeof body.error === 'string' && body.error.length > 3)) failures.push(`${method}: ${r.status} without a sentence`);
      }
    }
    // installModel only with names the catalog does not have (nothing is downloaded).
    for (const name of ['../../../../etc', '__proto__', 'nope/x', 'x'.repeat(150)]) {
      const r = await call('installModel', [name]);
      if (r.status >= 500 || r.status < 400) failures.push(`installModel(${name.slice(0, 30)}) → ${r.status}`);
    }
    expect(failures).toEqual([]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  }, 120_000);

  it('names what was wrong', async () => {
    const use = await call('useModel', ['../../../../etc']);
    expect(use.status).toBe(422);
    expect(JSON.parse(use.body.toString()).error).toMatch(/no model pack named/);
    const counts = await call('categoryCounts', ['__proto__']);
    expect([400, 422]).toContain(counts.status);
    expect(JSON.parse(counts.body.toString()).error).toMatch(/taxonomy|category|CLIP/i);
  });
});

describe('bodies in flight', () => {
  it('bounds the bytes held across all requests, not only per request', async () => {
    const small = await startBridge(lib.engine, { maxBytesInFlight: 1_000_000 });
    const port = new URL(small.origin).port;
    const post = (length: number | null): { req: ReturnType<typeof request>; reply: Promise<Reply> } => {
      let req!: ReturnType<typeof request>;
      const reply = new Promise<Reply>((resolve, reject) => {
        const headers: Record<string, string> = { Host: `127.0.0.1:${port}`, Authorization: `Bearer ${small.key}`, 'Content-Type': 'application/json' };
        if (length !== null) headers['Content-Length'] = String(length);
        req = request({ host: '127.0.0.1', port, path: '/api/listFolders', method: 'POST', headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
      });
      return { req, reply };
    };
    const until = async (cond: () => boolean): Promise<void> => {
      const end = Date.now() + 10_000;
      while (!cond()) {
        if (Date.now() > end) throw new Error('the bridge never took the first body');
        await new Promise((r) => setImmediate(r));
      }
    };
    try {
      // One large body on its way: its declared length is held.
      const first = post(700_000);
      first.req.write('x'.repeat(100_000));
      await until(() => small.bytesInFlight() === 700_000);
      // A second one that would pass alone is refused while the first is held.
      const second = post(700_000);
      second.req.end('y'.repeat(700_000));
      const busy = await second.reply;
      expect(busy.status).toBe(503);
      expect(JSON.parse(busy.body.toString()).error).toMatch(/too much at once/);
      // An undeclared (chunked) body is counted as it arrives.
      const chunked = post(null);
      chunked.req.end('z'.repeat(400_000));
      const refused = await chunked.reply.catch(() => null);
      if (refused) expect(refused.status).toBe(503);
      first.req.end('x'.repeat(600_000));
      expect((await first.reply).status).toBe(400);
      await until(() => small.bytesInFlight() === 0);
      // Once it is done, the same body is taken.
      const later = post(null);
      later.req.end('[]');
      expect((await later.reply).status).toBe(200);
    } finally {
      await small.close();
    }
  });
});
