/**
 * The catalog's face pack, installed as a user installs it: `loupe models install yunet-sface`
 * fetches YuNet and SFace from where OpenCV's Zoo keeps them (GitHub's LFS store, at a pinned
 * commit, each file checked against its pinned SHA-256), writes the model.json each needs beside
 * it, trial-runs both and makes the pack active; then `loupe index` finds and groups faces with
 * it. A real HTTP server on 127.0.0.1 stands in for GitHub, serving synthetic models with YuNet's
 * and SFace's graph structure (YuNet answers where the picture is blue; SFace fixes its batch at 1
 * and names its input and output otherwise than the catalog's description does, as exports do).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { startHub, type Hub } from '../helpers/hub.js';
import { catalogDownloads, catalogPath, loadCatalog, readManifestFile, type FaceCatalogEntry } from '../../main/models/manifest.js';
import { isPinned } from '../../main/models/pinning.js';
import { sfaceModel, yunetModel } from '../../models/synthetic.js';
import type { FaceInfo, PersonInfo } from '../../main/contract/api.js';

const t = tempDir();
const library = join(t.dir, 'library');
const photos = join(t.dir, 'photos');
let hub: Hub;
let catalog: string;
const shipped = loadCatalog(catalogPath()).find((c): c is FaceCatalogEntry => c.name === 'yunet-sface')!;

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A picture with blue squares (faces, to the synthetic YuNet) on the 32-px grid, each its own colour inside. */
async function faces(path: string, cells: readonly [number, number][], tint: number): Promise<void> {
  const side = 640;
  const data = Buffer.alloc(side * side * 3, 40);
  for (const [cx, cy] of cells) {
    for (let y = cy * 32; y < cy * 32 + 32; y++) {
      for (let x = cx * 32; x < cx * 32 + 32; x++) data.set([tint, (x * 7 + y * 3) % 64, 255], (y * side + x) * 3);
    }
  }
  mkdirSync(dirname(path), { recursive: true });
  await sharp(data, { raw: { width: side, height: side, channels: 3 } }).png().toFile(path);
}

beforeAll(async () => {
  // The Zoo's repository as GitHub serves it, at the catalog's paths, holding the synthetic models.
  const zoo = join(t.dir, 'zoo');
  const files = { detector: yunetModel(640), embedder: sfaceModel(3) };
  const entry: FaceCatalogEntry = { ...shipped };
  for (const role of ['detector', 'embedder'] as const) {
    const part = shipped[role];
    const path = join(zoo, part.file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, files[role]);
    entry[role] = { ...part, file: { path: part.file.path, size: files[role].length, sha256: sha(files[role]) } };
  }
  hub = await startHub({ [shipped.detector.repo]: zoo });
  catalog = join(t.dir, 'catalog.json');
  writeFileSync(catalog, JSON.stringify({ format: 1, packs: [entry] }));
  await faces(join(photos, 'one.png'), [[5, 3]], 0);
  await faces(join(photos, 'two.png'), [[2, 8], [14, 12]], 0);
});

afterAll(async () => {
  await hub?.close();
  t.cleanup();
});

const loupe = (...args: string[]): ReturnType<typeof runCli> =>
  runCli(['--library', library, ...args], { env: { LOUPE_GITHUB_MEDIA_URL: `${hub.url}/media`, LOUPE_CATALOG: catalog } });

describe('the catalog face pack', () => {
  it('is pinned in the shipped catalog: an exact commit and the size and SHA-256 of each model, with their licences', () => {
    expect(isPinned(shipped)).toBe(true);
    const files = catalogDownloads(shipped);
    expect(files.map((f) => [f.host, f.repo, f.dest])).toEqual([
      ['github', 'opencv/opencv_zoo', 'detector/face_detection_yunet_2023mar.onnx'],
      ['github', 'opencv/opencv_zoo', 'embedder/face_recognition_sface_2021dec.onnx'],
    ]);
    expect(files.map((f) => f.size)).toEqual([232_589, 24_227_283]);
    expect([shipped.detector.licence, shipped.embedder.licence]).toEqual(['MIT', 'Apache-2.0']);
  });

  it('installs from GitHub\'s LFS store, checked file by file, with each model described beside it, and becomes the active face pack', async () => {
    const list = await loupe('--json', 'models', 'list');
    const offered = (JSON.parse(list.stdout) as { name: string; kind: string; bytes: number; problem: string | null; source: string }[])
      .find((e) => e.name === 'yunet-sface');
    expect(offered).toMatchObject({ kind: 'face', problem: null, source: 'https://github.com/opencv/opencv_zoo' });
    const install = await loupe('models', 'install', 'yunet-sface');
    expect(install.stderr).toBe('');
    expect(install.code).toBe(0);
    expect(hub.requests.map((r) => r.path)).toEqual(expect.arrayContaining([
      `/media/opencv/opencv_zoo/${shipped.detector.revision}/${shipped.detector.file.path}`,
      `/media/opencv/opencv_zoo/${shipped.embedder.revision}/${shipped.embedder.file.path}`,
    ]));
    const dir = join(library, 'models', 'yunet-sface');
    const m = readManifestFile(join(dir, 'loupe-pack.json'));
    expect(m).toMatchObject({ kind: 'face', embeddingDim: 128, grouping: { join: 0.5, margin: 0.05 } });
    expect(m.files.map((f) => f.path).sort()).toEqual([
      'detector/face_detection_yunet_2023mar.onnx', 'detector/model.json', 'embedder/face_recognition_sface_2021dec.onnx', 'embedder/model.json',
    ]);
    const described = JSON.parse(readFileSync(join(dir, 'detector', 'model.json'), 'utf8')) as { family: string; format: { file: string }; licence: string };
    expect(described).toMatchObject({ family: 'yunet', format: { file: 'face_detection_yunet_2023mar.onnx' }, licence: 'MIT' });
    expect(existsSync(join(library, 'models', '.incoming', 'yunet-sface'))).toBe(false);
    expect((await loupe('models', 'list')).stdout).toMatch(/yunet-sface +face .*active/);
  });

  it('finds and groups faces while indexing: a batch-of-one embedder run face by face', async () => {
    expect((await loupe('add-folder', photos)).code).toBe(0);
    const index = await loupe('--device', 'cpu', '--threads', '1', 'index');
    expect(index.stderr).toBe('');
    expect(index.code).toBe(0);
    const people = JSON.parse((await loupe('--json', 'people', 'list')).stdout) as PersonInfo[];
    // Three blue squares in two pictures; SFace-like vectors of three different patches.
    expect(people.reduce((a, p) => a + p.faces, 0)).toBe(3);
    const shown = await Promise.all(people.map(async (p) => JSON.parse((await loupe('--json', 'people', 'show', String(p.id))).stdout) as { faces: FaceInfo[] }));
    const one = shown.flatMap((s) => s.faces).filter((f) => f.path.endsWith('one.png'));
    // The blue 32-px cell at (5, 3) of a 640-px picture, where YuNet's decoding puts it.
    expect(one).toHaveLength(1);
    expect(one[0]!.box.x).toBeCloseTo(160 / 640, 2);
    expect(one[0]!.box.y).toBeCloseTo(96 / 640, 2);
  });
});
