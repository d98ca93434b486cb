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

export const WINDOW_CSP = contentSecurityPolicy('blob: data: loupe://media', 'loupe://media');

/** The window's policy: street tiles' origin too (`tiles`), only while the user has them on. */
export function windowCsp(tiles: string | null): string {
  return tiles ? contentSecurityPolicy(`blob: data: loupe://media ${tiles}`, 'loupe://media') : WINDOW_CSP;
}

export interface SecureWebPreferences {
  readonly contextIsolation: true;
  readonly sandbox: true;
  readonly nodeIntegration: false;
  readonly nodeIntegrationInWorker: false;
  readonly nodeIntegrationInSubFrames: false;
  readonly webSecurity: true;
  readonly allowRunningInsecureContent: false;
  readonly webviewTag: false;
  readonly experimentalFeatures: false;
  readonly navigateOnDragDrop: false;
  readonly spellcheck: boolean;
  readonly devTools: boolean;
  readonly preload: string;
}

/** The window's preferences (Electron security checklist items 2–4, 6, 8–12); devtools only in a clone, not an installed app. */
export function webPreferences(preload: string, packaged = true): SecureWebPreferences {
  return {
    contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInWorker: false, nodeIntegrationInSubFrames: false,
    webSecurity: true, allowRunningInsecureContent: false, webviewTag: false, experimentalFeatures: false, navigateOnDragDrop: false,
    spellcheck: true, devTools: !packaged, preload,
  };
}

/**
 * Permissions the app grants a page: none. The window needs no camera, microphone, location,
 * notifications, clipboard reading, MIDI, HID, USB or serial (checklist item 5).
 */
export const GRANTED_PERMISSIONS: ReadonlySet<string> = new Set();

export function mayGrant(permission: string): boolean {
  return GRANTED_PERMISSIONS.has(permission);
}

/**
 * What the window may load: its own files and pictures (loupe:), and in-memory data (blob:,
 * data:). No http(s), ws(s), file: or ftp: — nothing remote, nothing off the disk by path
 * (checklist items 1 and 18); devtools: only where devtools are allowed.
 */
export function mayLoad(url: string, devTools = false, tiles: string | null = null): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const scheme = u.protocol;
  // Street tiles, from their one origin, only while the user has them on.
  if (tiles !== null && (scheme === 'https:' || scheme === 'http:') && u.origin === tiles) return true;
  return scheme === 'loupe:' || scheme === 'blob:' || scheme === 'data:' || (devTools && scheme === 'devtools:');
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
