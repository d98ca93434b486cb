import { Command, CommanderError, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import type { EngineEvent, IndexProgress } from '../api.js';
import { Engine } from '../engine.js';
import { resolveLibraryDir } from '../paths.js';
import { duration, progressLine, statusText } from './format.js';

interface GlobalOpts { library?: string; json?: boolean }

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

function withEngine<T>(opts: GlobalOpts, fn: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = Engine.open({ libraryDir: resolveLibraryDir(opts.library) });
  return fn(engine).finally(() => engine.close());
}

export function buildProgram(io: Io = defaultIo): Command {
  const program = new Command('loupe')
    .description('Loupe: search your photo library by example, by sentence, by category and by region.')
    .addOption(new Option('--library <dir>', 'library folder (database, thumbnails)').env('LOUPE_HOME'))
    .option('--json', 'machine-readable output (JSON; JSON lines for progress)')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  const g = (): GlobalOpts => program.opts<GlobalOpts>();
  const print = (json: unknown, text: string): void => io.out(g().json ? JSON.stringify(json) : text);

  program.command('add-folder <dir>').description('add a folder to the library (it is scanned by `loupe index`)')
    .action((dir: string) => withEngine(g(), async (e) => {
      const f = await e.addFolder(dir);
      print(f, `Added ${f.path}. Run \`loupe index\` to index it.`);
    }));

  program.command('remove-folder <dir>').description('forget a folder and its photos (files on disk are not touched)')
    .action((dir: string) => withEngine(g(), async (e) => {
      const r = await e.removeFolder(dir);
      print(r, `Removed ${dir} (${r.removedPhotos} photos forgotten; files on disk untouched).`);
    }));

  program.command('index').description('scan the library folders and index new and changed photos')
    .option('--watch', 'keep watching the folders and index changes as they happen')
    .action((cmd: { watch?: boolean }) => withEngine(g(), async (e) => {
      const json = g().json === true;
      const scan = await e.scan();
      if (json) io.out(JSON.stringify({ type: 'scan', ...scan }));
      else io.out(`Scanned ${scan.folders} folder(s) in ${(scan.ms / 1000).toFixed(1)}s: ${scan.seen} photo files, ` +
        `${scan.added} new, ${scan.changed} changed, ${scan.missing} gone, ${scan.revived} back.` +
        (scan.skippedDirs.length ? ` Could not list: ${scan.skippedDirs.join(', ')}` : ''));
      const bar = progressReporter(io, json);
      const summary = await e.index({ onProgress: bar.update }).finally(() => bar.stop());
      if (json) io.out(JSON.stringify({ type: 'indexed', ...summary }));
      else io.out(`Indexed ${summary.processed} photo(s) in ${(summary.ms / 1000).toFixed(1)}s: ${summary.ok} ok, ` +
        `${summary.moved} moved, ${summary.failed} unreadable, ${summary.missing} gone.` +
        (summary.failed ? ' See `loupe status` for reasons.' : ''));
      if (!cmd.watch) return;
      const off = e.on((ev: EngineEvent) => {
        if (json) io.out(JSON.stringify(ev));
        else if (ev.type === 'indexed' && ev.summary.processed > 0) io.out(`Indexed ${ev.summary.processed} change(s).`);
        else if (ev.type === 'folder-state') io.out(`${ev.path} is ${ev.state === 'offline' ? 'offline (kept; waiting for it)' : 'back online'}.`);
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

  program.command('status').description('library folders, counts, unreadable files and the last job')
    .option('--errors <n>', 'how many unreadable files to list', '50')
    .action((cmd: { errors: string }) => withEngine(g(), async (e) => {
      const s = await e.status({ errorLimit: Math.max(0, Number.parseInt(cmd.errors, 10) || 0) });
      print(s, statusText(s));
    }));

  return program;
}

/** Runs the CLI; returns the exit code instead of exiting, so tests can call it in-process. */
export async function main(argv: readonly string[], io: Io = defaultIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv as string[]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    io.err(`loupe: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
