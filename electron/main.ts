/**
 * The desktop shell: one window on the renderer, the engine behind a checked IPC surface, and
 * pictures on the loupe:// scheme by photo id. No business logic lives here.
 */
import { app, BrowserWindow, dialog, ipcMain, protocol, shell } from 'electron';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CallError, dispatch, parseCall } from '../main/api-schema.js';
import { MediaError, resolveMedia } from '../main/bridge/media.js';
import { Engine } from '../main/engine.js';
import { resolveLibraryDir } from '../main/paths.js';
import { APP_ORIGIN, appFile, isTrustedSender, mayNavigate, mediaPath, webPreferences, WINDOW_CSP } from './policy.js';

const here = dirname(fileURLToPath(import.meta.url));
const RENDERER = join(here, '..', 'renderer');
const PRELOAD = join(here, 'preload.cjs');

protocol.registerSchemesAsPrivileged([{ scheme: 'loupe', privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } }]);

let engine: Engine | null = null;
let watcher: Awaited<ReturnType<Engine['watch']>> | null = null;

function refuse(status: number, message: string): Response {
  return new Response(message, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
}

async function serve(request: Request): Promise<Response> {
  const media = mediaPath(request.url);
  if (media !== null) {
    if (!engine) return refuse(503, 'the library is not open');
    try {
      const m = await resolveMedia(engine.db, engine.thumbs, media);
      const data = m.kind === 'bytes' ? m.data : await readFile(m.path);
      return new Response(new Uint8Array(data), { headers: { 'Content-Type': m.type, 'Cache-Control': 'private, max-age=3600' } });
    } catch (err) {
      return err instanceof MediaError ? refuse(err.status, err.message) : refuse(500, 'could not read the picture');
    }
  }
  const file = appFile(request.url, RENDERER);
  if (!file) return refuse(404, 'not found');
  try {
    return new Response(new Uint8Array(await readFile(file.path)), { headers: { 'Content-Type': file.type, 'Content-Security-Policy': WINDOW_CSP } });
  } catch {
    return refuse(404, 'not found');
  }
}

function wireIpc(): void {
  ipcMain.handle('loupe:call', async (event, method: unknown, args: unknown) => {
    if (!isTrustedSender(event.senderFrame?.url)) throw new Error('refused: not the app window');
    if (!engine) throw new Error('the library is not open');
    try {
      return await dispatch(engine, parseCall(method, args));
    } catch (err) {
      // Only the message crosses to the window.
      throw new Error(err instanceof CallError || err instanceof Error ? err.message : String(err));
    }
  });
  ipcMain.handle('loupe:pick-folder', async (event) => {
    if (!isTrustedSender(event.senderFrame?.url)) throw new Error('refused: not the app window');
    const win = BrowserWindow.fromWebContents(event.sender);
    const r = win ? await dialog.showOpenDialog(win, { properties: ['openDirectory'] }) : await dialog.showOpenDialog({ properties: ['openDirectory'] });
    return r.canceled ? null : (r.filePaths[0] ?? null);
  });
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({ width: 1360, height: 880, minWidth: 900, minHeight: 560, title: 'Loupe', show: false, webPreferences: webPreferences(PRELOAD) });
  win.webContents.setWindowOpenHandler(({ url }) => {
    // Links to the web open in the browser, never in a new app window.
    if (/^https:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (e, url) => {
    if (!mayNavigate(url)) e.preventDefault();
  });
  win.webContents.on('will-attach-webview', (e) => e.preventDefault());
  win.once('ready-to-show', () => win.show());
  void win.loadURL(`${APP_ORIGIN}/index.html`);
  return win;
}

async function main(): Promise<void> {
  await app.whenReady();
  engine = Engine.open({ libraryDir: resolveLibraryDir() });
  protocol.handle('loupe', serve);
  wireIpc();
  const win = createWindow();
  engine.on((e) => {
    if (!win.isDestroyed()) win.webContents.send('loupe:event', e);
  });
  watcher = await engine.watch();
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', (e) => {
    if (!engine) return;
    e.preventDefault();
    const closing = engine;
    engine = null;
    void (async () => {
      await watcher?.close();
      await closing.close();
      app.exit(0);
    })();
  });
}

void main();
