/**
 * `loupe models …` and embedding through the real CLI (child processes), installing a catalog
 * pack from a real HTTP server on 127.0.0.1 that stands in for the model hub.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { runCli } from '../helpers/cli.js';
import { tempDir, writeImage } from '../helpers/fixtures.js';
import { startHub, writeCatalogClipRepo, writePinnedCatalog, type Hub } from '../helpers/hub.js';
import { writeTinyPacks } from '../helpers/packs.js';

const t = tempDir();
const library = join(t.dir, 'library');
const photos = join(t.dir, 'photos');
let hub: Hub;
let catalog: string;
let cnnDir = '';

beforeAll(async () => {
  const src = writeTinyPacks(join(t.dir, 'src'));
  cnnDir = src.cnn;
  // The catalog's clip-vit-b32-q8 files, with the tiny model's bytes.
  hub = await startHub(writeCatalogClipRepo(join(t.dir, 'hub', 'clip-vit-base-patch32'), src.clip));
  catalog = await writePinnedCatalog(hub.url, join(t.dir, 'catalog'));
  for (let i = 0; i < 6; i++) await writeImage(join(photos, `p${i}.jpg`), { width: 150, height: 100, seed: i + 20 });
});

afterAll(async () => {
  await hub?.close();
  t.cleanup();
});

const loupe = (...args: string[]): ReturnType<typeof runCli> =>
  runCli(['--library', library, ...args], { env: { LOUPE_HUB_URL: hub.url, LOUPE_CATALOG: catalog } });

describe('loupe models', () => {
  it('lists the catalog, installs a pack from the hub and makes it active', async () => {
    const list = await loupe('--json', 'models', 'list');
    expect(list.code).toBe(0);
    const entries = JSON.parse(list.stdout) as { name: string; installed: boolean; problem: string | null }[];
    expect(entries.find((e) => e.name === 'clip-vit-b32-q8')).toMatchObject({ installed: false, problem: null });
    // The other entries are as the shipped catalog has them: not pinned, so not installable.
    expect(entries.find((e) => e.name === 'clip-vit-b16-q8')).toMatchObject({ installed: false, problem: expect.stringMatching(/not pinned/) });
    const loose = await loupe('models', 'install', 'clip-vit-b16-q8');
    expect(loose.code).not.toBe(0);
    expect(loose.stderr).toMatch(/clip-vit-b16-q8 is not pinned in this catalog/);
    const install = await loupe('models', 'install', 'clip-vit-b32-q8');
    expect(install.stderr).toBe('');
    expect(install.code).toBe(0);
    expect(install.stdout).toMatch(/Installed clip-vit-b32-q8 .*It is the active model/s);
    expect((await loupe('models', 'install', 'no-such-pack')).stderr).toMatch(/no model pack named no-such-pack in the catalog/);
  });

  it('imports a local CNN pack and embeds photos with both while indexing, on CPU when CUDA is missing', async () => {
    const imp = await loupe('models', 'import', cnnDir, '--name', 'tiny-cnn');
    expect(imp.code).toBe(0);
    expect(imp.stdout).toMatch(/Imported tiny-cnn \(cnn, 96-d/);
    expect((await loupe('add-folder', photos)).code).toBe(0);
    const index = await loupe('--device', 'cuda', '--threads', '1', 'index');
    expect(index.code).toBe(0);
    expect(index.stdout).toMatch(/Embedded 6 picture\(s\) with clip-vit-b32-q8/);
    expect(index.stdout).toMatch(/Embedded 6 picture\(s\) with tiny-cnn/);
    if (!ort.listSupportedBackends().some((b) => b.name === 'cuda' && b.bundled)) expect(index.stderr).toMatch(/cuda is not available .*falling back to cpu/);
    const list = await loupe('models', 'list');
    expect(list.stdout).toMatch(/clip-vit-b32-q8 +clip .* active /);
    expect(list.stdout).toMatch(/tiny-cnn +cnn .* active /);
    expect((await loupe('--device', 'tpu', 'status')).code).toBe(2);
    // auto means "use what is there": no warning for an accelerator it did not find (the CLIP models load for the sentence).
    const auto = await loupe('search', 'a photo of a cat');
    expect(auto.code).toBe(0);
    expect(auto.stdout).toMatch(/6 result\(s\)/);
    expect(auto.stderr).not.toMatch(/not available|falling back/);
    // Status says, per pack, how far it has read the library and what search answers from; and where models run, once.
    const status = await loupe('status');
    expect(status.stdout).toMatch(/clip-vit-b32-q8 \(clip, active\): 6\/6 pictures embedded · search answers from clip\.clip-vit-b32-q8\n +results end where the library's null says/);
    expect(status.stdout).toMatch(/tiny-cnn \(cnn, active\): 6\/6 pictures embedded · search answers from cnn\.tiny-cnn/);
    expect(status.stdout).toMatch(/Device: auto — an accelerator where there is one, else the CPU/);
    const json = JSON.parse((await loupe('--json', 'status')).stdout) as { models: { name: string; embedded: number; total: number; failures: number }[] };
    expect(json.models.map((m) => [m.name, m.embedded, m.total, m.failures])).toEqual([['clip-vit-b32-q8', 6, 6, 0], ['tiny-cnn', 6, 6, 0]]);
  });

  it('verifies packs, reports damage with a non-zero exit, and will not remove the active pack', async () => {
    const ok = await loupe('models', 'verify');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/clip-vit-b32-q8: ok \(5 files/);
    const model = join(library, 'models', 'tiny-cnn', 'onnx', 'model.onnx');
    const bytes = readFileSync(model);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0x55;
    writeFileSync(model, bytes);
    const bad = await loupe('models', 'verify', 'tiny-cnn');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/tiny-cnn: DAMAGED\n {2}onnx\/model.onnx: SHA-256/);
    const remove = await loupe('models', 'remove', 'clip-vit-b32-q8');
    expect(remove.code).toBe(1);
    expect(remove.stderr).toMatch(/is the active clip model/);
  });
});
