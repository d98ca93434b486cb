/**
 * The layering rule and the architecture page name the same rooms, and the rule refuses what it
 * should: a lower room importing a higher one, the shell importing the engine.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// @ts-expect-error -- a plain ES module without types (the lint rule itself)
import { LAYERS, roomOf, violation } from '../../scripts/eslint/layers.js';

const layers = LAYERS as Record<string, string[]>;
const doc = readFileSync(fileURLToPath(new URL('../../docs/architecture.md', import.meta.url)), 'utf8');

/** The rooms table of docs/architecture.md: room → the rooms it may import. */
function documented(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of doc.split('\n')) {
    const m = /^\| (`[^|]+`(?:, `[^|]+`)*) \| [^|]* \| ([^|]*) \|$/.exec(line.trim());
    if (!m) continue;
    const rooms = [...m[1]!.matchAll(/`([^`]+)`/g)].map((x) => x[1]!.replace(/\/$/, ''));
    const may = m[2]!.trim() === '—' ? [] : m[2]!.split(',').map((x) => x.trim()).filter(Boolean);
    for (const r of rooms) out.set(r, may);
  }
  return out;
}

const full = (short: string): string => (short === 'everything above' ? short : layers[`main/${short}`] !== undefined ? `main/${short}` : short);

describe('layering', () => {
  it('docs/architecture.md lists exactly the rooms of the rule, each with the same imports', () => {
    const table = documented();
    expect([...table.keys()].sort()).toEqual(Object.keys(layers).sort());
    for (const [room, may] of table) {
      if (may.length === 1 && may[0] === 'everything above') {
        const above = Object.keys(layers).slice(0, Object.keys(layers).indexOf(room)).filter((r) => r.startsWith('main/'));
        expect(layers[room]!.slice().sort(), room).toEqual(above.sort());
        continue;
      }
      expect(may.map(full).sort(), room).toEqual(layers[room]!.slice().sort());
    }
  });

  it('every room imports only rooms listed before it (data flows one way)', () => {
    const order = Object.keys(layers);
    for (const [room, may] of Object.entries(layers)) {
      for (const lower of may) expect(order.indexOf(lower), `${room} → ${lower}`).toBeLessThan(order.indexOf(room));
    }
  });

  it('refuses a lower room importing a higher one, and lets a room import below itself', () => {
    expect(roomOf('main/ingest/watcher.ts')).toBe('main/ingest');
    expect(violation('main/ingest/watcher.ts', 'main/engine/engine.js')).toMatch(/main\/ingest may not import main\/engine/);
    expect(violation('main/db/repos/photos.ts', 'main/search/search.js')).toMatch(/may not import/);
    expect(violation('electron/main.ts', 'main/engine/engine.js')).toMatch(/electron may not import main\/engine/);
    expect(violation('main/engine/engine.ts', 'main/ingest/scanner.js')).toBeNull();
    expect(violation('main/search/search.ts', 'main/search/rank.js')).toBeNull();
    expect(violation('test/unit/x.test.ts', 'main/engine/engine.js')).toBeNull();
  });
});
