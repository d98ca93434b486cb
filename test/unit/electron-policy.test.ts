/** The desktop shell's security decisions (electron/policy.ts), checked without the Electron binary. */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { appFile, isTrustedSender, mayNavigate, mediaPath, webPreferences, WINDOW_CSP } from '../../electron/policy.js';
import { parseMediaPath } from '../../main/contract/media.js';

describe('electron window policy', () => {
  it('isolates the window: context isolation, sandbox, no Node anywhere, no webviews', () => {
    expect(webPreferences('/app/preload.cjs')).toMatchObject({
      contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInWorker: false, nodeIntegrationInSubFrames: false,
      webSecurity: true, allowRunningInsecureContent: false, webviewTag: false, preload: '/app/preload.cjs',
    });
  });

  it('has a strict content security policy: own scripts only, no inline code, pictures from loupe://media', () => {
    expect(WINDOW_CSP).toContain("default-src 'none'");
    expect(WINDOW_CSP).toContain("script-src 'self'");
    expect(WINDOW_CSP).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(WINDOW_CSP).toContain('img-src \'self\' blob: data: loupe://media');
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
