/**
 * `npm run pin-catalog [-- --catalog FILE] [--hub URL] [--refresh]`: pins every catalog pack to the
 * commit its revision names on the model hub now, with the size and SHA-256 of each file
 * (main/models/pinning.ts). Run it where huggingface.co can be reached, review the diff (new
 * commits mean new weights), and commit it: the installer refuses entries without pins, and any
 * bytes other than the pinned ones. Pinned entries are kept unless --refresh.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { catalogDownloads, catalogPath, CatalogSchema, type CatalogEntry } from '../main/models/manifest.js';
import { isPinned, pinEntry } from '../main/models/pinning.js';
import { writeFileAtomic } from '../main/util/atomic.js';

const program = new Command('pin-catalog')
  .option('--catalog <file>', 'the catalog to pin', catalogPath())
  .option('--hub <url>', 'the model hub', process.env['LOUPE_HUB_URL'] ?? 'https://huggingface.co')
  .option('--refresh', 're-pin entries that are pinned already (to take upstream changes)', false)
  .parse();
const opts = program.opts<{ catalog: string; hub: string; refresh: boolean }>();

const catalog = CatalogSchema.parse(JSON.parse(readFileSync(opts.catalog, 'utf8')));
const hub = opts.hub.replace(/\/+$/, '');
const packs = [];
/** Where an entry's files are and how many bytes they hold, for the log. */
const describe = (entry: CatalogEntry): string => {
  const files = catalogDownloads(entry);
  const at = [...new Set(files.map((f) => `${f.repo}@${f.revision}`))].join(' + ');
  return `${at}, ${files.length} files, ${(files.reduce((a, f) => a + (f.size ?? 0), 0) / 1e6).toFixed(1)} MB`;
};
for (const entry of catalog.packs) {
  if (isPinned(entry) && !opts.refresh) {
    console.log(`${entry.name}: pinned at ${describe(entry)}`);
    packs.push(entry);
    continue;
  }
  const pinned = await pinEntry(hub, entry);
  console.log(`${entry.name}: ${describe(pinned)}`);
  packs.push(pinned);
}
await writeFileAtomic(opts.catalog, new TextEncoder().encode(JSON.stringify({ ...catalog, packs }, null, 2) + '\n'));
console.log(`wrote ${opts.catalog}`);
