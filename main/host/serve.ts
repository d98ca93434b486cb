/**
 * The host side: answers the parent's messages with the engine. Every call passes the call
 * schema first; every answer is a plain message (no exception crosses the process boundary).
 */
import { dispatch, parseCall } from '../contract/calls.js';
import { failureOf } from '../contract/errors.js';
import { asError } from '../util/errors.js';
import type { Engine } from '../engine/engine.js';
import type { FromHost, ToHost } from './protocol.js';

export interface HostPort {
  post(message: FromHost): void;
  onMessage(listener: (message: unknown) => void): void;
}

function isToHost(m: unknown): m is ToHost {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  if (r['type'] === 'close') return true;
  if (typeof r['id'] !== 'number') return false;
  if (r['type'] === 'call') return typeof r['method'] === 'string' && Array.isArray(r['args']);
  return r['type'] === 'media' && typeof r['path'] === 'string';
}

/**
 * Serves `engine` on `port` until the parent says close; then `onClose` closes the engine and
 * whatever watches for it, and ends the process.
 */
export function serveEngine(engine: Engine, port: HostPort, onClose: () => Promise<void>): void {
  engine.on((event) => port.post({ type: 'event', event }));
  let closing = false;
  port.onMessage((message) => {
    if (!isToHost(message)) return;
    if (message.type === 'close') {
      if (closing) return;
      closing = true;
      void onClose();
      return;
    }
    const { id } = message;
    const answer = message.type === 'call'
      ? Promise.resolve().then(() => dispatch(engine, parseCall(message.method, message.args)))
      : Promise.resolve().then(() => engine.media(message.path)).then((m) => (m.kind === 'bytes'
        ? { type: m.type, data: new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength) }
        : { type: m.type, path: m.path, ...(m.expect ? { expect: m.expect } : {}) }));
    answer.then(
      (value: unknown) => port.post({ type: 'reply', id, ok: true, value: value ?? null }),
      (err: unknown) => {
        const failure = failureOf(err);
        if (failure.kind === 'internal') engine.emit({ type: 'log', message: `${message.type === 'call' ? message.method : 'picture'} failed: ${asError(err).stack ?? failure.message}` });
        port.post({ type: 'reply', id, ok: false, failure });
      },
    );
  });
}
