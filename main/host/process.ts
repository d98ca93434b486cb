/**
 * The engine's own process. Electron starts it as a utility process (messages on
 * process.parentPort); tests fork it with Node (messages on process.send). It opens the library
 * named by LOUPE_HOME (else the default), watches the folders unless given --no-watch, and serves
 * the parent until told to close.
 */
import { Engine } from '../engine/engine.js';
import { resolveLibraryDir } from '../util/paths.js';
import type { FromHost } from './protocol.js';
import { serveEngine, type HostPort } from './serve.js';
import { errorMessage } from '../util/errors.js';

interface ParentPort {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

function parentPort(): HostPort {
  const electron = (process as NodeJS.Process & { parentPort?: ParentPort }).parentPort;
  if (electron) {
    return { post: (m) => electron.postMessage(m), onMessage: (l) => electron.on('message', (e) => l(e.data)) };
  }
  const send = process.send?.bind(process);
  if (!send) throw new Error('the engine process needs a parent: start it from the app');
  // Without the parent nothing can reach the engine: close it cleanly.
  process.on('disconnect', () => void shutdown().then(() => process.exit(0)));
  return { post: (m) => void send(m), onMessage: (l) => process.on('message', l) };
}

let shutdown: () => Promise<void> = async () => undefined;

async function main(): Promise<void> {
  const port = parentPort();
  try {
    const engine = Engine.open({ libraryDir: resolveLibraryDir(), autoIndex: true });
    const watcher = process.argv.includes('--no-watch') ? null : await engine.watch();
    let closing: Promise<void> | null = null;
    shutdown = () => (closing ??= (async () => {
      await watcher?.close();
      await engine.close();
    })());
    serveEngine(engine, port, async () => {
      await shutdown();
      process.exit(0);
    });
    port.post({ type: 'ready', library: engine.libraryDir } satisfies FromHost);
    if (watcher) engine.catchUp();
  } catch (err) {
    port.post({ type: 'fatal', message: errorMessage(err) });
    setTimeout(() => process.exit(1), 50);
  }
}

void main();
