// n_jobs: trees grown on worker threads (lib/algorithms/forest/forest-parallel.ts) give the same
// forest, byte for byte, as one thread: through the package (forest.bin, forest-cover.bin,
// model.onnx) and directly for every tree shape the learner has (all features with sibling
// subtraction, drawn features, classification, leaf quantiles, unlimited depth).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as reg from '../../lib/algorithms/random-forest-regression/train.ts';
import { fitForest, type Forest, type ForestOptions } from '../../lib/algorithms/forest/forest.ts';
import { fitForestParallel, resolveThreads } from '../../lib/algorithms/forest/forest-parallel.ts';
import type { Target } from '../../lib/algorithms/forest/tree.ts';
import { MillwrightError } from '../../lib/errors/index.ts';
import { synthetic, syntheticTable } from './fixtures.ts';
import { scratch, trainContext } from './context.ts';

const features = synthetic(1, 1).names;
const F = features.length;

function treeBytes(forest: Forest): Buffer {
  return Buffer.concat(forest.trees.flatMap((t) => [t.feature, t.threshold, t.left, t.right, t.value].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))));
}

test('random-forest-regression with n_jobs 2 and -1 writes the same forest.bin, forest-cover.bin and model.onnx as n_jobs 1', async (t) => {
  const s = await scratch();
  t.after(s.cleanup);
  const train = syntheticTable(3000, 31).select([...features, 'y']);
  const files = ['forest.bin', 'forest.json', 'forest-cover.bin', 'model.onnx'];
  const runs: { dir: string; threads: unknown }[] = [];
  for (const nJobs of [1, 2, -1]) {
    const ctx = await trainContext(s.base, { train }, { target: 'y', features, n_estimators: 12, max_depth: 8, seed: 5, n_jobs: nJobs }, `model-${nJobs}`);
    await reg.train(ctx as never);
    runs.push({ dir: ctx.modelDir, threads: ctx.log.messages.find((m) => m.message === 'training random forest')?.fields?.threads });
  }
  assert.equal(runs[0]!.threads, 1);
  assert.equal(runs[1]!.threads, 2);
  for (const run of runs.slice(1)) {
    for (const file of files) {
      assert.ok((await readFile(join(runs[0]!.dir, file))).equals(await readFile(join(run.dir, file))), `${file} differs with ${String(run.threads)} threads`);
    }
  }
});

test('fitForestParallel grows exactly the trees fitForest grows, on every tree shape, and reports each tree', async () => {
  const n = 2500;
  const d = synthetic(n, 32);
  const X = new Float32Array(n * F);
  for (let f = 0; f < F; f++) X.set(Float32Array.from(d.columns[f]!), f * n);
  const names = ['low', 'normal', 'high'];
  const label = Int32Array.from(d.label, (l) => names.indexOf(l));
  const base = { minSamplesLeaf: 3, maxSamples: 1, bins: 255, seed: 11 };
  const cases: [string, Target, ForestOptions][] = [
    ['regression, all features (sibling subtraction), depth 10', { kind: 'regression', y: d.y }, { ...base, nEstimators: 9, maxDepth: 10, maxFeatures: F }],
    ['regression, 6 drawn features, unlimited depth, 0.7 bootstrap', { kind: 'regression', y: d.y }, { ...base, nEstimators: 7, maxDepth: 0, maxFeatures: 6, maxSamples: 0.7 }],
    ['regression with leaf quantiles', { kind: 'regression', y: d.y }, { ...base, nEstimators: 5, maxDepth: 0, maxFeatures: F, leafQuantiles: [0.1, 0.9] }],
    ['classification, sqrt features', { kind: 'classification', y: label, nClasses: 3 }, { ...base, nEstimators: 8, maxDepth: 0, minSamplesLeaf: 1, maxFeatures: 4 }],
    ['classification, all features, 32 bins', { kind: 'classification', y: label, nClasses: 3 }, { ...base, nEstimators: 6, maxDepth: 7, maxFeatures: F, bins: 32 }],
  ];
  for (const [what, target, options] of cases) {
    const one = fitForest(X, n, F, target, options);
    assert.ok(one.trees.some((t) => t.feature.length > 15), `${what}: trees too small to mean anything`);
    // every tree grown by 3 workers (more threads than this machine has cores), then mixed with
    // this thread: the result may not depend on who grew which tree
    for (const growOnCaller of [false, true]) {
      const progress: number[] = [];
      const three = await fitForestParallel(X, n, F, target, { ...options, nJobs: 3, growOnCaller, onTree: (done, total) => progress.push(done / total) });
      const how = `${what} (growOnCaller ${growOnCaller})`;
      assert.equal(three.trees.length, options.nEstimators, how);
      assert.deepEqual([three.kind, three.nFeatures, three.nOutputs], [one.kind, one.nFeatures, one.nOutputs], how);
      assert.ok(treeBytes(three).equals(treeBytes(one)), `${how}: trees differ`);
      assert.equal(progress.at(-1), 1, how);
      assert.ok(progress.every((p, i) => i === 0 || p > progress[i - 1]!), `${how}: progress not increasing: ${progress.join(',')}`);
    }
  }
});

test('n_jobs: -1 and 0 mean one thread per core; other values below 1 are refused', async () => {
  assert.ok(resolveThreads(-1) >= 1);
  assert.equal(resolveThreads(0), resolveThreads(-1));
  assert.equal(resolveThreads(3), 3);
  assert.throws(() => resolveThreads(-2), (err: unknown) => err instanceof MillwrightError && err.code === 'BAD_INPUT' && /n_jobs/.test(err.message));
  assert.throws(() => resolveThreads(1.5), (err: unknown) => err instanceof MillwrightError && err.code === 'BAD_INPUT');
  const s = await scratch();
  try {
    const ctx = await trainContext(s.base, { train: syntheticTable(200, 1).select([...features, 'y']) }, { target: 'y', n_jobs: -2 });
    await assert.rejects(reg.train(ctx as never), (err: unknown) => err instanceof MillwrightError && /n_jobs/.test(err.message));
  } finally {
    await s.cleanup();
  }
});
