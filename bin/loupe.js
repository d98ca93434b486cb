#!/usr/bin/env node
// The compiled CLI (npm install runs the build through "prepare").
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/main/cli/run.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('loupe: not built yet — run `npm run build` in the Loupe folder.\n');
  process.exit(1);
}
await import(entry.href);
