/**
 * The shell's security decisions, kept free of Electron so they are unit-tested: what the window
 * may be, where it may go, which frames may call the engine, and which renderer files the app
 * scheme serves.
 */
import { extname, join, normalize, sep } from 'node:path';
import { contentSecurityPolicy, hasUnsafeSegments, RENDERER_TYPES } from '../main/bridge/web.js';

/** The renderer's origin (served from the packaged files) and the picture scheme's host. */
export const APP_ORIGIN = 'loupe://app';
export const MEDIA_PREFIX = 'loupe://media/';

export const WINDOW_CSP = contentSecurityPolicy('blob: data: loupe://media');

export interface SecureWebPreferences {
  readonly contextIsolation: true;
  readonly sandbox: true;
  readonly nodeIntegration: false;
  readonly nodeIntegrationInWorker: false;
  readonly nodeIntegrationInSubFrames: false;
  readonly webSecurity: true;
  readonly allowRunningInsecureContent: false;
  readonly webviewTag: false;
  readonly spellcheck: boolean;
  readonly preload: string;
}

export function webPreferences(preload: string): SecureWebPreferences {
  return {
    contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInWorker: false, nodeIntegrationInSubFrames: false,
    webSecurity: true, allowRunningInsecureContent: false, webviewTag: false, spellcheck: true, preload,
  };
}

/** Only the app's own pages: every other navigation (links, drops, redirects) is refused. */
export function mayNavigate(url: string): boolean {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}` === APP_ORIGIN;
  } catch {
    return false;
  }
}

/** IPC is answered only for the app's top frame. */
export function isTrustedSender(frameUrl: string | undefined): boolean {
  return frameUrl !== undefined && mayNavigate(frameUrl);
}

/** The renderer file a loupe://app URL names, or null when it points outside the renderer folder. */
export function appFile(url: string, rendererDir: string): { path: string; type: string } | null {
  if (hasUnsafeSegments(url)) return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (`${u.protocol}//${u.host}` !== APP_ORIGIN) return null;
  let rel: string;
  try {
    rel = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  if (rel === '/' || rel === '') rel = '/index.html';
  const root = normalize(rendererDir);
  const path = normalize(join(root, rel));
  if (!path.startsWith(root + sep)) return null;
  const type = RENDERER_TYPES[extname(path)];
  return type ? { path, type } : null;
}

/** The media request (after loupe://media/), or null for any other loupe:// host. */
export function mediaPath(url: string): string | null {
  return url.startsWith(MEDIA_PREFIX) ? url.slice(MEDIA_PREFIX.length).split(/[?#]/)[0]! : null;
}
