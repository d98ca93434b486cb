/**
 * RAW+JPEG pairs and Live Photos: a camera set to save both writes IMG_0001.CR2 and IMG_0001.JPG
 * side by side; an iPhone's Live Photo is IMG_0001.HEIC and IMG_0001.MOV. Each is one photo: the
 * JPEG (or HEIC) is the one results show, and the RAW or the MOV is its companion, listed with it
 * in the viewer. When the JPEG goes (deleted, or moved away) the RAW becomes the photo again and
 * takes its places in albums; when the RAW goes the JPEG simply stays. Files pair by name, and a
 * Live Photo's picture and video also by the content identifier Apple writes in both (so a pair
 * renamed on export, IMG_0001.HEIC beside IMG_0001 (2).MOV, stays one photo). Worked out again for
 * what a scan looked at and for the directories whose photos a run indexed: the two files of a
 * pair are in one directory, so a watcher's rescan of one directory reads that one.
 */
import { dirname, extname, sep } from 'node:path';
import { rawFormatOf, videoFormatOf } from '../contract/formats.js';
import type { Repos } from '../db/repos/index.js';
import type { PairCandidate as Candidate } from '../db/repos/photos.js';

/** The key two files of a pair share: their folder and name without extension, case-folded (cameras write IMG_1.JPG, editors img_1.jpg). */
const pairKey = (path: string): string => path.slice(0, path.length - extname(path).length).toLowerCase();

/** A RAW, or the MOV of a Live Photo: a file that is the companion of a picture of the same name. */
const companionKind = (path: string): boolean => rawFormatOf(path) !== null || videoFormatOf(path) === 'mov';

/** Which file of a group is the photo: a rendered picture, neither RAW nor video (JPEG first, then HEIC/other), that is indexed. */
function coverOf(group: readonly Candidate[]): Candidate | null {
  const rendered = group.filter((c) => c.state === 'ok' && rawFormatOf(c.path) === null && videoFormatOf(c.path) === null);
  const jpeg = rendered.find((c) => /\.(jpe?g)$/i.test(c.path));
  return jpeg ?? rendered[0] ?? null;
}

/** Where to work pairs out: a directory of a library folder, alone or with everything under it. */
export interface PairScope {
  readonly folderId: number;
  readonly dir: string;
  readonly recursive: boolean;
}

/** The directory a photo is in, as a scope of its own. */
const dirScope = (folderId: number, path: string): PairScope => ({ folderId, dir: dirname(path), recursive: false });

const scopeKey = (s: PairScope): string => `${s.folderId}\0${s.dir}\0${s.recursive}`;

/** Scopes collected as photos go by, each directory once. */
export class PairScopes {
  private readonly scopes = new Map<string, PairScope>();

  addPhoto(folderId: number, path: string): void {
    const scope = dirScope(folderId, path);
    this.scopes.set(scopeKey(scope), scope);
  }

  values(): Iterable<PairScope> {
    return this.scopes.values();
  }
}

/** Sets the companion link of every RAW or MOV in these scopes from the names as they are now; returns how many changed. */
export function linkPairs(repos: Repos, scopes: Iterable<PairScope>): number {
  let changed = 0;
  for (const scope of scopes) changed += linkScope(repos, scope);
  return changed;
}

/**
 * Files that are one photo: the same directory and name, or (a Live Photo) the same content
 * identifier in one directory. Groups that share an identifier are joined.
 */
export function groupPairs(candidates: readonly Candidate[]): Candidate[][] {
  const byName = new Map<string, Candidate[]>();
  for (const c of candidates) {
    const key = pairKey(c.path);
    byName.set(key, [...(byName.get(key) ?? []), c]);
  }
  const groups = [...byName.values()];
  // The group each identifier was first seen in; a later group with it is moved into that one.
  const home = new Map<string, Candidate[]>();
  const out: Candidate[][] = [];
  for (const g of groups) {
    const ids = [...new Set(g.map((c) => c.content_identifier).filter((x): x is string => x !== null).map((x) => `${dirname(g[0]!.path)}\0${x}`))];
    const target = ids.map((k) => home.get(k)).find((t) => t !== undefined);
    if (target) target.push(...g);
    else out.push(g);
    for (const k of ids) if (!home.has(k)) home.set(k, target ?? g);
  }
  return out;
}

function linkScope(repos: Repos, { folderId, dir, recursive }: PairScope): number {
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  const rows = repos.photos.pairCandidates(folderId, prefix);
  const groups = groupPairs(recursive ? rows : rows.filter((r) => !r.path.slice(prefix.length).includes(sep)));
  let changed = 0;
  repos.transaction(() => {
    for (const group of groups.values()) {
      const cover = group.length > 1 ? coverOf(group) : null;
      for (const c of group) {
        const want = cover && c.id !== cover.id && c.state !== 'missing' && companionKind(c.path) ? cover.id : null;
        if (c.companion_of === want) continue;
        // The RAW (or MOV) was the companion of a picture that is gone: the photo lives on as it.
        if (want === null && c.companion_of !== null && c.state === 'ok') repos.photos.takeAlbumPlaces(c.companion_of, c.id);
        repos.photos.setCompanion(c.id, want);
        changed++;
      }
    }
  });
  return changed;
}
