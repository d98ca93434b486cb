/**
 * A scan of a big folder lets the event loop answer other work while it walks and records
 * (figures: npm run bench:responsive). Counted in turns of the loop, not in milliseconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testLibrary, type TestLibrary } from '../helpers/library.js';

let lib: TestLibrary;
const FILES = 6000;

beforeAll(async () => {
  lib = testLibrary();
  for (let d = 0; d < FILES / 200; d++) {
    const dir = join(lib.photos, `day-${d}`);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 200; i++) writeFileSync(join(dir, `IMG_${i}.jpg`), '');
  }
  await lib.engine.addFolder(lib.photos);
});

afterAll(async () => {
  await lib.close();
});

describe('scanning', () => {
  it('lets other work run while it walks a folder of thousands of files, and answers calls meanwhile', async () => {
    let turns = 0;
    let answered = 0;
    let scanning = true;
    const spin = async (): Promise<void> => {
      while (scanning) {
        turns++;
        if (turns % 10 === 0) {
          await lib.engine.listFolders();
          answered++;
        }
        await new Promise((r) => setImmediate(r));
      }
    };
    const spinning = spin();
    const summary = await lib.engine.scan();
    scanning = false;
    await spinning;
    expect(summary.seen).toBe(FILES);
    // Before, the whole scan of one folder ran in one turn of the loop.
    expect(turns).toBeGreaterThanOrEqual(10);
    expect(answered).toBeGreaterThanOrEqual(1);
  });
});
