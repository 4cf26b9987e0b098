/**
 * `n_jobs`: the forest's trees grown on several threads. The bins and targets are written once
 * into SharedArrayBuffers; this thread and `nJobs - 1` worker threads take tree indices from a
 * shared counter (so a slow or busy thread simply takes fewer trees), and each tree k is grown
 * from its own seeded bootstrap (`bootstrap.ts`) with the same code as on one thread. The forest
 * is therefore identical, byte for byte, to `fitForest`'s, whatever the thread count or the
 * order the trees finish in.
 */
import { availableParallelism } from 'node:os';
import { MillwrightError } from '../../errors/index.ts';
import { startWorker } from '../../workers/index.ts';
import type { Worker } from 'node:worker_threads';
import { binRows, fitBins, type BinEdges } from './binning.ts';
import { bootstrap, bootstrapSize } from './bootstrap.ts';
import { checkForestInput, fitForest, treeOptions, type Forest, type ForestOptions } from './forest.ts';
import { TreeGrower, type Target, type Tree, type TreeOptions } from './tree.ts';

/** What each worker thread gets (SharedArrayBuffers are shared, the rest copied). */
export interface ForestWorkerData {
  /** Filled by the parent before it posts {@link ForestWorkerStart}. */
  bins: SharedArrayBuffer;
  n: number;
  kind: Target['kind'];
  y: SharedArrayBuffer;
  nClasses: number;
  tree: TreeOptions;
  seed: number;
  /** Bootstrap rows per tree. */
  draws: number;
  nEstimators: number;
  /** Int32 [next tree index, trees done]. */
  counter: SharedArrayBuffer;
}

/** The parent's one message to each worker: the bin edges, once `bins` holds the binned rows. */
export interface ForestWorkerStart {
  edges: BinEdges;
}

/** Options of {@link fitForestParallel}. */
export interface ParallelForestOptions extends ForestOptions {
  /** Threads growing trees: a count, or -1 / 0 for one per core. */
  nJobs: number;
  /**
   * Whether the calling thread grows trees too (default true: `nJobs - 1` workers start). False
   * starts `nJobs` workers and leaves this thread's event loop free while they train (a server
   * training in the background).
   */
  growOnCaller?: boolean;
}

/** A grown tree, or the worker's last message. */
export type ForestWorkerMessage = { k: number; tree: Tree } | { end: true };

/**
 * Threads for `n_jobs`: a positive count is taken as is, 0 or -1 mean one per available core
 * (`os.availableParallelism()`, like scikit-learn's -1).
 *
 * @example
 * import { resolveThreads } from 'millwright';
 * resolveThreads(-1); // 2 on a 2-core machine
 */
export function resolveThreads(nJobs: number): number {
  if (!Number.isInteger(nJobs) || nJobs < -1) throw new MillwrightError('BAD_INPUT', `n_jobs: ${nJobs} is not valid (expected a thread count >= 1, or -1 or 0 for one per core)`);
  return nJobs <= 0 ? availableParallelism() : nJobs;
}

/**
 * {@link fitForest} on `nJobs` threads (this one included unless `growOnCaller` is false; -1 or
 * 0 = one per core): the same forest, byte for byte, in less time when cores are free. One
 * thread on the caller runs `fitForest` itself.
 *
 * @example
 * import { fitForestParallel } from 'millwright';
 * const forest = await fitForestParallel(X, n, 20, { kind: 'regression', y }, { nEstimators: 100,
 *   maxDepth: 10, minSamplesLeaf: 5, maxFeatures: 20, maxSamples: 1, bins: 255, seed: 42, nJobs: 2 });
 */
export async function fitForestParallel(X: Float32Array, n: number, nFeatures: number, target: Target, options: ParallelForestOptions): Promise<Forest> {
  const threads = Math.min(resolveThreads(options.nJobs), options.nEstimators);
  const onCaller = options.growOnCaller ?? true;
  if (threads <= 1 && onCaller) return fitForest(X, n, nFeatures, target, options);
  checkForestInput(n, options);
  const bins = new SharedArrayBuffer(n * nFeatures);
  const y = new SharedArrayBuffer(target.y.byteLength);
  if (target.kind === 'regression') new Float64Array(y).set(target.y);
  else new Int32Array(y).set(target.y);
  const counter = new SharedArrayBuffer(8);
  const next = new Int32Array(counter);
  const m = bootstrapSize(options.maxSamples, n);
  const N = options.nEstimators;
  const data: ForestWorkerData = {
    bins,
    n,
    kind: target.kind,
    y,
    nClasses: target.kind === 'classification' ? target.nClasses : 0,
    tree: treeOptions(options),
    seed: options.seed,
    draws: m,
    nEstimators: N,
    counter,
  };
  const trees: (Tree | undefined)[] = new Array<Tree | undefined>(N);
  const { workers, finished } = startForestWorkers(onCaller ? threads - 1 : threads, data, trees);
  for (const f of finished) f.catch(() => undefined); // handled below; not "unhandled" while this thread is busy
  let reported = 0;
  try {
    // the workers start up (a few hundred ms from the TypeScript sources) while this thread bins the data
    const edges = fitBins(X, n, nFeatures, { maxBins: options.bins, seed: options.seed });
    binRows(X, n, edges, new Uint8Array(bins));
    for (const w of workers) w.postMessage({ edges } satisfies ForestWorkerStart);
    // this thread grows trees too, from the same counter, while the workers start
    const grower = new TreeGrower(new Uint8Array(bins), n, edges, target, treeOptions(options));
    const draws = new Int32Array(m);
    while (onCaller) {
      const k = Atomics.add(next, 0, 1);
      if (k >= N) break;
      trees[k] = grower.grow(draws, bootstrap(options.seed, k, n, draws));
      const done = Atomics.add(next, 1, 1) + 1;
      if (done > reported) {
        reported = done;
        options.onTree?.(done, N);
      }
    }
    if (!onCaller) {
      // progress as the workers' trees arrive
      for (const w of workers) {
        w.on('message', () => {
          const done = Atomics.load(next, 1);
          if (done > reported) {
            reported = done;
            options.onTree?.(done, N);
          }
        });
      }
    }
    await Promise.all(finished);
  } catch (err) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw err;
  }
  if (reported < N) options.onTree?.(N, N);
  const nOutputs = target.kind === 'regression' ? 1 + (options.leafQuantiles?.length ?? 0) : target.nClasses;
  return { kind: target.kind, nFeatures, nOutputs, trees: trees.map((t, k) => {
    if (t === undefined) throw new MillwrightError('INTERNAL', `random forest: tree ${k} was not grown`);
    return t;
  }) };
}

/** Starts `count` training workers; each resolves `finished` once it has posted its last tree into `trees`. */
function startForestWorkers(count: number, data: ForestWorkerData, trees: (Tree | undefined)[]): { workers: Worker[]; finished: Promise<void>[] } {
  const workers: Worker[] = [];
  const finished: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const worker = startWorker(new URL('./forest-worker.ts', import.meta.url), data);
    workers.push(worker);
    finished.push(
      new Promise<void>((resolve, reject) => {
        let ended = false;
        worker.on('message', (msg: ForestWorkerMessage) => {
          if ('end' in msg) ended = true;
          else trees[msg.k] = msg.tree;
        });
        worker.on('error', reject);
        worker.on('exit', (code) => {
          if (ended) resolve();
          else reject(new MillwrightError('INTERNAL', `random forest: a training worker thread exited with code ${code} before its trees were done`));
        });
      }),
    );
  }
  return { workers, finished };
}
