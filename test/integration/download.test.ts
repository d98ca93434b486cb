/**
 * The model downloader against a real HTTP server on 127.0.0.1: plain download, a connection
 * dropped mid-file (resumed with Range), a part left by a killed process, a wrong checksum, a
 * server that ignores ranges, and a 404.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ChecksumError, DownloadError, downloadFile } from '../../main/models/download.js';
import { tempDir } from '../helpers/fixtures.js';

const body = randomBytes(3 * 1024 * 1024 + 123);
const sha = createHash('sha256').update(body).digest('hex');

interface Behaviour {
  dropAfter?: number;
  ignoreRange?: boolean;
}
let behaviour: Behaviour = {};
let requests: { range: string | undefined }[] = [];
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push({ range: req.headers.range });
    if (req.url !== '/model.onnx') {
      res.writeHead(404).end();
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && !behaviour.ignoreRange) {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416).end();
        return;
      }
      res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'accept-ranges': 'bytes' });
    } else res.writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes' });
    const drop = behaviour.dropAfter;
    if (drop !== undefined && start < drop) {
      behaviour = { ...behaviour, dropAfter: undefined };
      res.write(body.subarray(start, drop), () => res.destroy());
      return;
    }
    res.end(body.subarray(start));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return () => new Promise<void>((r) => server.close(() => r()));
});

let cleanup = (): void => undefined;
afterEach(() => {
  cleanup();
  behaviour = {};
  requests = [];
});

function dest(): string {
  const t = tempDir('loupe-dl-');
  cleanup = t.cleanup;
  return join(t.dir, 'model.onnx');
}

describe('downloadFile', () => {
  it('downloads, verifies and reports progress', async () => {
    const file = dest();
    const seen: number[] = [];
    const r = await downloadFile(`${base}/model.onnx`, file, { sha256: sha, size: body.length, onProgress: (d) => seen.push(d) });
    expect(r).toMatchObject({ bytes: body.length, resumedFrom: 0, attempts: 1 });
    expect(readFileSync(file).equals(body)).toBe(true);
    expect(seen.at(-1)).toBe(body.length);
    expect(existsSync(`${file}.part`)).toBe(false);
  });

  it('resumes with a Range request after the connection drops mid-file', async () => {
    const file = dest();
    behaviour = { dropAfter: 1_000_000 };
    const r = await downloadFile(`${base}/model.onnx`, file, { sha256: sha, size: body.length, retryDelayMs: 10 });
    expect(r.attempts).toBe(2);
    expect(requests.map((q) => q.range)).toEqual([undefined, expect.stringMatching(/^bytes=\d+-$/)]);
    expect(Number(/\d+/.exec(requests[1]!.range!)![0])).toBeGreaterThan(0);
    expect(readFileSync(file).equals(body)).toBe(true);
  });

  it('continues a part left behind by an earlier, killed download', async () => {
    const file = dest();
    writeFileSync(`${file}.part`, body.subarray(0, 2_000_000));
    const r = await downloadFile(`${base}/model.onnx`, file, { sha256: sha, size: body.length });
    expect(r.resumedFrom).toBe(2_000_000);
    expect(requests).toEqual([{ range: 'bytes=2000000-' }]);
    expect(readFileSync(file).equals(body)).toBe(true);
  });

  it('starts over when the server ignores the range', async () => {
    const file = dest();
    writeFileSync(`${file}.part`, body.subarray(0, 500_000));
    behaviour = { ignoreRange: true };
    await downloadFile(`${base}/model.onnx`, file, { sha256: sha, size: body.length });
    expect(readFileSync(file).equals(body)).toBe(true);
  });

  it('refuses a file with the wrong checksum and leaves nothing to be used', async () => {
    const file = dest();
    const wrong = createHash('sha256').update('something else').digest('hex');
    await expect(downloadFile(`${base}/model.onnx`, file, { sha256: wrong, size: body.length })).rejects.toBeInstanceOf(ChecksumError);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.part`)).toBe(false);
  });

  it('reports a missing file without retrying', async () => {
    const file = dest();
    await expect(downloadFile(`${base}/nope.onnx`, file, { sha256: sha, retryDelayMs: 10 })).rejects.toBeInstanceOf(DownloadError);
    expect(requests).toHaveLength(1);
    expect(existsSync(file)).toBe(false);
  });

  it('resumes when the part on disk holds a corrupted prefix only by failing the checksum, never by using it', async () => {
    const file = dest();
    const bad = Buffer.from(body.subarray(0, 1_000_000));
    bad[10] = bad[10]! ^ 0xff;
    writeFileSync(`${file}.part`, bad);
    await expect(downloadFile(`${base}/model.onnx`, file, { sha256: sha, size: body.length })).rejects.toBeInstanceOf(ChecksumError);
    expect(existsSync(file)).toBe(false);
    // The bad part was removed, so the next attempt downloads cleanly.
    await downloadFile(`${base}/model.onnx`, file, { sha256: sha, size: body.length });
    expect(readFileSync(file).equals(body)).toBe(true);
  });
});
