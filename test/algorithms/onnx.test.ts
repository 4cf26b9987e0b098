import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as aq from 'arquero';
import onnxProto from 'onnx-proto';
import * as rf from '../../lib/algorithms/random-forest-regression/train.ts';
import * as rfPredict from '../../lib/algorithms/random-forest-regression/predict.ts';
import * as rfc from '../../lib/algorithms/random-forest-classification/train.ts';
import * as onnxTrain from '../../lib/algorithms/onnx/train.ts';
import * as onnxPredict from '../../lib/algorithms/onnx/predict.ts';
import type { ModelManifest } from '../../lib/model/contract.ts';
import { synthetic, syntheticTable } from './fixtures.ts';
import { csvChannel, scratch, testLogger, trainContext } from './context.ts';
import { onnxCheck } from './onnx-helpers.ts';

const manifest = {} as ModelManifest;


async function importOnnx(base: string, name: string, file: string, hp: Record<string, unknown>) {
  const modelChannel = join(base, name, 'input', 'data', 'model');
  await mkdir(modelChannel, { recursive: true });
  await copyFile(file, join(modelChannel, 'exported.onnx'));
  const modelDir = join(base, name, 'model');
  await mkdir(modelDir, { recursive: true });
  const ctx = { hyperparameters: hp, channels: { model: await csvChannel('model', modelChannel) }, modelDir, log: testLogger() };
  const out = await onnxTrain.train(ctx as never);
  return { out, model: await onnxPredict.load(modelDir, manifest) };
}

test('the onnx built-in serves an exported forest with the feature order from its metadata', async (t) => {
  const s = await scratch();
  t.after(s.cleanup);
  const data = syntheticTable(2000, 21);
  const probe = syntheticTable(300, 22).select(['noise3', 'x4', 'x0', 'x1', 'x2', 'x3', ...synthetic(1).names.slice(5)]); // column order differs
  const ctx = await trainContext(s.base, { train: data.select([...synthetic(1).names, 'y']) }, { target: 'y', n_estimators: 20 }, 'rf');
  await rf.train(ctx as never);
  const { out, model } = await importOnnx(s.base, 'imported', join(ctx.modelDir, 'model.onnx'), {});
  assert.deepEqual(out.features.map((f) => f.name), synthetic(1).names);
  const viaOnnx = (await onnxPredict.predict(model, probe, {})) as number[];
  const viaJs = (await rfPredict.predict(await rfPredict.load(ctx.modelDir, manifest), probe, {})) as number[];
  assert.equal(viaOnnx.length, 300);
  for (let i = 0; i < 300; i++) assert.ok(Math.abs(viaOnnx[i]! - viaJs[i]!) < 1e-4, `row ${i}: ${viaOnnx[i]} vs ${viaJs[i]}`);
  await model.session.release();
});

test('the onnx built-in returns labels and probabilities of an exported classifier', async (t) => {
  const s = await scratch();
  t.after(s.cleanup);
  const data = syntheticTable(2000, 23);
  const ctx = await trainContext(s.base, { train: data.select([...synthetic(1).names, 'label']) }, { target: 'label', n_estimators: 20 }, 'rf');
  await rfc.train(ctx as never);
  const { model } = await importOnnx(s.base, 'imported', join(ctx.modelDir, 'model.onnx'), { task: 'classification' });
  const probe = syntheticTable(50, 24);
  const labels = (await onnxPredict.predict(model, probe, {})) as string[];
  assert.ok(labels.every((l) => ['low', 'normal', 'high'].includes(l)));
  const probs = (await onnxPredict.predict(model, probe, { output: 'probabilities' })) as Record<string, number>[];
  assert.ok(Math.abs(probs[0]!.low! + probs[0]!.normal! + probs[0]!.high! - 1) < 1e-5);
  await model.session.release();
});

test('one input per column, and a clear error when a matrix model names no features', async (t) => {
  const s = await scratch();
  t.after(s.cleanup);
  const { onnx } = onnxProto;
  const f = onnx.TensorProto.DataType.FLOAT;
  const col = (name: string) => ({ name, type: { tensorType: { elemType: f, shape: { dim: [{ dimParam: 'N' }, { dimValue: 1 }] } } } });
  const bytes = onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 15 }],
      graph: { name: 'power', node: [{ opType: 'Mul', input: ['volts', 'amps'], output: ['watts'] }], input: [col('volts'), col('amps')], output: [col('watts')] },
    }),
  ).finish();
  const file = join(s.base, 'power.onnx');
  await writeFile(file, bytes);
  assert.ok(onnxCheck(file).ok);
  const { out, model } = await importOnnx(s.base, 'power', file, { target: 'watts' });
  assert.deepEqual(out.features.map((x) => x.name), ['volts', 'amps']);
  assert.deepEqual(await onnxPredict.predict(model, aq.table({ amps: [2, 0.5], volts: [230, 400] }), {}), [460, 200]);
  await model.session.release();

  // a [N, 3] matrix input without feature names
  const matrix = onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 15 }],
      graph: {
        name: 'sum',
        node: [{ opType: 'ReduceSum', input: ['x'], output: ['s'], attribute: [{ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] }],
        input: [{ name: 'x', type: { tensorType: { elemType: f, shape: { dim: [{ dimParam: 'N' }, { dimValue: 3 }] } } } }],
        output: [{ name: 's', type: { tensorType: { elemType: f, shape: { dim: [{ dimParam: 'N' }, { dimValue: 1 }] } } } }],
      },
    }),
  ).finish();
  const mfile = join(s.base, 'sum.onnx');
  await writeFile(mfile, matrix);
  await assert.rejects(importOnnx(s.base, 'sum', mfile, {}), /names no features; set the "features" hyperparameter/);
  await assert.rejects(importOnnx(s.base, 'sum2', mfile, { features: ['a', 'b'] }), /2 feature names for an input of width 3/);
  const ok = await importOnnx(s.base, 'sum3', mfile, { features: '["a", "b", "c"]' });
  assert.deepEqual(await onnxPredict.predict(ok.model, aq.table({ c: [1], b: [2], a: [3] }), {}), [6]);
  await ok.model.session.release();

  const junk = join(s.base, 'junk.onnx');
  await writeFile(junk, 'not a model');
  await assert.rejects(importOnnx(s.base, 'junk', junk, {}), /not an ONNX model|cannot load/);
});
