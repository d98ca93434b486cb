/**
 * Pinning the catalog: each pack names an exact commit of its hub repository and the size and
 * SHA-256 of every file, so an install fetches exactly those bytes and refuses any others (a
 * changed or compromised upstream repository cannot slip in new weights). `npm run pin-catalog`
 * fills the pins from the hub; the installer (packs.ts) refuses an entry that has none.
 */
import { createHash } from 'node:crypto';
import { DownloadError } from './download.js';
import { catalogDownloads, type CatalogEntry, type FaceCatalogEntry } from './manifest.js';
import { errorMessage } from '../util/errors.js';

const COMMIT = /^[0-9a-f]{40}$/;

/** Pinned: an exact commit, and a size and SHA-256 for every file. */
export function isPinned(entry: CatalogEntry): boolean {
  return catalogDownloads(entry).every((f) => COMMIT.test(f.revision) && f.size !== undefined && f.sha256 !== undefined);
}

/** What the user is told when an entry cannot be installed because nothing says which bytes are right. */
export function unpinnedMessage(entry: CatalogEntry): string {
  const repos = [...new Set(catalogDownloads(entry).map((f) => f.repo))].join(' and ');
  return `${entry.name} is not pinned in this catalog (no exact commit of ${repos} and no checksum for each file), ` +
    'so Loupe cannot tell its true files from any others and will not install it. ' +
    'Whoever builds this release pins the catalog with `npm run pin-catalog` where huggingface.co can be reached.';
}

interface HubTreeEntry { type?: string; path?: string; size?: number; oid?: string; lfs?: { oid?: string; size?: number } }

/** A successful answer from the hub, or a DownloadError that says why not. */
async function fetchOk(url: string, signal?: AbortSignal): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { signal });
  } catch (err) {
    throw new DownloadError(url, `cannot reach the model hub (${errorMessage(err)})`);
  }
  if (!res.ok) throw new DownloadError(url, `HTTP ${res.status} ${res.statusText}`);
  return res;
}

async function getJson(url: string, signal?: AbortSignal): Promise<unknown> {
  return (await fetchOk(url, signal)).json();
}

/** The commit a branch or tag names now (the hub's model info carries it as `sha`). */
export async function resolveCommit(hub: string, repo: string, revision: string, signal?: AbortSignal): Promise<string> {
  if (COMMIT.test(revision)) return revision;
  const url = `${hub}/api/models/${repo}/revision/${encodeURIComponent(revision)}`;
  const info = (await getJson(url, signal)) as { sha?: unknown };
  if (typeof info.sha !== 'string' || !COMMIT.test(info.sha)) throw new DownloadError(url, 'the model hub named no commit for this revision');
  return info.sha;
}

/** Git's blob id of some bytes (how the hub names files that are not in LFS). */
export function gitBlobSha1(data: Uint8Array): string {
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}

type PinnedFile = { path: string; size: number; sha256: string };

/**
 * The files of one hub repository at the commit a revision names now, each with its size and
 * SHA-256: from the hub's LFS records for large files, and by fetching (and checking against the
 * git blob id) the small ones, whose SHA-256 the hub does not publish.
 */
async function pinFiles(
  hub: string, repo: string, revision: string, paths: readonly string[], signal?: AbortSignal,
): Promise<{ commit: string; files: PinnedFile[] }> {
  const commit = await resolveCommit(hub, repo, revision, signal);
  const dirs = [...new Set(paths.map((p) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '')))];
  const listed = new Map<string, HubTreeEntry>();
  for (const d of dirs) {
    const url = `${hub}/api/models/${repo}/tree/${commit}${d ? `/${d}` : ''}`;
    const list = await getJson(url, signal);
    if (!Array.isArray(list)) throw new DownloadError(url, 'unexpected answer from the model hub');
    for (const e of list as HubTreeEntry[]) if (e.type === 'file' && typeof e.path === 'string') listed.set(e.path, e);
  }
  const files: PinnedFile[] = [];
  for (const path of paths) {
    const e = listed.get(path);
    if (!e) throw new DownloadError(`${hub}/${repo}`, `commit ${commit} has no file ${path}`);
    if (e.lfs?.oid && /^[0-9a-f]{64}$/.test(e.lfs.oid) && typeof e.lfs.size === 'number') {
      files.push({ path, size: e.lfs.size, sha256: e.lfs.oid });
      continue;
    }
    const url = `${hub}/${repo}/resolve/${commit}/${path}`;
    const data = new Uint8Array(await (await fetchOk(url, signal)).arrayBuffer());
    if (e.oid && gitBlobSha1(data) !== e.oid) throw new DownloadError(url, 'the bytes served do not match the git blob id the hub lists');
    files.push({ path, size: data.length, sha256: createHash('sha256').update(data).digest('hex') });
  }
  return { commit, files };
}

/**
 * The entry with every revision resolved to a commit and every file's size and SHA-256 filled in.
 * A face model kept on GitHub is pinned by hand, from its LFS pointer at a commit (the pointer
 * names the SHA-256 and size); the hub API pins the rest.
 */
export async function pinEntry<T extends CatalogEntry>(hub: string, entry: T, signal?: AbortSignal): Promise<T> {
  if (entry.kind !== 'face') {
    const { commit, files } = await pinFiles(hub, entry.repo, entry.revision, entry.files.map((f) => f.path), signal);
    return { ...entry, revision: commit, files };
  }
  const pinned: T = { ...entry };
  for (const role of ['detector', 'embedder'] as const) {
    const part = entry[role];
    const done = COMMIT.test(part.revision) && part.file.size !== undefined && part.file.sha256 !== undefined;
    if (done) continue;
    if (part.host === 'github') {
      throw new DownloadError(`https://github.com/${part.repo}`, `${entry.name}'s ${role} is kept on GitHub: pin it by hand from its LFS pointer (oid sha256 and size) at a commit`);
    }
    const { commit, files } = await pinFiles(hub, part.repo, part.revision, [part.file.path], signal);
    (pinned as FaceCatalogEntry)[role] = { ...part, revision: commit, file: files[0]! };
  }
  return pinned;
}
