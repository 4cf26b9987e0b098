// The compiled forest (lib/algorithms/forest/compiled-forest.ts) against the trained-tree
// predictor it replaces in serving: the same predictions to 1e-12 (in fact bit for bit) on every
// built-in forest model and on the layouts' edge cases; the ONNX engine within float32 rounding.
import { test } from 'node:test';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import * as aq from 'arquero';
import { compileForest, predictCompiled, treeDepth, COMPLETE_MAX_DEPTH } from '../../lib/algorithms/forest/compiled-forest.ts';
import { calibrationRows, chooseForestEngine, predictOnnxForest } from '../../lib/algorithms/forest/engine.ts';
import { fitForest, predictForest, type Forest } from '../../lib/algorithms/forest/forest.ts';
import { featureMatrix } from '../../lib/algorithms/table.ts';
import * as reg from '../../lib/algorithms/random-forest-regression/train.ts';
import * as regPredict from '../../lib/algorithms/random-forest-regression/predict.ts';
import * as cls from '../../lib/algorithms/random-forest-classification/train.ts';
import * as clsPredict from '../../lib/algorithms/random-forest-classification/predict.ts';
import * as energy from '../../lib/algorithms/energy-load-curve/train.ts';
import * as energyPredict from '../../lib/algorithms/energy-load-curve/predict.ts';
import { energyMatrix } from '../../lib/algorithms/energy-load-curve/model.ts';
import { mulberry32 } from '../../lib/algorithms/forest/rng.ts';
import { openOnnx } from '../../lib/algorithms/onnx/session.ts';
import { loadModel, trainPackage } from '../../lib/model/index.ts';
import type { ModelManifest } from '../../lib/model/contract.ts';
import { synthetic, syntheticTable } from './fixtures.ts';
import { scratch, trainContext } from './context.ts';

const features = synthetic(1, 1).names;
const F = features.length;

/** Row-major float32 matrix of the synthetic features (what predictForest takes). */
function rowMatrix(n: number, seed: number): Float32Array {
  const d = synthetic(n, seed);
  const X = new Float32Array(n * F);
  for (let f = 0; f < F; f++) for (let r = 0; r < n; r++) X[r * F + f] = d.columns[f]![r]!;
  return X;
}

function columnMatrix(n: number, seed: number): { X: Float32Array; y: Float64Array; label: Int32Array } {
  const d = synthetic(n, seed);
  const X = new Float32Array(n * F);
  for (let f = 0; f < F; f++) X.set(Float32Array.from(d.columns[f]!), f * n);
  const names = ['low', 'normal', 'high'];
  return { X, y: d.y, label: Int32Array.from(d.label, (l) => names.indexOf(l)) };
}

function assertSame(a: Float64Array, b: Float64Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d;
  }
  assert.ok(max <= 1e-12, `${what}: max |fast - old| = ${max}`);
}

const base = { minSamplesLeaf: 5, maxFeatures: F, maxSamples: 1, bins: 255, seed: 3 };
const train = columnMatrix(3000, 21);
const Xtest = rowMatrix(1500, 22);

test('regression forests: complete layout (depth 10) and sparse layout (unlimited) predict what the trained trees predict', () => {
  for (const maxDepth of [10, 0]) {
    const forest = fitForest(train.X, 3000, F, { kind: 'regression', y: train.y }, { ...base, nEstimators: 25, maxDepth });
    const c = compileForest(forest);
    assert.equal(c.layout.kind, maxDepth === 10 ? 'complete' : 'sparse');
    if (maxDepth === 0) assert.ok(Math.max(...forest.trees.map(treeDepth)) > COMPLETE_MAX_DEPTH, 'unlimited trees are deeper than the complete layout takes');
    const old = predictForest(forest, Xtest, 1500);
    assertSame(predictCompiled(c, Xtest, 1500), old, `depth ${maxDepth}`);
    // float64 input is rounded to float32 first, as the float32 matrix was
    assertSame(predictCompiled(c, Float64Array.from(Xtest), 1500), old, `depth ${maxDepth}, float64 input`);
    // row counts that are not a multiple of the 8-row lockstep, and a reused output buffer
    const out = new Float64Array(13);
    assertSame(predictCompiled(c, Xtest.subarray(0, 13 * F), 13, out), old.subarray(0, 13), `depth ${maxDepth}, 13 rows`);
    assert.equal(predictCompiled(c, Xtest, 0).length, 0);
    // fewer rows than the lockstep (single-row serving: trees four at a time, then one by one)
    for (const n of [1, 2, 7]) {
      for (let at = 0; at < 40; at += n) assertSame(predictCompiled(c, Xtest.subarray(at * F, (at + n) * F), n), old.subarray(at, at + n), `depth ${maxDepth}, ${n} row(s) at ${at}`);
    }
  }
});

test('complete layout: the WebAssembly walker and the JS walker give the same bits (blocks, tails, float64 input, NaN, several outputs)', () => {
  const forest = fitForest(train.X, 3000, F, { kind: 'regression', y: train.y }, { ...base, nEstimators: 25, maxDepth: 10 });
  const wasm = compileForest(forest);
  const js = compileForest(forest, { wasm: false });
  assert.equal(wasm.layout.kind, 'complete');
  assert.ok(wasm.layout.kind === 'complete' && wasm.layout.wasm !== undefined, 'the wasm walker was built');
  assert.ok(js.layout.kind === 'complete' && js.layout.wasm === undefined, '{ wasm: false } keeps the JS walker only');
  // more rows than one wasm block (1,024) and a tail that is not a multiple of the 8 lanes
  const n = 2 * 1024 + 13;
  const X = new Float32Array(n * F);
  for (let r = 0; r < n; r++) X.set(Xtest.subarray((r % 1500) * F, (r % 1500 + 1) * F), r * F);
  const rng = mulberry32(17);
  for (let i = 0; i < X.length; i++) if (rng() < 0.05) X[i] = Number.NaN;
  const old = predictForest(forest, X, n);
  const w = predictCompiled(wasm, X, n);
  assertSame(w, old, 'wasm vs trained trees');
  assert.deepEqual(Array.from(w), Array.from(predictCompiled(js, X, n)), 'wasm and JS walkers: identical values');
  for (const m of [8, 9, 15, 1024, 1025]) assertSame(predictCompiled(wasm, X.subarray(0, m * F), m), old.subarray(0, m), `${m} rows`);
  // float64 rows are rounded to float32 on the way into wasm memory, as the JS walker rounds them
  const X64 = Float64Array.from(X, (v, i) => v + (i % 3) * 1e-9);
  assert.deepEqual(Array.from(predictCompiled(wasm, X64, n)), Array.from(predictCompiled(js, X64, n)), 'float64 input');
  // a second compiled forest has its own memory: predictions do not interfere
  const other = compileForest(fitForest(train.X, 3000, F, { kind: 'regression', y: train.y }, { ...base, nEstimators: 5, maxDepth: 4, seed: 9 }));
  const before = predictCompiled(other, X, n);
  predictCompiled(wasm, X, n);
  assert.deepEqual(Array.from(predictCompiled(other, X, n)), Array.from(before));
  // several outputs (3-class probabilities) through the any-K path
  const clf = fitForest(train.X, 3000, F, { kind: 'classification', y: train.label, nClasses: 3 }, { ...base, nEstimators: 12, maxDepth: 7, minSamplesLeaf: 1, maxFeatures: 4 });
  const cw = compileForest(clf);
  assert.ok(cw.layout.kind === 'complete' && cw.layout.wasm !== undefined);
  assert.deepEqual(Array.from(predictCompiled(cw, X, n)), Array.from(predictCompiled(compileForest(clf, { wasm: false }), X, n)), '3 outputs');
  assertSame(predictCompiled(cw, X, n), predictForest(clf, X, n), '3 outputs vs trained trees');
  // the top two levels are decided in SIMD: trees of depth 2 (no scalar step after them) and 3,
  // mixed with stumps (too shallow for it), one and several outputs
  for (const depths of [[2], [3], [1, 2, 3, 2]]) {
    const trees = depths.flatMap((maxDepth, i) => fitForest(train.X, 3000, F, { kind: 'regression', y: train.y }, { ...base, nEstimators: 3, maxDepth, seed: 40 + i }).trees);
    const shallow: Forest = { kind: 'regression', nFeatures: F, nOutputs: 1, trees };
    assert.deepEqual(Array.from(predictCompiled(compileForest(shallow), X, n)), Array.from(predictCompiled(compileForest(shallow, { wasm: false }), X, n)), `depths ${depths}`);
    assertSame(predictCompiled(compileForest(shallow), X, n), predictForest(shallow, X, n), `depths ${depths} vs trained trees`);
  }
  const clf2 = fitForest(train.X, 3000, F, { kind: 'classification', y: train.label, nClasses: 3 }, { ...base, nEstimators: 4, maxDepth: 2, minSamplesLeaf: 1, maxFeatures: 4 });
  assert.deepEqual(Array.from(predictCompiled(compileForest(clf2), X, n)), Array.from(predictCompiled(compileForest(clf2, { wasm: false }), X, n)), '3 outputs, depth 2');
});

test('complete layout, fewer rows than the lockstep: the WebAssembly row walker and the JS walker give the same bits (eight trees together, trees alone, NaN, float64 input)', () => {
  // 19 trees: eight of depth 6, a shallower one, a single leaf, eight of depth 6, one more of
  // depth 6, so the row plan has both kinds of entry (eight trees together, a tree alone)
  const fit = (n: number, o: { maxDepth: number; minSamplesLeaf?: number; seed: number }) => fitForest(train.X, 3000, F, { kind: 'regression', y: train.y }, { ...base, nEstimators: n, ...o }).trees;
  const trees = [...fit(8, { maxDepth: 6, seed: 50 }), ...fit(1, { maxDepth: 3, seed: 51 }), ...fit(1, { maxDepth: 6, minSamplesLeaf: 3000, seed: 52 }), ...fit(9, { maxDepth: 6, seed: 53 })];
  assert.deepEqual(trees.map(treeDepth), [6, 6, 6, 6, 6, 6, 6, 6, 3, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6]);
  const forest: Forest = { kind: 'regression', nFeatures: F, nOutputs: 1, trees };
  const wasm = compileForest(forest);
  const js = compileForest(forest, { wasm: false });
  const row = wasm.layout.wasm?.row;
  assert.ok(row !== undefined, 'a one-output complete forest has the row walker');
  assert.equal(row.entries, 5, 'row plan: 8 together, 1, 1, 8 together, 1');
  const X = Float32Array.from(Xtest.subarray(0, 200 * F));
  const rng = mulberry32(23);
  for (let i = 0; i < X.length; i++) if (rng() < 0.05) X[i] = Number.NaN;
  const old = predictForest(forest, X, 200);
  for (const n of [1, 2, 7]) {
    for (let at = 0; at + n <= 200; at += n) {
      const part = X.subarray(at * F, (at + n) * F);
      const w = predictCompiled(wasm, part, n);
      assert.deepEqual(Array.from(w), Array.from(predictCompiled(js, part, n)), `${n} row(s) at ${at}: wasm and JS walkers`);
      assertSame(w, old.subarray(at, at + n), `${n} row(s) at ${at} vs trained trees`);
      const part64 = Float64Array.from(part, (v, i) => v + (i % 3) * 1e-9);
      assert.deepEqual(Array.from(predictCompiled(wasm, part64, n)), Array.from(predictCompiled(js, part64, n)), `${n} row(s) at ${at}, float64 input`);
    }
  }
  // the single-row walker shares the forest's memory with the batch walker: one does not disturb the other
  const batch = predictCompiled(wasm, X, 200);
  assert.deepEqual(Array.from(predictCompiled(wasm, X.subarray(0, F), 1)), [batch[0]]);
  assert.deepEqual(Array.from(predictCompiled(wasm, X, 200)), Array.from(batch));
  // several outputs keep the JS walker for few rows
  const clf = compileForest(fitForest(train.X, 3000, F, { kind: 'classification', y: train.label, nClasses: 3 }, { ...base, nEstimators: 4, maxDepth: 5, minSamplesLeaf: 1, maxFeatures: 4 }));
  assert.ok(clf.layout.wasm !== undefined && clf.layout.wasm.row === undefined);
});

test('sparse layout: the WebAssembly walker and the JS walker give the same bits (unlimited depth, NaN, 2 and 3 outputs, a chain deeper than the complete layout)', () => {
  const n = 3000 + 5;
  const X = new Float32Array(n * F);
  for (let r = 0; r < n; r++) X.set(Xtest.subarray((r % 1500) * F, (r % 1500 + 1) * F), r * F);
  const rng = mulberry32(23);
  for (let i = 0; i < X.length; i++) if (rng() < 0.05) X[i] = Number.NaN;
  const forests: [string, Forest][] = [
    ['regression', fitForest(train.X, 3000, F, { kind: 'regression', y: train.y }, { ...base, nEstimators: 8, maxDepth: 0 })],
    ['leaf quantiles', fitForest(train.X, 3000, F, { kind: 'regression', y: train.y }, { ...base, nEstimators: 6, maxDepth: 0, leafQuantiles: [0.1] })],
    ['classifier', fitForest(train.X, 3000, F, { kind: 'classification', y: train.label, nClasses: 3 }, { ...base, nEstimators: 6, maxDepth: 0, minSamplesLeaf: 1, maxFeatures: 4 })],
  ];
  const leaf = { feature: Int32Array.of(-1), threshold: Float32Array.of(0), left: Int32Array.of(-1), right: Int32Array.of(-1), value: Float32Array.of(2.5) };
  forests.push(['lone leaf + chain', { kind: 'regression', nFeatures: F, nOutputs: 1, trees: [leaf, deepChain(COMPLETE_MAX_DEPTH + 5)] }]);
  for (const [what, forest] of forests) {
    const wasm = compileForest(forest);
    const js = compileForest(forest, { wasm: false });
    assert.equal(wasm.layout.kind, 'sparse', what);
    assert.ok(wasm.layout.wasm !== undefined && js.layout.wasm === undefined, `${what}: wasm walker built, and not with { wasm: false }`);
    const w = predictCompiled(wasm, X, n);
    assert.deepEqual(Array.from(w), Array.from(predictCompiled(js, X, n)), `${what}: wasm and JS walkers`);
    assertSame(w, predictForest(forest, X, n), `${what}: wasm vs trained trees`);
    for (const m of [8, 13]) assertSame(predictCompiled(wasm, X.subarray(0, m * F), m), w.subarray(0, m * forest.nOutputs), `${what}, ${m} rows`);
  }
});

test('classification (3 classes) and leaf-quantile (2 outputs) forests: every output the same', () => {
  const clf = fitForest(train.X, 3000, F, { kind: 'classification', y: train.label, nClasses: 3 }, { ...base, nEstimators: 20, maxDepth: 8, minSamplesLeaf: 1, maxFeatures: 4 });
  assertSame(predictCompiled(compileForest(clf), Xtest, 1500), predictForest(clf, Xtest, 1500), 'classifier');
  for (let at = 0; at < 30; at++) assertSame(predictCompiled(compileForest(clf), Xtest.subarray(at * F, (at + 1) * F), 1), predictForest(clf, Xtest.subarray(at * F, (at + 1) * F), 1), `classifier, row ${at} alone`);
  const deepClf = fitForest(train.X, 3000, F, { kind: 'classification', y: train.label, nClasses: 3 }, { ...base, nEstimators: 10, maxDepth: 0, minSamplesLeaf: 1, maxFeatures: 4 });
  assertSame(predictCompiled(compileForest(deepClf), Xtest, 1500), predictForest(deepClf, Xtest, 1500), 'unlimited classifier');
  const q = fitForest(train.X, 3000, F, { kind: 'regression', y: train.y }, { ...base, nEstimators: 15, maxDepth: 0, leafQuantiles: [0.1] });
  assert.equal(q.nOutputs, 2);
  assertSame(predictCompiled(compileForest(q), Xtest, 1500), predictForest(q, Xtest, 1500), 'leaf quantiles');
});

test('missing values go right like the trained trees; a single-leaf tree and depth-1 stumps work in both layouts', () => {
  const forest = fitForest(train.X, 3000, F, { kind: 'regression', y: train.y }, { ...base, nEstimators: 12, maxDepth: 6 });
  const X = Xtest.slice();
  const rng = mulberry32(5);
  for (let i = 0; i < X.length; i++) if (rng() < 0.2) X[i] = Number.NaN;
  const old = predictForest(forest, X, 1500);
  assertSame(predictCompiled(compileForest(forest), X, 1500), old, 'NaN inputs');
  // the routing is really exercised: an all-NaN row lands on the all-right path of each tree
  const allNaN = new Float32Array(F).fill(Number.NaN);
  let expected = 0;
  for (const t of forest.trees) {
    let i = 0;
    while (t.left[i]! >= 0) i = t.right[i]!;
    expected += t.value[i]!;
  }
  assert.equal(predictCompiled(compileForest(forest), allNaN, 1)[0], expected * (1 / forest.trees.length));

  // hand-built trees: a lone leaf, a stump on feature 3, and a stump whose right child is deep
  const leaf = { feature: Int32Array.of(-1), threshold: Float32Array.of(0), left: Int32Array.of(-1), right: Int32Array.of(-1), value: Float32Array.of(2.5) };
  const stump = { feature: Int32Array.of(3, -1, -1), threshold: Float32Array.of(0.5), left: Int32Array.of(1, -1, -1), right: Int32Array.of(2, -1, -1), value: Float32Array.of(0, -1, 1) };
  const chain = deepChain(COMPLETE_MAX_DEPTH + 3);
  const small: Forest = { kind: 'regression', nFeatures: F, nOutputs: 1, trees: [leaf, stump] };
  const deep: Forest = { kind: 'regression', nFeatures: F, nOutputs: 1, trees: [leaf, stump, chain] };
  assert.equal(compileForest(small).layout.kind, 'complete');
  assert.equal(compileForest(deep).layout.kind, 'sparse');
  for (const f of [small, deep]) assertSame(predictCompiled(compileForest(f), X, 1500), predictForest(f, X, 1500), `hand-built ${f.trees.length} trees`);
  const one: Forest = { kind: 'regression', nFeatures: F, nOutputs: 1, trees: [leaf] };
  assert.deepEqual(Array.from(predictCompiled(compileForest(one), X, 3)), [2.5, 2.5, 2.5]);
  assert.throws(() => compileForest({ ...one, trees: [] }), /no trees/);
  assert.throws(() => predictCompiled(compileForest(one), new Float32Array(F), 2), /expected 2 rows x 20 features/);
});

/** A tree that splits feature (k mod F) at 0.5 down a right-leaning chain of `depth` splits. */
function deepChain(depth: number): Forest['trees'][number] {
  const feature: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const threshold: number[] = [];
  const value: number[] = [];
  let next = 0;
  const add = (f: number, v: number) => {
    feature.push(f);
    left.push(-1);
    right.push(-1);
    threshold.push(0.5);
    value.push(v);
    return next++;
  };
  let node = add(0, 0);
  for (let k = 0; k < depth; k++) {
    const l = add(-1, k);
    const r = add(k < depth - 1 ? (k + 1) % F : -1, -k);
    left[node] = l;
    right[node] = r;
    node = r;
  }
  left[node] = -1;
  feature[node] = -1;
  return { feature: Int32Array.from(feature), threshold: Float32Array.from(threshold), left: Int32Array.from(left), right: Int32Array.from(right), value: Float32Array.from(value) };
}

test('built-in packages serve the compiled forest: same predictions as the trained trees (regression, labels, probabilities, energy)', async (t) => {
  const s = await scratch();
  t.after(s.cleanup);
  const table = syntheticTable(3000, 31);
  const probe = syntheticTable(700, 32);
  const X = featureMatrix(probe, features, { layout: 'row', allowMissing: false, what: 'test' });

  const rctx = await trainContext(s.base, { train: table.select([...features, 'y']) }, { target: 'y', features, n_estimators: 20, max_depth: 10, seed: 3 }, 'reg');
  await reg.train(rctx as never);
  const rm = await regPredict.load(rctx.modelDir, {} as ModelManifest);
  assert.ok(rm.engine !== undefined, 'the load-time calibration ran');
  assert.equal(rm.engine.rows, 1000);
  const rOld = predictForest(rm.forest, X, 700);
  const rNew = Float64Array.from((await regPredict.predict(rm, probe, {})) as number[]);
  if (rm.engine.engine === 'js') assertSame(rNew, rOld, 'random-forest-regression');
  assertSame(Float64Array.from((await regPredict.predictMatrix!(withJs(rm), Float64Array.from(X), 700, {})) as Float64Array), rOld, 'regression predictMatrix');

  const cctx = await trainContext(s.base, { train: table.select([...features, 'label']) }, { target: 'label', features, n_estimators: 20, seed: 3 }, 'cls');
  await cls.train(cctx as never);
  const cm = withJs(await clsPredict.load(cctx.modelDir, {} as ModelManifest));
  const cOld = predictForest(cm.forest, X, 700);
  const probs = (await clsPredict.predict(cm, probe, { output: 'probabilities' })) as Record<string, number | string>[];
  const classes = ['high', 'low', 'normal'];
  const cNew = new Float64Array(700 * 3);
  probs.forEach((p, r) => classes.forEach((c, k) => (cNew[r * 3 + k] = p[c] as number)));
  assertSame(cNew, cOld, 'classification probabilities');
  const labels = (await clsPredict.predict(cm, probe, {})) as string[];
  labels.forEach((l, r) => {
    const row = Array.from(cOld.subarray(r * 3, r * 3 + 3));
    assert.equal(l, classes[row.indexOf(Math.max(...row))]);
  });

  const hourly = plantHours(60 * 24);
  const ectx = await trainContext(s.base, { train: hourly }, { target: 'kwh', timezone: 'Europe/Berlin', drivers: ['production_t'], n_estimators: 20 }, 'energy');
  await energy.train(ectx as never);
  const em = await energyPredict.load(ectx.modelDir, {} as ModelManifest);
  const eOld = predictForest(em.forest, energyMatrix(em.meta, hourly, 'test'), hourly.numRows());
  const ePreds = (await energyPredict.predict(em, hourly, {})) as { expected: number; best: number }[];
  assertSame(Float64Array.from(ePreds, (p) => p.expected), Float64Array.from({ length: hourly.numRows() }, (_, r) => eOld[r * 2]!), 'energy expected');
  assertSame(Float64Array.from(ePreds, (p) => p.best), Float64Array.from({ length: hourly.numRows() }, (_, r) => Math.min(eOld[r * 2 + 1]!, eOld[r * 2]!)), 'energy best');
});

/** The model with the JS engine forced (the equality checks are about the compiled forest). */
function withJs<M extends { onnx?: unknown }>(m: M): M {
  return { ...m, onnx: undefined };
}

/** Hourly plant consumption with a production driver (a smaller copy of energy.test.ts's plant). */
function plantHours(hours: number): aq.ColumnTable {
  const rng = mulberry32(9);
  const start = Date.UTC(2024, 0, 1) - 3_600_000;
  const ts: number[] = [];
  const production: number[] = [];
  const kwh: number[] = [];
  for (let i = 0; i < hours; i++) {
    const h = (i + 1) % 24;
    const working = h >= 6 && h < 22 && Math.floor(i / 24) % 7 < 5;
    const tonnes = working ? 10 * (0.9 + 0.2 * rng()) : 0;
    ts.push(start + i * 3_600_000);
    production.push(Math.round(tonnes * 100) / 100);
    kwh.push(120 + 55 * tonnes + 20 * rng());
  }
  return aq.table({ ts, production_t: production, kwh });
}

test('ONNX engine: the exported forest predicts within float32 rounding of the compiled one, and the calibration picks and logs an engine', async (t) => {
  const s = await scratch();
  t.after(s.cleanup);
  const table = syntheticTable(3000, 41);
  await mkdir(join(s.base, 'input', 'data', 'train'), { recursive: true });
  await writeFile(join(s.base, 'input', 'data', 'train', 'train.csv'), table.select([...features, 'y']).toCSV());
  const hyperparameters = { target: 'y', features: JSON.stringify(features), n_estimators: '20', max_depth: '10', seed: '3' };
  const { modelDir } = await trainPackage({ package: 'random-forest-regression', base: s.base, name: 'fast', hyperparameters });
  const model = await loadModel(modelDir);
  const engine = (model.notes?.forestEngine ?? {}) as { engine?: string; jsRowsPerSecond?: number; onnxRowsPerSecond?: number; maxDifference?: number };
  assert.ok(engine.engine === 'js' || engine.engine === 'onnx', `engine noted: ${JSON.stringify(model.notes)}`);
  assert.ok(engine.jsRowsPerSecond! > 0 && engine.onnxRowsPerSecond! > 0, 'both paths were timed (model.onnx is exported by default)');
  t.diagnostic(`calibration: ${JSON.stringify(engine)}`);
  assert.ok(model.predictMatrix !== undefined, 'numeric forests offer the matrix fast path');

  const loaded = await regPredict.load(modelDir, { baseline: [] } as unknown as ModelManifest);
  const compiled = loaded.compiled!;
  const X = calibrationRows(compiled, features, undefined, 2000, 7);
  const js = predictCompiled(compiled, X, 2000);
  const { choice, onnx } = await chooseForestEngine(compiled, modelDir, features, undefined);
  const session = onnx ?? { session: (await openOnnx(join(modelDir, 'model.onnx'), features)).session, input: 'input', output: 'variable' };
  const o = await predictOnnxForest(session, X, 2000, F);
  let max = 0;
  let scale = 0;
  for (let i = 0; i < js.length; i++) {
    max = Math.max(max, Math.abs(o[i]! - js[i]!));
    scale = Math.max(scale, Math.abs(js[i]!));
  }
  // identical splits (float32 inputs and thresholds, x <= t); onnxruntime sums 20 leaves in float32
  assert.ok(max <= 20 * 2 ** -24 * scale * 4, `max |onnx - js| ${max} (scale ${scale})`);
  assert.ok(choice.maxDifference! <= 20 * 2 ** -24 * scale * 4);
  await session.session.release();
});
