/**
 * The renderer's one way to the engine: the same LoupeApi over Electron IPC (window.loupe, set by
 * the preload script) or over the HTTP bridge when the page runs in a browser.
 */
import type { EngineEvent, LoupeApi, WindowBridge } from '../../../main/contract/api.js';

declare global {
  interface Window {
    loupe?: WindowBridge;
  }
}

export interface Transport {
  call(method: string, args: readonly unknown[]): Promise<unknown>;
  subscribe(listener: (e: EngineEvent) => void): () => void;
  readonly mediaBase: string;
  readonly desktop: boolean;
  pickFolder(): Promise<string | null>;
}

function httpTransport(): Transport {
  const listeners = new Set<(e: EngineEvent) => void>();
  let source: EventSource | null = null;
  const connect = (): void => {
    source = new EventSource('/api/events');
    source.onmessage = (m: MessageEvent<string>): void => {
      const e = JSON.parse(m.data) as EngineEvent;
      for (const l of listeners) l(e);
    };
  };
  return {
    async call(method, args) {
      const res = await fetch(`/api/${method}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(args),
        credentials: 'same-origin',
      });
      const body = (await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }))) as { result?: unknown; error?: string };
      if (!res.ok) throw new Error(body.error ?? `${method} failed (${res.status})`);
      return body.result;
    },
    subscribe(listener) {
      listeners.add(listener);
      if (!source) connect();
      return () => listeners.delete(listener);
    },
    mediaBase: '/media/',
    desktop: false,
    pickFolder: () => Promise.resolve(null),
  };
}

function ipcTransport(bridge: WindowBridge): Transport {
  return {
    call: (method, args) => bridge.call(method, args),
    subscribe: (listener) => bridge.onEvent(listener),
    mediaBase: bridge.mediaBase,
    desktop: true,
    pickFolder: () => bridge.pickFolder(),
  };
}

export const transport: Transport = typeof window !== 'undefined' && window.loupe ? ipcTransport(window.loupe) : httpTransport();

/** The engine, typed by its contract; every call goes through the transport's checks. */
export const api: LoupeApi = new Proxy({} as LoupeApi, {
  get: (_target, method: string) => (...args: unknown[]) => transport.call(method, args),
});

export const thumbUrl = (photoId: number, size: 256 | 1024 = 256): string => `${transport.mediaBase}thumb/${photoId}/${size}`;
export const photoUrl = (photoId: number): string => `${transport.mediaBase}photo/${photoId}`;
/** A video's frame sampled nearest a moment (what a hit at that moment shows). */
export const frameUrl = (photoId: number, atMs: number): string => `${transport.mediaBase}frame/${photoId}/${Math.max(0, Math.round(atMs))}`;
/** A video itself, to play. */
export const videoUrl = (photoId: number): string => `${transport.mediaBase}video/${photoId}`;
