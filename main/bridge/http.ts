/**
 * The browser bridge: the built renderer and the engine's API over HTTP, on 127.0.0.1 only, behind
 * a random per-session key. The app is served under a host name made for the session
 * (`loupe-<random>.localhost`, which browsers resolve to this machine): the address Loupe prints
 * carries the key once (`/?key=…`) and the page trades it for an HttpOnly, SameSite=Strict cookie
 * for that host alone. Cookies are not kept apart by port, so a cookie for 127.0.0.1 would reach
 * every other local server; one for a secret host name reaches none. Requests whose Origin,
 * Referer or Sec-Fetch-Site show another page are refused. Programs (the CLI, tests) may call the
 * API on 127.0.0.1 with the key as a Bearer token. The API is the one IPC serves
 * (`contract/calls.ts`): same methods, same checks.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import type { EngineEvent, LoupeApi } from '../contract/api.js';
import { asError, errorMessage } from '../util/errors.js';
import { dispatch, parseCall } from '../contract/calls.js';
import { CallError, failureOf, UserError } from '../contract/errors.js';
import type { Media } from '../contract/media.js';
import { tileOrigin } from '../contract/map.js';
import { serveFile, ServedFileError, type ServedResponse } from '../util/served-file.js';
import { contentSecurityPolicy, hasUnsafeSegments, RENDERER_TYPES } from './web.js';

/** What the bridge needs of the engine. */
export interface BridgeEngine extends LoupeApi {
  /** A picture by photo id (contract/media.ts). */
  media(path: string): Promise<Media>;
  on(listener: (e: EngineEvent) => void): () => void;
}

export interface BridgeOptions {
  /** 0 (default): any free port. */
  readonly port?: number;
  /** The built renderer (index.html and its assets); null serves the API only. */
  readonly rendererDir?: string | null;
  /** For tests; otherwise 32 random bytes. */
  readonly key?: string;
  /** Request bytes held at once across all requests (default 192 MB: two of the largest calls). */
  readonly maxBytesInFlight?: number;
  readonly log?: (message: string) => void;
}

export interface Bridge {
  /** http://127.0.0.1:PORT: the API for programs, with the key as a Bearer token. */
  readonly origin: string;
  /** http://loupe-<random>.localhost:PORT: where the app runs in a browser (its cookie's only host). */
  readonly appOrigin: string;
  /** The address to open: the app's origin with this session's key. */
  readonly openUrl: string;
  readonly key: string;
  /** Request-body bytes held right now, across all requests. */
  bytesInFlight(): number;
  close(): Promise<void>;
}

const COOKIE = 'loupe_key';
const MAX_BODY = 96 * 2 ** 20;

/** Pictures from the bridge and dropped-in blobs. */
export const CONTENT_SECURITY_POLICY = contentSecurityPolicy('blob: data:');

/** The page's policy: street tiles' origin too, only while the user has them on. */
async function pagePolicy(engine: BridgeEngine): Promise<string> {
  const prefs = await engine.preferences();
  const tiles = prefs.onlineMap ? tileOrigin(prefs.mapTiles) : null;
  return tiles ? contentSecurityPolicy(`blob: data: ${tiles}`) : CONTENT_SECURITY_POLICY;
}


function sameKey(given: string | undefined, key: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(key);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieKey(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return v.join('=');
  }
  return undefined;
}

function send(res: ServerResponse, status: number, body: string | Buffer, type: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/**
 * A file the engine named (a thumbnail, a frame, a video to play), by byte range when asked: a
 * video element seeks with Range requests. Opened as util/served-file.ts says (no link, still the
 * checked file).
 */
async function sendFile(req: IncomingMessage, res: ServerResponse, m: Extract<Media, { kind: 'file' }>, headers: Record<string, string>): Promise<void> {
  let served: ServedResponse;
  try {
    served = await serveFile(m.path, m.expect, req.headers.range);
  } catch (err) {
    if (err instanceof ServedFileError) return json(res, 404, { error: `not served: ${err.message}` });
    throw err;
  }
  res.writeHead(served.status, { ...headers, ...served.headers });
  // pipeline, not pipe: a player that gives up on a range (it does at every seek) must close the file too.
  if (served.body) pipeline(served.body, res, () => undefined);
  else res.end();
}

function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), 'application/json; charset=utf-8', { 'Cache-Control': 'no-store' });
}

/** Too many large requests at once: try again in a moment. */
class BusyError extends UserError {
  constructor(message: string) {
    super(message, 503);
  }
}

/**
 * Bytes held by request bodies across all requests. A body's declared length is reserved before
 * it is read (an undeclared one as it arrives), so many large bodies at once are refused rather
 * than held in memory together.
 */
class BodyBudget {
  private held = 0;

  constructor(private readonly limit: number) {}

  take(bytes: number): void {
    if (this.held + bytes > this.limit) throw new BusyError('the app is receiving too much at once; try again in a moment');
    this.held += bytes;
  }

  give(bytes: number): void {
    this.held -= bytes;
  }

  get bytes(): number {
    return this.held;
  }
}

async function readBody(req: IncomingMessage, budget: BodyBudget): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > MAX_BODY) throw new CallError(`request body over ${MAX_BODY / 2 ** 20} MB`);
  let reserved = 0;
  const reserve = (bytes: number): void => {
    budget.take(bytes);
    reserved += bytes;
  };
  try {
    if (Number.isFinite(declared) && declared > 0) reserve(declared);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) throw new CallError(`request body over ${MAX_BODY / 2 ** 20} MB`);
      if (size > reserved) reserve(size - reserved);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    budget.give(reserved);
  }
}

export async function startBridge(engine: BridgeEngine, opts: BridgeOptions = {}): Promise<Bridge> {
  const key = opts.key ?? randomBytes(32).toString('base64url');
  const log = opts.log ?? ((): void => undefined);
  const rendererDir = opts.rendererDir ? normalize(opts.rendererDir) : null;
  const streams = new Set<ServerResponse>();
  const appHost = `loupe-${randomBytes(12).toString('hex')}.localhost`;
  const budget = new BodyBudget(opts.maxBytesInFlight ?? 2 * MAX_BODY);
  let port = 0;
  const appOrigin = (): string => `http://${appHost}:${port}`;

  /** The key as a Bearer token (any allowed host), or the app's cookie (on the app's host only). */
  const authorised = (req: IncomingMessage, onAppHost: boolean): boolean => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    return sameKey(bearer, key) || (onAppHost && sameKey(cookieKey(req), key));
  };

  /** Why a request comes from another page than the app's, or null when it does not. */
  const foreign = (req: IncomingMessage): string | null => {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== appOrigin()) return `requests from ${origin.slice(0, 100)} are refused`;
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return `${site} requests are refused`;
    const referer = req.headers.referer;
    if (referer !== undefined && !referer.startsWith(`${appOrigin()}/`)) return 'requests referred by another page are refused';
    return null;
  };

  const api = async (req: IncomingMessage, res: ServerResponse, method: string): Promise<void> => {
    if (req.method !== 'POST') return json(res, 405, { error: 'API calls are POST requests' });
    // A JSON body cannot be sent cross-site without a preflight, which this server never grants.
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return json(res, 415, { error: 'API calls send JSON' });
    let args: unknown;
    try {
      const body = await readBody(req, budget);
      args = body.trim() === '' ? [] : JSON.parse(body);
    } catch (err) {
      if (err instanceof UserError) return json(res, err.status, { error: err.message });
      return json(res, 400, { error: 'the request body is not JSON' });
    }
    try {
      const call = parseCall(method, args);
      const result = await dispatch(engine, call);
      json(res, 200, { result: result ?? null });
    } catch (err) {
      const failure = failureOf(err);
      if (failure.kind !== 'internal') return json(res, failure.status, { error: failure.message });
      log(`${method} failed: ${asError(err).stack ?? failure.message}`);
      json(res, 500, { error: `${method} failed: ${failure.message}` });
    }
  };

  const events = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write(': connected\n\n');
    streams.add(res);
    const beat = setInterval(() => res.write(': beat\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(beat);
      streams.delete(res);
    });
  };

  const media = async (req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> => {
    try {
      const m = await engine.media(rest);
      const headers = { 'Content-Type': m.type, 'Cache-Control': 'private, max-age=3600', 'X-Content-Type-Options': 'nosniff' };
      if (m.kind === 'bytes') return send(res, 200, m.data, m.type, headers);
      await sendFile(req, res, m, headers);
    } catch (err) {
      const failure = failureOf(err);
      json(res, failure.status, { error: failure.message });
    }
  };

  const page = async (res: ServerResponse, pathname: string): Promise<void> => {
    if (!rendererDir) return send(res, 404, 'This bridge serves the API only.', 'text/plain; charset=utf-8');
    let rel: string;
    try {
      rel = decodeURIComponent(pathname);
    } catch {
      return send(res, 400, 'bad address', 'text/plain; charset=utf-8');
    }
    const file = normalize(join(rendererDir, rel));
    const insideDir = file.startsWith(rendererDir + sep);
    const target = insideDir && existsSync(file) && statSync(file).isFile() ? file : join(rendererDir, 'index.html');
    if (insideDir && extname(rel) !== '' && target !== file) return send(res, 404, 'not found', 'text/plain; charset=utf-8');
    if (!existsSync(target)) return send(res, 404, 'The renderer is not built: run `npm run build:renderer`.', 'text/plain; charset=utf-8');
    const type = RENDERER_TYPES[extname(target)] ?? 'application/octet-stream';
    const isPage = target.endsWith('index.html');
    const cache = isPage ? 'no-store' : 'private, max-age=31536000, immutable';
    // The page's policy follows the user's choice of street tiles (read when the page loads).
    if (isPage) res.setHeader('Content-Security-Policy', await pagePolicy(engine));
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': statSync(target).size, 'Cache-Control': cache });
    createReadStream(target).pipe(res);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    // DNS rebinding: a page from elsewhere that resolves its own name to 127.0.0.1 sends its own Host.
    const host = req.headers.host ?? '';
    const onAppHost = host === `${appHost}:${port}`;
    if (!onAppHost && host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return send(res, 403, 'wrong host', 'text/plain; charset=utf-8');
    const why = foreign(req);
    if (why) return send(res, 403, `Loupe: ${why}.`, 'text/plain; charset=utf-8');
    if (hasUnsafeSegments(req.url ?? '/')) return json(res, 400, { error: 'addresses with dot segments or encoded separators are refused' });
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (url.pathname === '/' && url.searchParams.has('key')) {
      if (!sameKey(url.searchParams.get('key') ?? undefined, key)) return send(res, 401, 'That key is not this session\'s.', 'text/plain; charset=utf-8');
      // The cookie is set for the app's own host name only, so no other local server ever receives it.
      if (!onAppHost) return void res.writeHead(303, { Location: `${appOrigin()}/?key=${key}`, 'Cache-Control': 'no-store' }).end();
      res.writeHead(303, { Location: '/', 'Set-Cookie': `${COOKIE}=${key}; HttpOnly; SameSite=Strict; Path=/`, 'Cache-Control': 'no-store' });
      return void res.end();
    }
    if (!authorised(req, onAppHost)) {
      return send(res, 401, 'Loupe: open the address Loupe printed when it started (it carries this session\'s key).', 'text/plain; charset=utf-8');
    }
    if (url.pathname.startsWith('/api/')) {
      const method = url.pathname.slice('/api/'.length);
      if (method === 'events') return events(req, res);
      return api(req, res, method);
    }
    if (url.pathname.startsWith('/media/')) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'pictures are read with GET' });
      return media(req, res, url.pathname.slice('/media/'.length));
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed', 'text/plain; charset=utf-8');
    await page(res, url.pathname);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log(`bridge: ${errorMessage(err)}`);
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  const unsubscribe = engine.on((e) => {
    const line = `data: ${JSON.stringify(e)}\n\n`;
    for (const s of streams) s.write(line);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    appOrigin: appOrigin(),
    openUrl: `${appOrigin()}/?key=${key}`,
    key,
    bytesInFlight: () => budget.bytes,
    close: async (): Promise<void> => {
      unsubscribe();
      for (const s of streams) s.end();
      streams.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
