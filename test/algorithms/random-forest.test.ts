import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as aq from 'arquero';
import * as ort from 'onnxruntime-node';
import * as reg from '../../lib/algorithms/random-forest-regression/train.ts';
import * as regPredict from '../../lib/algorithms/random-forest-regression/predict.ts';
import * as cls from '../../lib/algorithms/random-forest-classification/train.ts';
import * as clsPredict from '../../lib/algorithms/random-forest-classification/predict.ts';
import type { ModelManifest } from '../../lib/model/contract.ts';
import { MillwrightError } from '../../lib/errors/index.ts';
import { synthetic, syntheticTable } from './fixtures.ts';
import { scratch, trainContext } from './context.ts';
import { onnxCheck } from './onnx-helpers.ts';

const manifest = {} as ModelManifest; // load() of the forests reads only its own files


function matrix(table: aq.ColumnTable, names: string[]): Float32Array {
  const n = table.numRows();
  const X = new Float32Array(n * names.length);
  names.forEach((name, f) => {
    const col = table.array(name) as ArrayLike<number>;
    for (let r = 0; r < n; r++) X[r * names.length + f] = col[r]!;
  });
  return X;
}

const train = syntheticTable(4000, 11);
const test_ = syntheticTable(1000, 12);
const features = synthetic(1, 1).names;

test('regression forest learns the process, is deterministic per seed, and agrees with its ONNX export', async (t) => {
  const s = await scratch();
  t.after(s.cleanup);
  const hp = { target: 'y', features, n_estimators: 30, seed: 7 };
  const ctx = await trainContext(s.base, { train: train.select([...features, 'y']) }, hp);
  const out = await reg.train(ctx as never);
  assert.equal(out.task, 'regression');
  assert.deepEqual(out.features.map((f) => f.name), features);
  assert.ok(out.metrics.holdout !== undefined);
  assert.ok(out.metrics.holdout.r2! > 0.8, `holdout r2 ${out.metrics.holdout.r2}`);

  const model = await regPredict.load(ctx.modelDir, manifest);
  const preds = (await regPredict.predict(model, test_, {})) as number[];
  const y = test_.array('y') as Float64Array;
  let sse = 0;
  let sst = 0;
  const mean = y.reduce((a, b) => a + b, 0) / y.length;
  for (let i = 0; i < y.length; i++) {
    sse += (y[i]! - preds[i]!) ** 2;
    sst += (y[i]! - mean) ** 2;
  }
  assert.ok(1 - sse / sst > 0.8, `test r2 ${1 - sse / sst}`);

  // same seed, same data -> byte-identical forest; another seed -> a different one
  const again = await trainContext(s.base, { train: train.select([...features, 'y']) }, hp, 'again');
  await reg.train(again as never);
  assert.ok((await readFile(join(ctx.modelDir, 'forest.bin'))).equals(await readFile(join(again.modelDir, 'forest.bin'))));
  const other = await trainContext(s.base, { train: train.select([...features, 'y']) }, { ...hp, seed: 8 }, 'other');
  await reg.train(other as never);
  assert.ok(!(await readFile(join(ctx.modelDir, 'forest.bin'))).equals(await readFile(join(other.modelDir, 'forest.bin'))));

  // ONNX: the checker accepts it and onnxruntime gives the same predictions
  const onnxFile = join(ctx.modelDir, 'model.onnx');
  const check = onnxCheck(onnxFile);
  assert.ok(check.ok, check.output);
  const session = await ort.InferenceSession.create(onnxFile);
  const res = await session.run({ input: new ort.Tensor('float32', matrix(test_, features), [test_.numRows(), features.length]) });
  const onnxPreds = res.variable!.data as Float32Array;
  assert.equal(onnxPreds.length, preds.length);
  // Splits are identical (float32 inputs, float32 thresholds, both `x <= t`), so only the sum of 30
  // float32 leaf values differs (onnxruntime accumulates in float32): bound ~ trees * 2^-24 * |y|.
  const scale = Math.max(...Array.from(y, Math.abs));
  let maxDiff = 0;
  for (let i = 0; i < preds.length; i++) maxDiff = Math.max(maxDiff, Math.abs(onnxPreds[i]! - preds[i]!));
  assert.ok(maxDiff <= 30 * 2 ** -24 * scale * 4, `max |onnx - js| = ${maxDiff}`);
});

test('classification forest predicts labels and probabilities, and its ONNX export agrees', async (t) => {
  const s = await scratch();
  t.after(s.cleanup);
  const ctx = await trainContext(
    s.base,
    { train: train.select([...features, 'label']), validation: test_.select([...features, 'label']) },
    { target: 'label', n_estimators: 40, seed: 3 },
  );
  const out = await cls.train(ctx as never);
  assert.deepEqual(out.target?.classes, ['high', 'low', 'normal']);
  assert.ok(out.metrics.holdout!.accuracy! > 0.75, `holdout accuracy ${out.metrics.holdout!.accuracy}`);
  // default features: every numeric column except the target
  assert.deepEqual(out.features.map((f) => f.name), features);

  const model = await clsPredict.load(ctx.modelDir, manifest);
  const labels = (await clsPredict.predict(model, test_, {})) as string[];
  const probs = (await clsPredict.predict(model, test_, { output: 'probabilities' })) as Record<string, number>[];
  assert.equal(probs[0]!.label, labels[0]);
  for (const p of probs.slice(0, 50)) assert.ok(Math.abs(p.high! + p.low! + p.normal! - 1) < 1e-6);

  const onnxFile = join(ctx.modelDir, 'model.onnx');
  const check = onnxCheck(onnxFile);
  assert.ok(check.ok, check.output);
  const session = await ort.InferenceSession.create(onnxFile);
  const res = await session.run({ input: new ort.Tensor('float32', matrix(test_, features), [test_.numRows(), features.length]) });
  const onnxLabels = res.label!.data as string[];
  const onnxProbs = res.probabilities!.data as Float32Array;
  let maxDiff = 0;
  let labelDiff = 0;
  for (let i = 0; i < labels.length; i++) {
    ['high', 'low', 'normal'].forEach((c, k) => (maxDiff = Math.max(maxDiff, Math.abs(onnxProbs[i * 3 + k]! - probs[i]![c]!))));
    if (onnxLabels[i] !== labels[i]) labelDiff++;
  }
  assert.ok(maxDiff < 1e-5, `max probability difference ${maxDiff}`);
  // a label may only differ on an exact probability tie, which float32 sums may break differently
  assert.ok(labelDiff <= 2, `${labelDiff} labels differ`);
});

test('bad input gives clear errors', async (t) => {
  const s = await scratch();
  t.after(s.cleanup);
  const data = train.slice(0, 200).select([...features, 'y']);
  const expectErr = async (hp: Record<string, unknown>, tables: Record<string, aq.ColumnTable>, re: RegExp): Promise<void> => {
    const ctx = await trainContext(s.base, tables, hp, `m${Math.random().toString(36).slice(2)}`);
    await assert.rejects(reg.train(ctx as never), (err: unknown) => {
      assert.ok(err instanceof MillwrightError, String(err));
      assert.equal(err.code, 'BAD_INPUT');
      assert.match(err.message, re);
      return true;
    });
  };
  await expectErr({ target: 'y', n_estimators: 'many' }, { train: data }, /n_estimators.*"many".*integer/);
  await expectErr({ target: 'y', max_features: 'most' }, { train: data }, /max_features/);
  await expectErr({ target: 'y' }, { validation: data }, /missing input channel "train"/);
  await expectErr({ target: 'nope' }, { train: data }, /missing column.*"nope"/);
  await expectErr({}, { train: data }, /"target" is required/);
  const nanCol = data.derive({ x0: () => NaN });
  await expectErr({ target: 'y', features: ['x0', 'x1'] }, { train: nanCol }, /feature "x0" has 200 of 200 rows that are not finite/);
  const text = data.derive({ x1: (d: { x1: number }) => (d.x1 > 0.5 ? 'hi' : 'lo') });
  await expectErr({ target: 'y', features: ['x0', 'x1'] }, { train: text }, /feature "x1"/);
  const empty = data.filter(() => false);
  await expectErr({ target: 'y' }, { train: empty }, /no rows|missing column/);

  // prediction input: missing feature column
  const ctx = await trainContext(s.base, { train: data }, { target: 'y', n_estimators: 3 }, 'ok');
  await reg.train(ctx as never);
  const model = await regPredict.load(ctx.modelDir, manifest);
  assert.throws(() => regPredict.predict(model, aq.table({ x0: [1] }), {}), /missing column/);
});

test('binary classification exports to ONNX with both class probabilities', async (t) => {
  const s = await scratch();
  t.after(s.cleanup);
  const data = train.slice(0, 1500).derive({ fault: (d: { y: number }) => (d.y > 16 ? 'yes' : 'no') }).select([...features.slice(0, 5), 'fault']);
  const ctx = await trainContext(s.base, { train: data }, { target: 'fault', n_estimators: 15, seed: 2 });
  await cls.train(ctx as never);
  const model = await clsPredict.load(ctx.modelDir, manifest);
  const probe = test_.slice(0, 300);
  const probs = (await clsPredict.predict(model, probe, { output: 'probabilities' })) as Record<string, number | string>[];
  const onnxFile = join(ctx.modelDir, 'model.onnx');
  assert.ok(onnxCheck(onnxFile).ok);
  const session = await ort.InferenceSession.create(onnxFile);
  const res = await session.run({ input: new ort.Tensor('float32', matrix(probe, features.slice(0, 5)), [300, 5]) });
  const p = res.probabilities!.data as Float32Array;
  const labels = res.label!.data as string[];
  assert.deepEqual(res.probabilities!.dims, [300, 2]);
  let mismatched = 0;
  for (let i = 0; i < 300; i++) {
    assert.ok(Math.abs(p[i * 2]! - (probs[i]!.no as number)) < 1e-5, `row ${i} p(no) ${p[i * 2]} vs ${probs[i]!.no}`);
    assert.ok(Math.abs(p[i * 2 + 1]! - (probs[i]!.yes as number)) < 1e-5);
    if (labels[i] !== probs[i]!.label) mismatched++;
  }
  assert.ok(mismatched <= 2, `${mismatched} labels differ`);
});
