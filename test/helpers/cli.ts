import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = fileURLToPath(new URL('../../main/cli/run.ts', import.meta.url));

export interface CliResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Starts the real `loupe` CLI (TypeScript source, through tsx) as a child process. */
export function startCli(args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  const node = opts.uid === undefined ? process.execPath : nodeRunnableBy(opts.uid, opts.gid ?? opts.uid);
  return spawn(node, ['--import', 'tsx', ENTRY, ...args], {
    cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], ...opts, env: { ...process.env, ...opts.env },
  });
}

export function runCli(args: readonly string[], opts: SpawnOptions = {}): Promise<CliResult> {
  const child = startCli(args, opts);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/**
 * A Node binary another user can run. The running one may sit under a private home (CI installs
 * Node into root's 0700 ~/.cache), which a process dropped to "nobody" cannot reach: it is then
 * copied once into the world-readable temp folder (the binary is self-contained).
 */
export function nodeRunnableBy(uid: number, gid: number): string {
  if (spawnSync(process.execPath, ['--version'], { uid, gid }).status === 0) return process.execPath;
  const dir = join(tmpdir(), `loupe-test-node-${process.version}`);
  const copy = join(dir, 'node');
  if (!existsSync(copy)) {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    chmodSync(dir, 0o755);
    const partial = `${copy}.${process.pid}.tmp`;
    copyFileSync(process.execPath, partial);
    chmodSync(partial, 0o755);
    renameSync(partial, copy); // whole or absent, should two test files copy at once
  }
  return copy;
}

/** `loupe` on one library: `cli` returns stdout and throws (with stderr) on a non-zero exit; `json` parses `--json` output. */
export function libraryCli(library: string, ...global: string[]): {
  cli: (...args: string[]) => Promise<string>;
  json: <T>(...args: string[]) => Promise<T>;
} {
  const cli = async (...args: string[]): Promise<string> => {
    const r = await runCli(['--library', library, ...global, ...args]);
    if (r.code !== 0) throw new Error(`loupe ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  return { cli, json: async <T>(...args: string[]): Promise<T> => JSON.parse(await cli('--json', ...args)) as T };
}
