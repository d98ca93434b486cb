#!/usr/bin/env node
// The compiled CLI (npm install runs the build through "prepare").
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Older Nodes fail deep inside a native module (better-sqlite3 needs Node 22): say so first.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(`loupe: needs Node.js 22.12 or newer (this is ${process.version}); the current LTS is at https://nodejs.org or \`npm install -g node@24\`.\n`);
  process.exit(1);
}

const entry = new URL('../dist/main/cli/run.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('loupe: not built yet — run `npm run build` in the Loupe folder.\n');
  process.exit(1);
}
await import(entry.href);
