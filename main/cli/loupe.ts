import { Command, CommanderError, Option, InvalidArgumentError } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import type { EngineEvent, IndexProgress } from '../contract/api.js';
import type { Device } from '../contract/api.js';
import { DEVICES } from '../contract/devices.js';
import { Engine } from '../engine/engine.js';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startBridge } from '../bridge/http.js';
import { rendererDir, resolveLibraryDir } from '../util/paths.js';
import { duration, progressLine, shown, statusText, terminalSafe } from './format.js';
import { addSearchCommands } from './search-commands.js';
import { addPeopleCommands } from './people-commands.js';
import { addPlacesCommands } from './places-commands.js';
import { errorMessage } from '../util/errors.js';
import { listBackups } from '../engine/engine.js';

interface GlobalOpts { library?: string; json?: boolean; device?: Device; threads?: string }

interface Io {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  readonly isTTY: boolean;
}

const defaultIo: Io = {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
  isTTY: process.stdout.isTTY === true,
};

/** Renders progress as a bar on a terminal, as a line every few seconds otherwise, as JSON lines with --json. */
function progressReporter(io: Io, json: boolean): { update: (p: IndexProgress) => void; stop: () => void } {
  if (json) return { update: (p) => io.out(JSON.stringify({ type: 'progress', ...p })), stop: () => undefined };
  if (io.isTTY) {
    const bar = new SingleBar({
      format: 'Indexing |{bar}| {value}/{total} · {rate}/s · ETA {eta_h} · {unreadable} unreadable',
      hideCursor: true, clearOnComplete: false,
    }, Presets.shades_classic);
    let started = false;
    return {
      update: (p) => {
        const payload = { rate: p.ratePerSec.toFixed(1), eta_h: duration(p.etaSec), unreadable: p.failed };
        if (!started) { bar.start(p.total, p.done, payload); started = true; }
        bar.setTotal(p.total);
        bar.update(p.done, payload);
      },
      stop: () => { if (started) bar.stop(); },
    };
  }
  let last = 0;
  let lastLine = '';
  return {
    update: (p) => {
      if (Date.now() - last < 2000 && p.done < p.total) return;
      const line = progressLine(p);
      if (line === lastLine) return;
      last = Date.now();
      lastLine = line;
      io.out(line);
    },
    stop: () => undefined,
  };
}

async function withEngine<T>(opts: GlobalOpts, fn: (engine: Engine) => Promise<T>, io: Io = defaultIo, autoIndex = false): Promise<T> {
  const threads = opts.threads ? Number.parseInt(opts.threads, 10) : undefined;
  const engine = Engine.open({ libraryDir: resolveLibraryDir(opts.library), device: opts.device, threads, autoIndex });
  const off = engine.on((e) => { if (e.type === 'log' && !opts.json) io.err(e.message); });
  try {
    return await fn(engine);
  } finally {
    off();
    await engine.close();
  }
}

/** Byte counts as people read them. */
function bytes(n: number | null): string {
  if (n === null) return '?';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** A bar for downloads and embedding on a terminal; a line now and then otherwise. */
function simpleBar(
  io: Io,
  json: boolean,
  label: string,
): { update: (done: number, total: number | null, extra?: string) => void; stop: () => void } {
  if (json) return { update: (done, total) => io.out(JSON.stringify({ type: 'progress', label, done, total })), stop: () => undefined };
  if (io.isTTY) {
    const bar = new SingleBar({ format: `${label} |{bar}| {percentage}% · {extra}`, hideCursor: true }, Presets.shades_classic);
    let started = false;
    return {
      update: (done, total, extra = '') => {
        if (!started) {
          bar.start(total ?? 0, done, { extra });
          started = true;
        }
        if (total !== null) bar.setTotal(total);
        bar.update(done, { extra });
      },
      stop: () => {
        if (started) bar.stop();
      },
    };
  }
  let last = 0;
  return {
    update: (done, total, extra = '') => {
      if (Date.now() - last < 2000 && done !== total) return;
      last = Date.now();
      io.out(`${label}: ${total ? `${Math.floor((100 * done) / total)}%` : done} ${extra}`.trimEnd());
    },
    stop: () => undefined,
  };
}


/** --language: a BCP-47 tag ("de", "pt-BR"), or a clear error. */
function languageTag(v: string): string {
  if (!/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/.test(v)) throw new InvalidArgumentError('a language tag such as de, pt-BR or zh-TW');
  return v;
}

export function buildProgram(io: Io = defaultIo): Command {
  const program = new Command('loupe')
    .description('Loupe: search your photo library by example, by sentence, by category and by region.')
    .addOption(new Option('--library <dir>', 'library folder (database, thumbnails)').env('LOUPE_HOME'))
    .option('--json', 'machine-readable output (JSON; JSON lines for progress)')
    .addOption(new Option('--device <device>', 'where models run (default: the choice saved in the app, else auto); a missing accelerator falls back to the CPU (logged)').choices(DEVICES))
    .option('--threads <n>', 'onnxruntime threads per model (default: all cores)')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  const g = (): GlobalOpts => program.opts<GlobalOpts>();
  const print = (json: unknown, text: string): void => io.out(g().json ? JSON.stringify(json) : text);

  const withE = <T>(fn: (engine: Engine) => Promise<T>): Promise<T> => withEngine(g(), fn, io);

  program.command('add-folder <dir>').description('add a folder to the library (it is scanned by `loupe index`)')
    .option('--yes', 'add it even if it holds the operating system (every picture on the computer is indexed)')
    .action((dir: string, o: { yes?: boolean }) => withE(async (e) => {
      const f = await e.addFolder(dir, { confirm: o.yes === true });
      print(f, `Added ${f.path}. Run \`loupe index\` to index it.`);
    }));

  program.command('remove-folder <dir>').description('forget a folder and its photos (files on disk are not touched)')
    .action((dir: string) => withE(async (e) => {
      const r = await e.removeFolder(dir);
      print(r, `Removed ${shown(dir)} (${r.removedPhotos} photos forgotten; files on disk untouched).` +
        r.restoredFolders.map((f) => `\n${shown(f)} is in the library again, as it was before ${shown(dir)} was added.`).join(''));
    }));

  program.command('index').description('scan the library folders and index new and changed photos')
    .option('--watch', 'keep watching the folders and index changes as they happen')
    .action((cmd: { watch?: boolean }) => withE(async (e) => {
      const json = g().json === true;
      const scan = await e.scan();
      if (json) io.out(JSON.stringify({ type: 'scan', ...scan }));
      else io.out(`Scanned ${scan.folders} folder(s) in ${(scan.ms / 1000).toFixed(1)}s: ${scan.seen} photo files, ` +
        `${scan.added} new, ${scan.changed} changed, ${scan.missing} gone, ${scan.revived} back.` +
        (scan.skippedDirs.length ? ` Could not list: ${scan.skippedDirs.join(', ')}` : ''));
      const bar = progressReporter(io, json);
      let embedBar: ReturnType<typeof simpleBar> | null = null;
      const summary = await e.index({
        onProgress: bar.update,
        onEmbedProgress: (p) => {
          if (json) { io.out(JSON.stringify({ type: 'embed-progress', ...p })); return; }
          embedBar ??= (bar.stop(), simpleBar(io, false, `Embedding with ${p.pack}`));
          embedBar.update(p.done, p.total, `${p.done}/${p.total} · ${p.ratePerSec.toFixed(1)}/s · ETA ${duration(p.etaSec)}`);
        },
        onEmbedded: (s) => {
          embedBar?.stop();
          embedBar = null;
          if (json) io.out(JSON.stringify({ type: 'embedded', ...s }));
          else if (s.embedded + s.failed > 0) io.out(`Embedded ${s.embedded} picture(s) with ${s.pack} in ${(s.ms / 1000).toFixed(1)}s` +
            (s.failed ? `, ${s.failed} could not be embedded` : '') + (s.complete ? '.' : ' (interrupted; it carries on next time).'));
        },
      }).finally(() => bar.stop());
      if (json) io.out(JSON.stringify({ type: 'indexed', ...summary }));
      else io.out(`Indexed ${summary.processed} photo(s) in ${(summary.ms / 1000).toFixed(1)}s: ${summary.ok} ok, ` +
        `${summary.moved} moved, ${summary.failed} unreadable, ${summary.missing} gone.` +
        (summary.failed ? ' See `loupe status` for reasons.' : ''));
      if (!json && !e.activeModel('clip')) {
        const offer = (await e.listModels()).find((m) => m.kind === 'clip' && m.recommended && !m.installed);
        const how = offer && offer.problem === null
          ? `\`loupe models install ${offer.name}\` (or \`loupe models list\`).`
          : '`loupe models import DIR` adds a pack folder in the Hugging Face ONNX layout (`loupe models list` shows the catalog).';
        const cnn = e.activeModel('cnn');
        // A CNN pack answers "same object" and region search; only sentences need a CLIP pack.
        io.out(cnn
          ? `Search by example photo and by region uses ${cnn}; sentence search needs a CLIP pack: ${how}`
          : `No model pack is active, so photos are not searchable by content yet: ${how}`);
      }
      if (!cmd.watch) return;
      const off = e.on((ev: EngineEvent) => {
        if (json) io.out(JSON.stringify(ev));
        else if (ev.type === 'indexed' && ev.summary.processed > 0) io.out(`Indexed ${ev.summary.processed} change(s).`);
        else if (ev.type === 'folder-state') io.out(`${shown(ev.path)} is ${ev.state === 'offline' ? 'offline (kept; waiting for it)' : 'back online'}.`);
        else if (ev.type === 'watch-error') io.err(`watch: ${ev.message}`);
      });
      const watcher = await e.watch();
      if (!json) io.out('Watching for changes. Press Ctrl+C to stop.');
      await new Promise<void>((resolve) => {
        const stop = (): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      off();
      await watcher.close();
    }));

  program.command('serve').description('open Loupe in your browser: the app and its API on 127.0.0.1, behind a key made for this session; folders are watched meanwhile')
    .option('--port <n>', 'port on 127.0.0.1 (default: any free one)', '0')
    .option('--no-watch', 'do not watch the folders for changes')
    .action((cmd: { port: string; watch: boolean }) => withEngine(g(), async (e) => {
      const port = Number.parseInt(cmd.port, 10);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: ${cmd.port} is not a port number`);
      const dir = rendererDir();
      if (!existsSync(join(dir, 'index.html'))) io.err('The app is not built, so only the API is served: run `npm run build:renderer`.');
      const bridge = await startBridge(e, { port, rendererDir: dir, log: (m) => io.err(m) });
      const watcher = cmd.watch ? await e.watch() : null;
      if (watcher) e.catchUp();
      print({ url: bridge.openUrl, origin: bridge.origin }, `Loupe is running. Open this address in your browser (it carries this session's key; keep it private):\n  ${bridge.openUrl}\nPress Ctrl+C to stop.`);
      await new Promise<void>((resolve) => {
        const stop = (): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await watcher?.close();
      await bridge.close();
    }, io, true));

  program.command('status').description('library folders, counts, unreadable files and the last job')
    .option('--errors <n>', 'how many unreadable files to list', '50')
    .action((cmd: { errors: string }) => withE(async (e) => {
      await e.checkDatabase();
      const s = await e.status({ errorLimit: Math.max(0, Number.parseInt(cmd.errors, 10) || 0) });
      print(s, statusText(s));
      // A damaged database is not a state to exit 0 on: scripts and the user must notice.
      if (s.database.integrity === 'damaged') throw new Error(s.database.advice ?? 'the library database is damaged');
    }));

  program.command('backup [file]').description('copy the library database (to FILE, or into the library\'s backups folder); --list shows the copies')
    .option('--list', 'list the copies kept (daily, before each migration, and those made here)')
    .action((file: string | undefined, o: { list?: boolean }) => withE(async (e) => {
      if (o.list) {
        const s = await e.status();
        const list = listBackups(s.database.backups);
        print(list, list.length === 0 ? `No copies yet in ${shown(s.database.backups)}.`
          : list.map((b) => `${new Date(b.takenAt).toISOString()}  ${b.reason.padEnd(13)}  ${shown(b.path)}`).join('\n'));
        return;
      }
      const path = await e.backup(file === undefined ? undefined : resolve(file));
      print({ path }, `Copied the library database to ${shown(path)}.`);
    }));

  program.command('restore <file>').description('put a copy back as the library database (close Loupe first); the current file is kept beside it')
    .action((file: string) => {
      const dir = resolveLibraryDir(g().library);
      const r = Engine.restore(dir, resolve(file));
      print(r, `Restored the library database from ${shown(r.replacedBy)}.` +
        (r.keptAs ? ` The file it replaced is kept as ${shown(r.keptAs)}.` : '') +
        ' Thumbnails, vectors and index files are rebuilt from it by the next `loupe index`.');
    });

  program.command('settings').description('what you chose for the library: XMP sidecars (off unless you turn them on), reading text in photos (on)')
    .addOption(new Option('--write-sidecars <on|off>', 'write albums and taught categories as XMP keywords into sidecars beside your photos').choices(['on', 'off']))
    .addOption(new Option('--read-text <on|off>', 'read the text in photos (signs, receipts, screenshots) while indexing').choices(['on', 'off']))
    .option('--language <tag>', 'the language you search in (de, pt-BR, zh-TW…): a multilingual NLLB pack is told it', languageTag)
    .action((o: { writeSidecars?: 'on' | 'off'; readText?: 'on' | 'off'; language?: string }) => withE(async (e) => {
      const changes = {
        ...(o.writeSidecars !== undefined ? { writeSidecars: o.writeSidecars === 'on' } : {}),
        ...(o.readText !== undefined ? { readText: o.readText === 'on' } : {}),
        ...(o.language !== undefined ? { language: o.language } : {}),
      };
      const prefs = Object.keys(changes).length === 0 ? await e.preferences() : await e.setPreferences(changes);
      const report = prefs.writeSidecars ? await e.syncSidecars() : null;
      const failures = report?.failed.map((f) => `\n  ${shown(f.path)}\n    ${f.error}`).join('') ?? '';
      const text = prefs.readText ? 'Text in photos is read while indexing, on this computer.' : 'Text in photos is not read (turn it on with: loupe settings --read-text on).';
      print({ ...prefs, ...(report ? { sidecars: report } : {}) }, (prefs.writeSidecars
        ? `Albums and categories are written to XMP sidecars: ${report!.written} written, ${report!.unchanged} up to date, ${report!.failed.length} failed.${failures}`
        : 'Loupe writes nothing beside your photos (turn sidecars on with: loupe settings --write-sidecars on).') + `\n${text}` +
        `\nSearches are written in ${prefs.language} (multilingual NLLB packs are told so; change it with: loupe settings --language TAG).`);
      if (report && report.failed.length > 0) process.exitCode = 1;
    }));

  const models = program.command('models').description('model packs: list, install, import, verify, remove, use');

  models.command('list').description('installed packs and the catalog of well-known ones')
    .action(() => withE(async (e) => {
      const list = await e.listModels();
      if (g().json) { io.out(JSON.stringify(list)); return; }
      for (const m of list) {
        const state = m.problem ? (m.installed ? 'DAMAGED' : 'not installable') : m.active ? (m.serving ? 'active' : 'active (embedding)')
          : m.serving ? 'serving search' : m.installed ? 'installed' : '';
        io.out(`${m.name.padEnd(18)} ${(m.kind ?? '?').padEnd(4)} ${(m.bytes !== null ? bytes(m.bytes) : '').padStart(8)}  ${state.padEnd(18)} ${m.title}`);
        if (m.problem) io.out(`${''.padEnd(20)}${m.problem}`);
        if (m.note) io.out(`${''.padEnd(20)}Note: ${m.note}`);
        if (m.learned) io.out(`${''.padEnd(20)}Learned: ${m.learned}`);
      }
    }));

  models.command('install <name>').description('download a pack from the catalog (resumable; every file verified)')
    .action((name: string) => withE(async (e) => {
      const bar = simpleBar(io, g().json === true, `Downloading ${name}`);
      let lastFile = '';
      const info = await e.installModel(name, {
        onProgress: (p) => {
          if (p.file !== lastFile && !io.isTTY && !g().json) io.out(`${p.file} (${p.fileIndex + 1}/${p.files})`);
          lastFile = p.file;
          bar.update(p.done, p.total, `${p.file} (${p.fileIndex + 1}/${p.files}) ${bytes(p.done)} of ${bytes(p.total)}`);
        },
      }).finally(() => bar.stop());
      print(info, `Installed ${info.name} (${info.title}, ${bytes(info.bytes)}).` + (info.active ? ' It is the active model; `loupe index` computes its vectors.' : ` Make it active with \`loupe models use ${info.name}\`.`));
    }));

  models.command('import <dir>').description('add a local folder as a pack: the Hugging Face ONNX layout, or a face pack (detector/ and embedder/, each model.json + ONNX)')
    .option('--name <name>', 'pack name (default: the folder name)')
    .addOption(new Option('--kind <kind>', 'what the model is (default: found from the files)').choices(['clip', 'cnn', 'face']))
    .option('--title <title>', 'display name')
    .option('--licence <licence>', 'licence of the weights')
    .option('--feature-output <tensor>', 'CNN: tensor holding the last convolutional map (default: found)')
    .action((dir: string, o: { name?: string; kind?: 'clip' | 'cnn' | 'face'; title?: string; licence?: string; featureOutput?: string }) => withE(async (e) => {
      const info = await e.importModel(dir, {
        name: o.name,
        kind: o.kind,
        title: o.title,
        licence: o.licence,
        featureOutput: o.featureOutput,
      });
      print(info, `Imported ${info.name} (${info.kind}, ${info.embeddingDim}-d, ${bytes(info.bytes)}).` + (info.active ? ' It is the active model.' : ''));
    }));

  models.command('verify [name]').description('re-hash the files of installed packs against their manifests')
    .action((name: string | undefined) => withE(async (e) => {
      const reports = await e.verifyModels(name, (pack, file) => { if (!g().json && io.isTTY) io.err(`checking ${pack}/${file}`); });
      if (g().json) io.out(JSON.stringify(reports));
      else for (const r of reports) {
        io.out(r.ok ? `${r.name}: ok (${r.files} files, ${bytes(r.bytes)})` : `${r.name}: DAMAGED`);
        for (const p of r.problems) io.out(`  ${p.path}: ${p.problem}`);
      }
      if (reports.some((r) => !r.ok)) throw new Error('some packs are damaged; reinstall them (`loupe models remove NAME && loupe models install NAME`)');
      if (reports.length === 0 && !g().json) io.out('No model packs installed.');
    }));

  models.command('use <name>').description('make an installed pack the active one of its kind (vectors are recomputed in the background; search uses the old ones until then)')
    .action((name: string) => withE(async (e) => {
      const info = await e.useModel(name);
      print(info, `${info.name} is now the active ${info.kind} model. Run \`loupe index\` (or keep \`loupe index --watch\` running) to compute its vectors.`);
    }));

  models.command('remove <name>').description('delete an installed pack (not the active one) and its vectors')
    .action((name: string) => withE(async (e) => {
      await e.removeModel(name);
      print({ removed: name }, `Removed ${name}.`);
    }));

  const kit = {
    withE,
    print,
    out: io.out,
    json: () => g().json === true,
    bar: (label: string) => simpleBar(io, g().json === true, label),
  };
  addSearchCommands(program, kit);
  addPeopleCommands(program, kit);
  addPlacesCommands(program, kit);
  return program;
}

/** Runs the CLI; returns the exit code instead of exiting, so tests can call it in-process. */
export async function main(argv: readonly string[], given: Io = defaultIo): Promise<number> {
  // Names come from the user's disk: nothing printed may drive the terminal.
  const io = terminalSafe(given);
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv as string[]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    io.err(`loupe: ${errorMessage(err)}`);
    return 1;
  }
}
