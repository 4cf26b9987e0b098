import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread on a module next to this one (`name` without extension). Under tsx
 * (development, tests) the sources are .ts and tsx's loader hooks do not reach worker threads by
 * themselves, so the worker registers them first; the built package runs the .js directly.
 */
export function startWorker(name: string, workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, import.meta.url), { workerData });
  const api = import.meta.resolve('tsx/esm/api');
  const file = new URL(`./${name}.ts`, import.meta.url).href;
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(file)}); })`;
  return new Worker(boot, { eval: true, workerData });
}
