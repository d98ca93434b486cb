/** The engine in its own process, as the app runs it, forked with Node for tests and benchmarks. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EngineClient, type HostChannel } from '../../main/host/client.js';
import type { FromHost, ToHost } from '../../main/host/protocol.js';

const ENTRY = fileURLToPath(new URL('../../main/host/process.ts', import.meta.url));

export interface EngineProcess {
  readonly client: EngineClient;
  readonly child: ChildProcess;
  /** Exit codes of unexpected exits, as the client reports them. */
  readonly exits: (number | null)[];
}

/** Starts the engine's process on a library folder; `quiet` drops its standard output. */
export function forkEngine(library: string, args: string[] = [], quiet = false): EngineProcess {
  const child = fork(ENTRY, args, {
    execArgv: ['--import', 'tsx'], env: { ...process.env, LOUPE_HOME: library }, serialization: 'advanced',
    stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit', 'ipc'],
  });
  const channel: HostChannel = {
    send: (m: ToHost) => child.send(m),
    onMessage: (l) => child.on('message', (m) => l(m as FromHost)),
    onExit: (l) => child.on('exit', (code) => l(code)),
    kill: () => child.kill('SIGKILL'),
  };
  const exits: (number | null)[] = [];
  return { client: new EngineClient(channel, (code) => exits.push(code)), child, exits };
}
