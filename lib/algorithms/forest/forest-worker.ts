/**
 * Worker thread of `fitForestParallel`: waits for the bin edges, then grows trees on the shared
 * bins until the shared counter runs past the last tree, posting each tree (its arrays transferred) as it is done.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { bootstrap } from './bootstrap.ts';
import { TreeGrower } from './tree.ts';
import type { BinEdges } from './binning.ts';
import type { ForestWorkerData, ForestWorkerMessage, ForestWorkerStart } from './forest-parallel.ts';

const d = workerData as ForestWorkerData;

function run(edges: BinEdges): void {
  const target = d.kind === 'regression' ? { kind: 'regression' as const, y: new Float64Array(d.y) } : { kind: 'classification' as const, y: new Int32Array(d.y), nClasses: d.nClasses };
  const grower = new TreeGrower(new Uint8Array(d.bins), d.n, edges, target, d.tree);
  const counter = new Int32Array(d.counter);
  const draws = new Int32Array(d.draws);
  for (;;) {
    const k = Atomics.add(counter, 0, 1);
    if (k >= d.nEstimators) break;
    const tree = grower.grow(draws, bootstrap(d.seed, k, d.n, draws));
    Atomics.add(counter, 1, 1);
    const message: ForestWorkerMessage = { k, tree };
    parentPort!.postMessage(message, [tree.feature, tree.threshold, tree.left, tree.right, tree.value].map((a) => a.buffer as ArrayBuffer));
  }
  parentPort!.postMessage({ end: true } satisfies ForestWorkerMessage);
  parentPort!.close();
}

parentPort!.once('message', (msg: ForestWorkerStart) => run(msg.edges));
