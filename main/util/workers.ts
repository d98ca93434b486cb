/** Starting a worker thread from a module beside the caller, from source (tests, tsx) or built JavaScript alike. */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker running `name` (without extension) next to the module at `callerUrl`. From TypeScript
 * source the worker first registers tsx, which a worker does not inherit.
 */
export function startModuleWorker(callerUrl: string, name: string, options: WorkerOptions = {}): Worker {
  const url = new URL(`./${name}.${callerUrl.endsWith('.ts') ? 'ts' : 'js'}`, callerUrl);
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}
