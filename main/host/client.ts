/**
 * The parent side: calls into the engine's process and its events. The channel is Electron's
 * utility process in the app and a forked Node process in tests.
 */
import type { EngineEvent } from '../contract/api.js';
import type { Failure, FromHost, MediaReply, ToHost } from './protocol.js';

export interface HostChannel {
  send(message: ToHost): void;
  onMessage(listener: (message: FromHost) => void): void;
  onExit(listener: (code: number | null) => void): void;
  kill(): void;
}

/** A failure reported by the engine's process; `kind` and `status` say whose it is. */
export class HostError extends Error {
  readonly kind: Failure['kind'];
  readonly status: number;
  constructor(failure: Failure) {
    super(failure.message);
    this.name = 'HostError';
    this.kind = failure.kind;
    this.status = failure.status;
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

export class EngineClient {
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  private nextId = 1;
  private exited: Error | null = null;
  private closedResolve: (() => void) | null = null;
  /** Resolves with the library folder once the engine is open. */
  readonly ready: Promise<string>;

  constructor(private readonly channel: HostChannel, onUnexpectedExit?: (code: number | null) => void) {
    let readyResolve: (library: string) => void = () => undefined;
    let readyReject: (err: Error) => void = () => undefined;
    this.ready = new Promise((resolve, reject) => { readyResolve = resolve; readyReject = reject; });
    this.ready.catch(() => undefined);
    channel.onMessage((m) => {
      if (m.type === 'ready') readyResolve(m.library);
      else if (m.type === 'fatal') readyReject(new Error(m.message));
      else if (m.type === 'event') for (const l of this.listeners) l(m.event);
      else if (m.type === 'reply') {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.value);
        else p.reject(new HostError(m.failure));
      }
    });
    channel.onExit((code) => {
      const expected = this.closedResolve !== null;
      this.exited = new Error(`the engine stopped (exit code ${code ?? 'none'})`);
      readyReject(this.exited);
      for (const p of this.pending.values()) p.reject(this.exited);
      this.pending.clear();
      this.closedResolve?.();
      if (!expected) onUnexpectedExit?.(code);
    });
  }

  private request(make: (id: number) => ToHost): Promise<unknown> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.channel.send(make(id));
    });
  }

  /** A call as a window sent it: the engine's process checks it. */
  call(method: string, args: readonly unknown[]): Promise<unknown> {
    return this.request((id) => ({ type: 'call', id, method, args }));
  }

  media(path: string): Promise<MediaReply> {
    return this.request((id) => ({ type: 'media', id, path })) as Promise<MediaReply>;
  }

  onEvent(listener: (e: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Asks the engine to finish its writes and stop; resolves once its process has ended (killed if not within `graceMs`). */
  async close(graceMs = 10_000): Promise<void> {
    if (this.exited) return;
    const closed = new Promise<void>((resolve) => { this.closedResolve = resolve; });
    this.channel.send({ type: 'close' });
    const timer = setTimeout(() => this.channel.kill(), graceMs);
    await closed;
    clearTimeout(timer);
  }
}
