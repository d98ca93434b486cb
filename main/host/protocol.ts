/**
 * Messages between the app's main process and the engine's own process (Electron's utility
 * process; a forked Node process in tests). The parent relays calls it has not checked: the host
 * checks them against the one call schema before the engine sees them.
 */
import type { EngineEvent } from '../contract/api.js';
import type { Failure } from '../contract/errors.js';

export type ToHost =
  | { readonly type: 'call'; readonly id: number; readonly method: string; readonly args: readonly unknown[] }
  /** A picture by the part of its address after the media prefix (`thumb/<id>/<size>`, `photo/<id>`, `frame/<id>/<ms>`, `video/<id>`). */
  | { readonly type: 'media'; readonly id: number; readonly path: string }
  | { readonly type: 'close' };

export interface MediaReply {
  readonly type: string;
  /** The picture's bytes (made for the UI), or the file to read. */
  readonly data?: Uint8Array;
  readonly path?: string;
  /** What the file must still be when read (a video the engine checked; util/served-file.ts). */
  readonly expect?: { readonly size: number; readonly mtimeMs: number };
}

export type { Failure } from '../contract/errors.js';

export type FromHost =
  | { readonly type: 'ready'; readonly library: string }
  | { readonly type: 'reply'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly type: 'reply'; readonly id: number; readonly ok: false; readonly failure: Failure }
  | { readonly type: 'event'; readonly event: EngineEvent }
  | { readonly type: 'fatal'; readonly message: string };
