/**
 * `loupe search`, `loupe albums …`, `loupe categories …`, `loupe duplicates`: the search engine
 * from a terminal. Every request goes through the same SearchRequest schema as IPC and HTTP.
 */
import { resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Box, SearchFilters, SearchRequest, SearchResponse } from '../contract/api.js';
import { shown } from './format.js';
import type { Engine } from '../engine/engine.js';
import { parseSearchRequest } from '../contract/search-request.js';

export interface CommandKit {
  readonly withE: <T>(fn: (engine: Engine) => Promise<T>) => Promise<T>;
  readonly print: (json: unknown, text: string) => void;
  readonly out: (s: string) => void;
  readonly json: () => boolean;
  readonly bar: (label: string) => { update: (done: number, total: number | null, extra?: string) => void; stop: () => void };
}

const int = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
};

const ids = (v: string): number[] => v.split(',').map((x) => int(x.trim()));

/** "2024-05-01" or a full ISO time → epoch ms; a bare date as local midnight read as UTC (how photo dates are stored). */
function date(v: string, endOfDay: boolean): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  const t = m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!) + (endOfDay ? 86_399_999 : 0) : Date.parse(v);
  if (!Number.isFinite(t)) throw new InvalidArgumentError(`not a date: ${v} (use YYYY-MM-DD)`);
  return t;
}

function regionArg(v: string): { photoId: number; box: Box } {
  const m = /^(\d+):([\d.]+),([\d.]+),([\d.]+),([\d.]+)$/.exec(v);
  if (!m) throw new InvalidArgumentError('expected ID:x,y,w,h with the box as fractions, e.g. 42:0.1,0.2,0.3,0.3');
  return { photoId: Number(m[1]), box: { x: Number(m[2]), y: Number(m[3]), w: Number(m[4]), h: Number(m[5]) } };
}

interface SearchOpts {
  like?: string; same?: boolean; region?: { photoId: number; box: Box }; weight?: string; from?: number; to?: number;
  folder?: number[]; album?: number[]; camera?: string; location?: boolean; orientation?: 'landscape' | 'portrait' | 'square';
  format?: string[]; sort?: 'relevance' | 'newest' | 'oldest'; limit: number; offset: number; expand?: boolean; diffusion?: boolean; all?: boolean;
  rating?: number; keyword?: string[]; label?: string[]; peopleCount?: number; onlyPeople?: boolean;
  place?: string[]; notPlace?: string[]; area?: { south: number; west: number; north: number; east: number };
}

function addFilterOptions(cmd: Command): Command {
  return cmd
    .option('--from <date>', 'taken on or after (YYYY-MM-DD)', (v) => date(v, false))
    .option('--to <date>', 'taken on or before (YYYY-MM-DD)', (v) => date(v, true))
    .option('--folder <ids>', 'only these library folders (ids, comma-separated)', ids)
    .option('--album <ids>', 'only photos in these albums', ids)
    .option('--camera <text>', 'camera make or model contains')
    .option('--location', 'only photos with a location')
    .option('--no-location', 'only photos without a location')
    .addOption(new Option('--orientation <o>').choices(['landscape', 'portrait', 'square']))
    .option('--format <list>', 'file formats, comma-separated (jpeg,png,heif,dng…)', list)
    .option('--rating <stars>', 'rated at least this many stars (XMP rating, 0–5)', stars)
    .option('--keyword <list>', 'has every one of these keywords (from the files and their sidecars), comma-separated', list)
    .option('--label <list>', 'has one of these colour labels, comma-separated', list)
    .option('--people-count <n>', 'shows exactly this many people (faces found)', int)
    .option('--only-people', 'shows only the people named with person: in the query, no one else')
    .option('--place <list>', 'taken in every one of these places, regions or countries (as place: in the query), comma-separated', list)
    .option('--not-place <list>', 'taken in none of these, comma-separated', list)
    .option('--area <s,w,n,e>', 'its GPS inside this box of degrees: south,west,north,east', area);
}

function area(v: string): { south: number; west: number; north: number; east: number } {
  const n = v.split(',').map((x) => Number(x.trim()));
  const [south, west, north, east] = n;
  const ok = n.length === 4 && n.every(Number.isFinite) && south! <= north! && Math.abs(south!) <= 90 && Math.abs(north!) <= 90
    && Math.abs(west!) <= 180 && Math.abs(east!) <= 180;
  if (!ok) throw new InvalidArgumentError('an area is south,west,north,east in degrees (south ≤ north; west > east crosses the antimeridian)');
  return { south: south!, west: west!, north: north!, east: east! };
}

function list(v: string): string[] {
  return v.split(',').map((x) => x.trim()).filter(Boolean);
}

function stars(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < -1 || n > 5) throw new InvalidArgumentError('a rating is a whole number of stars from 0 to 5 (-1: rejected)');
  return n;
}

function filtersOf(o: SearchOpts): SearchFilters {
  return {
    from: o.from,
    to: o.to,
    folders: o.folder,
    albums: o.album,
    camera: o.camera,
    hasLocation: o.location,
    orientation: o.orientation,
    formats: o.format,
    minRating: o.rating,
    keywords: o.keyword,
    peopleCount: o.peopleCount,
    onlyPeople: o.onlyPeople,
    labels: o.label,
    places: o.place,
    notPlaces: o.notPlace,
    area: o.area,
  };
}

/** A moment of a video as m:ss.s (a tenth of a second: frames are found to that). */
function moment(ms: number): string {
  const s = ms / 1000;
  return `${Math.floor(s / 60)}:${(s % 60).toFixed(1).padStart(4, '0')}`;
}

function formatHits(r: SearchResponse): string {
  const lines = r.hits.map((h, i) => {
    const box = h.box ? `  box ${[h.box.x, h.box.y, h.box.w, h.box.h].map((x) => x.toFixed(2)).join(',')}` : '';
    const at = h.atMs !== null ? `  at ${moment(h.atMs)}` : '';
    return `${String(r.offset + i + 1).padStart(4)}. ${h.score.toFixed(3)}  #${h.photo.id}  ${shown(h.photo.path)}${h.matchedName ? '  (name)' : ''}${box}${at}`;
  });
  const more = r.beyond ? ` (${r.beyond} more past where relevance ends: --all shows them)` : '';
  const footer = `${r.total} result(s)${r.space ? ` from ${r.space}` : ''} in ${r.tookMs.toFixed(0)} ms${more}`;
  return [...lines, ...r.notes.map((n) => `note: ${n}`), footer].join('\n');
}

export function addSearchCommands(program: Command, kit: CommandKit): void {
  const { withE, print } = kit;

  addFilterOptions(program.command('search [text...]')
    .description('search by sentence (with -negatives, "phrases", category:NAME), by example photo, by region, or browse with filters')
    .option('--like <photo>', 'an example photo: a library photo id, or a file (never added)')
    .option('--same', 'same object or place (CNN descriptors) instead of similar (CLIP)')
    .option('--region <spec>', 'a box on a library photo, ID:x,y,w,h as fractions: find that object elsewhere', regionArg)
    .option('--weight <w>', 'text + photo: how much the text counts, 0–1 (default 0.5)')
    .option('--expand', 'query expansion (default on with --same once the CNN space is whitened)')
    .option('--no-expand', 'no query expansion')
    .option('--diffusion', 'diffusion re-ranking of the top results')
    .option('--all', 'a sentence: every ranked photo, past where relevance ends')
    .addOption(new Option('--sort <order>').choices(['relevance', 'newest', 'oldest']))
    .option('--limit <n>', 'results per page', int, 20)
    .option('--offset <n>', 'skip this many results', int, 0))
    .action((words: string[], o: SearchOpts) => withE(async (e) => {
      const text = words.join(' ').trim();
      const photo = o.like === undefined ? undefined : /^\d+$/.test(o.like) ? { id: Number(o.like) } : { path: resolve(o.like) };
      const req: SearchRequest = parseSearchRequest(JSON.parse(JSON.stringify({
        text: text || undefined, photo, region: o.region, mode: o.same ? 'same' : undefined,
        textWeight: o.weight === undefined ? undefined : Number(o.weight), expand: o.expand, diffusion: o.diffusion, all: o.all,
        filters: filtersOf(o), sort: o.sort, limit: o.limit, offset: o.offset,
      })));
      const r = await e.search(req);
      print(r, formatHits(r));
    }));

  addFilterOptions(program.command('duplicates').description('groups of near-identical photos and bursts, for clean-up'))
    .action((o: SearchOpts) => withE(async (e) => {
      const groups = await e.duplicates(filtersOf(o));
      print(groups, groups.length === 0 ? 'No near-duplicates found.' : groups.map((g, i) =>
        [`Group ${i + 1} (${g.photos.length} photos, similarity ≥ ${g.similarity.toFixed(3)}):`, ...g.photos.map((p) => `  #${p.id}  ${shown(p.path)}`)].join('\n')).join('\n'));
    }));

  const albums = program.command('albums').description('albums: list, create, rename, delete, add, remove, show, export');
  albums.command('list').action(() => withE(async (e) => {
    const list = await e.listAlbums();
    print(list, list.length === 0 ? 'No albums yet — create one with: loupe albums create NAME' :
      list.map((a) => `#${a.id}  ${shown(a.name)}  (${a.query ? 'smart, ' : ''}${a.count} photos)`).join('\n'));
  }));
  albums.command('create <name>').description('a new album; with a query, a smart album that follows the library')
    .option('--query <json>', 'smart album: a saved search request (JSON), e.g. {"text":"beach","filters":{"from":0}}')
    .action((name: string, o: { query?: string }) => withE(async (e) => {
      const a = await e.createAlbum(name, o.query === undefined ? undefined : parseSearchRequest(JSON.parse(o.query)));
      print(a, `Created album #${a.id} ${a.name}${a.query ? ' (smart)' : ''}.`);
    }));
  albums.command('rename <album> <name>').action((ref: string, name: string) => withE(async (e) => {
    const a = await e.renameAlbum((await e.findAlbum(ref)).id, name);
    print(a, `Album #${a.id} is now ${a.name}.`);
  }));
  albums.command('delete <album>').description('delete an album (photos are not touched)').action((ref: string) => withE(async (e) => {
    const a = await e.findAlbum(ref);
    await e.deleteAlbum(a.id);
    print({ deleted: a.id }, `Deleted album ${a.name}.`);
  }));
  albums.command('add <album> <ids>').description('add photos (ids, comma-separated) at the end, or --before one')
    .option('--before <id>', 'insert before this photo', int)
    .action((ref: string, list: string, o: { before?: number }) => withE(async (e) => {
      const a = await e.addToAlbum((await e.findAlbum(ref)).id, ids(list), o.before);
      print(a, `${a.name}: ${a.count} photos.`);
    }));
  albums.command('remove <album> <ids>').action((ref: string, list: string) => withE(async (e) => {
    const a = await e.removeFromAlbum((await e.findAlbum(ref)).id, ids(list));
    print(a, `${a.name}: ${a.count} photos.`);
  }));
  albums.command('order <album> <ids>').description('put these photos first, in this order').action((ref: string, list: string) => withE(async (e) => {
    const a = await e.reorderAlbum((await e.findAlbum(ref)).id, ids(list));
    print(a, `${a.name}: reordered.`);
  }));
  albums.command('show <album>').option('--limit <n>', 'photos', int, 100).option('--offset <n>', 'skip', int, 0)
    .action((ref: string, o: { limit: number; offset: number }) => withE(async (e) => {
      const r = await e.albumPhotos((await e.findAlbum(ref)).id, o.offset, o.limit);
      print(r, formatHits(r));
    }));
  albums.command('export <album> <dir>').description('copy the album\'s photos to a folder, in album order')
    .action((ref: string, dir: string) => withE(async (e) => {
      const a = await e.findAlbum(ref);
      const bar = kit.bar(`Exporting ${a.name}`);
      const s = await e.exportAlbum(a.id, resolve(dir), { onProgress: (p) => bar.update(p.done, p.total, `${p.done}/${p.total}`) }).finally(() => bar.stop());
      print(s, `Copied ${s.copied} photo(s) to ${s.dest}.` + (s.failed.length ? `\nCould not copy ${s.failed.length}:\n${s.failed.map((f) => `  ${shown(f.path)}: ${f.error}`).join('\n')}` : ''));
    }));

  const cats = program.command('categories').description('fine-grained categories: taxonomies (zero-shot) and your own, taught by example');
  cats.command('taxonomies').action(() => withE(async (e) => {
    const list = await e.listTaxonomies();
    print(list, list.map((t) => `${t.name.padEnd(10)} ${String(t.classes).padStart(5)} classes  ${t.title}`).join('\n'));
  }));
  cats.command('browse <taxonomy>').description('which categories of a taxonomy the library has, with counts')
    .option('--threshold <p>', 'minimum confidence, 0–1', '0.2')
    .action((taxonomy: string, o: { threshold: string }) => withE(async (e) => {
      const bar = kit.bar(`Preparing ${taxonomy}`);
      const counts = await e.categoryCounts(taxonomy, Number(o.threshold), (d, t) => bar.update(d, t, `${d}/${t} classes`)).finally(() => bar.stop());
      print(counts, counts.length === 0 ? 'No photo reaches the threshold in this taxonomy.' : counts.map((c) => `${String(c.count).padStart(6)}  ${c.name}`).join('\n'));
    }));
  cats.command('list').description('your own categories').action(() => withE(async (e) => {
    const list = await e.listCategories();
    print(list, list.length === 0 ? 'No categories of your own yet — teach one with: loupe categories teach NAME --add IDS' :
      list.map((c) => `${c.name}  (${c.positives} examples, ${c.negatives} counter-examples)`).join('\n'));
  }));
  cats.command('teach <name>').description('add examples (and counter-examples) to a category of your own, and see suggestions')
    .requiredOption('--add <ids>', 'example photo ids', ids)
    .option('--not <ids>', 'counter-example photo ids', ids)
    .option('--limit <n>', 'suggestions to show', int, 20)
    .action((name: string, o: { add: number[]; not?: number[]; limit: number }) => withE(async (e) => {
      const r = await e.teachCategory(name, o.add, o.not ?? [], o.limit);
      print(r, [`${r.category.name}: ${r.category.positives} examples, ${r.category.negatives} counter-examples; trained in ${r.trainMs.toFixed(0)} ms.`,
        r.suggestions.length ? 'Suggestions:' : 'No suggestions yet.',
        ...r.suggestions.map((s) => `  ${s.probability.toFixed(2)}  #${s.photo.id}  ${shown(s.photo.path)}`)].join('\n'));
    }));
  cats.command('delete <name>').action((name: string) => withE(async (e) => {
    await e.deleteCategory(name);
    print({ deleted: name }, `Deleted category ${name}.`);
  }));

  const same = program.command('same').description('photos you confirm show the same object or place: "same object" search learns from them');
  same.command('mark <ids>').description('mark photos (comma-separated ids, at least two) as the same object or place')
    .action((list: string) => withE(async (e) => {
      const g = await e.markSame(ids(list));
      print(g, `Group ${g.id}: ${g.photoIds.map((id) => `#${id}`).join(' ')}. The next indexing run learns from it (loupe index).`);
    }));
  same.command('unmark <ids>').description('take photos out of their group')
    .action((list: string) => withE(async (e) => {
      const r = await e.unmarkSame(ids(list));
      print(r, `Unmarked ${r.removed} photo(s).`);
    }));
  same.command('list').description('the groups marked so far').action(() => withE(async (e) => {
    const groups = await e.listSameGroups();
    print(groups, groups.length === 0 ? 'No photos marked as the same object yet — mark some with: loupe same mark IDS' :
      groups.map((g) => `group ${g.id}: ${g.photoIds.map((id) => `#${id}`).join(' ')}`).join('\n'));
  }));
}
