/** The desktop shell's security decisions (electron/policy.ts), checked without the Electron binary. */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { appFile, isTrustedSender, mayGrant, mayLoad, mayNavigate, mediaPath, webPreferences, WINDOW_CSP, windowCsp } from '../../electron/policy.js';
import { parseMediaPath } from '../../main/contract/media.js';

describe('electron window policy', () => {
  it('isolates the window: context isolation, sandbox, no Node anywhere, no webviews', () => {
    expect(webPreferences('/app/preload.cjs')).toMatchObject({
      contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInWorker: false, nodeIntegrationInSubFrames: false,
      webSecurity: true, allowRunningInsecureContent: false, webviewTag: false, experimentalFeatures: false, navigateOnDragDrop: false,
      preload: '/app/preload.cjs',
    });
    // Devtools in a clone (npm run app), never in an installed app.
    expect(webPreferences('/p', true).devTools).toBe(false);
    expect(webPreferences('/p', false).devTools).toBe(true);
  });

  it('grants a page no permission at all', () => {
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'clipboard-sanitized-write', 'midi', 'hid', 'usb', 'serial', 'openExternal', 'fullscreen', 'pointerLock']) {
      expect(mayGrant(p), p).toBe(false);
    }
  });

  it('loads nothing remote and nothing from the disk by path: only loupe:, blob: and data:', () => {
    for (const url of ['loupe://app/index.html', 'loupe://media/thumb/1/256', 'blob:loupe://app/1234', 'data:image/png;base64,AAAA']) expect(mayLoad(url), url).toBe(true);
    // Street tiles only from their origin, and only while they are on.
    expect(mayLoad('https://tile.openstreetmap.org/1/0/0.png')).toBe(false);
    expect(mayLoad('https://tile.openstreetmap.org/1/0/0.png', false, 'https://tile.openstreetmap.org')).toBe(true);
    expect(mayLoad('https://evil.example/1/0/0.png', false, 'https://tile.openstreetmap.org')).toBe(false);
    expect(windowCsp('https://tile.openstreetmap.org')).toContain("img-src 'self' blob: data: loupe://media https://tile.openstreetmap.org;");
    expect(windowCsp(null)).toBe(WINDOW_CSP);
    for (const url of ['https://example.com/x.js', 'http://127.0.0.1:8080/', 'ws://localhost/', 'file:///etc/passwd', 'ftp://h/', 'devtools://devtools/x', 'nonsense']) {
      expect(mayLoad(url), url).toBe(false);
    }
    expect(mayLoad('devtools://devtools/bundled/inspector.html', true)).toBe(true);
  });

  it('the shell wires every decision (checked in its source, since Electron\'s binary is absent here)', () => {
    const main = readFileSync(new URL('../../electron/main.ts', import.meta.url), 'utf8');
    for (const call of [
      'app.requestSingleInstanceLock()', 'app.enableSandbox()', "app.on('web-contents-created'", 'hardenSession(session.defaultSession)',
      'setPermissionRequestHandler', 'setPermissionCheckHandler', 'setDevicePermissionHandler', 'webRequest.onBeforeRequest',
      "setWindowOpenHandler(() => ({ action: 'deny' }))", "'will-navigate'", "'will-redirect'", "'will-attach-webview'",
      'isTrustedSender(event.senderFrame?.url)', "'Content-Security-Policy': csp", 'prefs?.onlineMap ? tileOrigin(prefs.mapTiles) : null', 'windowCsp(origin)', 'webPreferences(PRELOAD, app.isPackaged)',
    ]) expect(main, call).toContain(call);
    // No way out to the user's browser or the shell from the window.
    expect(main).not.toMatch(/shell\.openExternal|nodeIntegration:\s*true|contextIsolation:\s*false/);
  });

  it('has a strict content security policy: own scripts only, no inline code, pictures from loupe://media', () => {
    expect(WINDOW_CSP).toContain("default-src 'none'");
    expect(WINDOW_CSP).toContain("script-src 'self'");
    expect(WINDOW_CSP).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(WINDOW_CSP).toContain('img-src \'self\' blob: data: loupe://media');
    // Videos play from the media scheme only (no blob: or data: media).
    expect(WINDOW_CSP).toContain('media-src \'self\' loupe://media;');
  });

  it('lets the window go nowhere but the app, and answers IPC only from the app', () => {
    expect(mayNavigate('loupe://app/index.html')).toBe(true);
    for (const url of ['https://example.com/', 'file:///etc/passwd', 'loupe://media/thumb/1/256', 'loupe://app.evil/', 'javascript:alert(1)', 'not a url']) {
      expect(mayNavigate(url), url).toBe(false);
      expect(isTrustedSender(url), url).toBe(false);
    }
    expect(isTrustedSender(undefined)).toBe(false);
    expect(isTrustedSender('loupe://app/index.html')).toBe(true);
  });

  it('serves renderer files from inside the renderer folder only', () => {
    const root = join('/opt', 'loupe', 'renderer');
    expect(appFile('loupe://app/', root)).toEqual({ path: join(root, 'index.html'), type: 'text/html; charset=utf-8' });
    expect(appFile('loupe://app/assets/index-1.js', root)).toEqual({ path: join(root, 'assets', 'index-1.js'), type: 'text/javascript; charset=utf-8' });
    for (const url of ['loupe://app/../../etc/passwd', 'loupe://app/..%2f..%2fetc%2fpasswd', 'loupe://app/%2e%2e/secret.js', 'loupe://app/notes.txt', 'loupe://other/index.html', 'loupe://app/%E0%A4%A']) {
      expect(appFile(url, root), url).toBeNull();
    }
  });

  it('hands picture requests to the by-id media resolver, which refuses paths', () => {
    expect(mediaPath('loupe://media/thumb/12/256')).toBe('thumb/12/256');
    expect(mediaPath('loupe://app/index.html')).toBeNull();
    expect(parseMediaPath('thumb/12/256')).toEqual({ what: 'thumb', id: 12, size: 256 });
    expect(parseMediaPath('photo/7')).toEqual({ what: 'photo', id: 7 });
    for (const rest of ['thumb/12/300', 'photo/../../etc/passwd', 'photo//etc/passwd', 'photo/0', 'photo/12abc', 'file/etc/passwd', '']) {
      expect(() => parseMediaPath(rest), rest).toThrow(/photo id/);
    }
  });
});
