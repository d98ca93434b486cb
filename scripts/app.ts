/**
 * `npm run app`: the desktop app from a clone. Finds Electron's binary (fetching it on first use),
 * and says exactly what is missing and how to get it when it cannot; builds the engine, shell and
 * renderer; then starts Electron on this folder. Every native addon is Node-API, so the same
 * node_modules serves the CLI, the tests and the app (test/unit/packaging.test.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { findElectron, howToGetElectron } from './electron-binary.js';

const electron = findElectron(true);
if (!electron.ok) {
  console.error(`npm run app: ${electron.reason}\n${howToGetElectron(electron.version)}`);
  process.exit(1);
}
const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' });
if (build.status !== 0) process.exit(build.status ?? 1);
const child = spawn(electron.path, ['.', ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
