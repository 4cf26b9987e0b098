import { Worker } from 'node:worker_threads';

// This module is compiled together with every worker module, so its own extension tells whether
// the process runs the TypeScript sources (tsx: dev, tests) or the built package.
const fromSource = import.meta.url.endsWith('.ts');

/**
 * Starts a worker thread on `moduleUrl`, which the caller names relative to itself with its
 * TypeScript extension. From the sources, tsx's loader hooks do not reach worker threads by
 * themselves (module hooks are per thread), so the thread registers tsx before importing the
 * worker; in the built package the `.ts` is switched to the emitted `.js` and run directly.
 *
 * Internal to millwright (not exported from the package entry points).
 *
 * @example
 * const worker = startWorker(new URL('./predict-worker.ts', import.meta.url), init);
 */
export function startWorker(moduleUrl: URL, workerData: unknown): Worker {
  if (!fromSource) {
    const built = new URL(moduleUrl.href.replace(/\.ts$/, '.js'));
    return new Worker(built, { workerData });
  }
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(moduleUrl.href)}); });`;
  return new Worker(code, { eval: true, workerData });
}
