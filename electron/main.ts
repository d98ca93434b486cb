/**
 * The desktop shell: one window on the renderer, the engine in its own process (Electron's
 * utility process) behind a checked IPC surface, and pictures on the loupe:// scheme by photo id.
 * No business logic lives here: calls are relayed, and the engine's process checks them.
 */
import { app, BrowserWindow, dialog, ipcMain, protocol, session, utilityProcess, type Session, type UtilityProcess, type WebContents } from 'electron';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineEvent, Preferences } from '../main/contract/api.js';
import { tileOrigin } from '../main/contract/map.js';
import { EngineClient, HostError, type HostChannel } from '../main/host/client.js';
import { errorMessage } from '../main/util/errors.js';
import type { FromHost, MediaReply } from '../main/host/protocol.js';
import { serveFile, ServedFileError, type ServedResponse } from '../main/util/served-file.js';
import { Readable } from 'node:stream';
import { APP_ORIGIN, appFile, isTrustedSender, mayGrant, mayLoad, mayNavigate, mediaPath, webPreferences, windowCsp } from './policy.js';

const here = dirname(fileURLToPath(import.meta.url));
const RENDERER = join(here, '..', 'renderer');
const PRELOAD = join(here, 'preload.cjs');
const ENGINE_PROCESS = join(here, '..', 'main', 'host', 'process.js');
/** Restarts of an engine process that stopped on its own, before giving up. */
const MAX_RESTARTS = 3;

protocol.registerSchemesAsPrivileged([{ scheme: 'loupe', privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } }]);

let engine: EngineClient | null = null;
/** The street tiles' origin while the user has them on (read with the page, which a change reloads). */
let tiles: string | null = null;
let window: BrowserWindow | null = null;
let restarts = 0;

function channel(child: UtilityProcess): HostChannel {
  return {
    send: (m) => child.postMessage(m),
    onMessage: (l) => child.on('message', (m: FromHost) => l(m)),
    onExit: (l) => child.on('exit', (code) => l(code)),
    kill: () => void child.kill(),
  };
}

function sendToWindow(e: EngineEvent): void {
  if (window && !window.isDestroyed()) window.webContents.send('loupe:event', e);
}

/** Starts the engine's process; one that stops on its own is started again (a few times). */
function startEngine(): EngineClient {
  const child = utilityProcess.fork(ENGINE_PROCESS, [], { serviceName: 'Loupe engine', stdio: 'inherit' });
  const client = new EngineClient(channel(child), (code) => {
    sendToWindow({ type: 'log', message: `The engine stopped unexpectedly (exit code ${code ?? 'none'}).` });
    if (restarts++ < MAX_RESTARTS) engine = startEngine();
    else engine = null;
  });
  client.onEvent(sendToWindow);
  client.ready.catch((err: unknown) => sendToWindow({ type: 'log', message: `The library could not be opened: ${errorMessage(err)}` }));
  return client;
}

function refuse(status: number, message: string): Response {
  return new Response(message, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
}

/** A file the engine named, by byte range when asked (a video element seeks so), opened as util/served-file.ts says. */
async function servedFile(request: Request, path: string, expect: MediaReply['expect'], headers: Record<string, string>): Promise<Response> {
  let served: ServedResponse;
  try {
    served = await serveFile(path, expect, request.headers.get('range'));
  } catch (err) {
    if (err instanceof ServedFileError) return refuse(404, `not served: ${err.message}`);
    throw err;
  }
  // Streamed: a video is never read whole into memory; cancelling the response closes the file.
  const body = served.body ? Readable.toWeb(served.body) as ReadableStream<Uint8Array> : null;
  return new Response(body, { status: served.status, headers: { ...headers, ...served.headers } });
}

async function serve(request: Request): Promise<Response> {
  const media = mediaPath(request.url);
  if (media !== null) {
    if (!engine) return refuse(503, 'the library is not open');
    try {
      const m = await engine.media(media);
      const headers = { 'Content-Type': m.type, 'Cache-Control': 'private, max-age=3600' };
      if (m.data || !m.path) return new Response(new Uint8Array(m.data ?? new Uint8Array()), { headers });
      return await servedFile(request, m.path, m.expect, headers);
    } catch (err) {
      return err instanceof HostError && err.kind !== 'internal' ? refuse(err.status, err.message) : refuse(500, 'could not read the picture');
    }
  }
  const file = appFile(request.url, RENDERER);
  if (!file) return refuse(404, 'not found');
  try {
    // The page's policy follows the user's choice of street tiles, read when the page loads.
    const prefs = engine && file.path.endsWith('.html') ? (await engine.call('preferences', [])) as Preferences : null;
    const origin = prefs?.onlineMap ? tileOrigin(prefs.mapTiles) : null;
    if (prefs) tiles = origin;
    const csp = windowCsp(origin);
    return new Response(new Uint8Array(await readFile(file.path)), { headers: { 'Content-Type': file.type, 'Content-Security-Policy': csp } });
  } catch {
    return refuse(404, 'not found');
  }
}

function wireIpc(): void {
  ipcMain.handle('loupe:call', async (event, method: unknown, args: unknown) => {
    if (!isTrustedSender(event.senderFrame?.url)) throw new Error('refused: not the app window');
    if (!engine) throw new Error('the library is not open');
    try {
      // Checked against the call schema in the engine's process, before the engine sees it.
      return await engine.call(String(method), Array.isArray(args) ? args : []);
    } catch (err) {
      // Only the message crosses to the window.
      throw new Error(errorMessage(err));
    }
  });
  ipcMain.handle('loupe:pick-folder', async (event) => {
    if (!isTrustedSender(event.senderFrame?.url)) throw new Error('refused: not the app window');
    const win = BrowserWindow.fromWebContents(event.sender);
    const r = win ? await dialog.showOpenDialog(win, { properties: ['openDirectory'] }) : await dialog.showOpenDialog({ properties: ['openDirectory'] });
    return r.canceled ? null : (r.filePaths[0] ?? null);
  });
}

/** Every permission a page asks for is refused, and nothing but the app's own scheme and in-memory data loads (checklist 1, 5). */
function hardenSession(s: Session): void {
  s.setPermissionRequestHandler((_contents, permission, grant) => grant(mayGrant(permission)));
  s.setPermissionCheckHandler((_contents, permission) => mayGrant(permission));
  s.setDevicePermissionHandler(() => false);
  s.setDisplayMediaRequestHandler((_request, answer) => answer({}));
  s.webRequest.onBeforeRequest((details, answer) => answer({ cancel: !mayLoad(details.url, !app.isPackaged, tiles) }));
}

/** Any web contents, this window's or one made later: no new windows, no navigation away, no webviews (checklist 11–14). */
function hardenContents(contents: WebContents): void {
  // The app has no links to the web: nothing opens, not even in the user's browser (checklist 15).
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-navigate', (e, url) => {
    if (!mayNavigate(url)) e.preventDefault();
  });
  contents.on('will-redirect', (e, url) => {
    if (!mayNavigate(url)) e.preventDefault();
  });
  contents.on('will-attach-webview', (e) => e.preventDefault());
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1360, height: 880, minWidth: 900, minHeight: 560, title: 'Loupe', show: false, webPreferences: webPreferences(PRELOAD, app.isPackaged),
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(`${APP_ORIGIN}/index.html`);
  return win;
}

async function main(): Promise<void> {
  // One app per library: a second start brings the open window forward instead of opening the database twice.
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  app.on('second-instance', () => {
    if (!window || window.isDestroyed()) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  app.enableSandbox();
  app.on('web-contents-created', (_e, contents) => hardenContents(contents));
  await app.whenReady();
  hardenSession(session.defaultSession);
  engine = startEngine();
  protocol.handle('loupe', serve);
  wireIpc();
  window = createWindow();
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', (e) => {
    if (!engine) return;
    e.preventDefault();
    const closing = engine;
    engine = null;
    // The engine finishes its writes (SQLite, index files) before the app goes.
    void closing.close().finally(() => app.exit(0));
  });
}

void main();
