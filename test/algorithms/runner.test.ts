/**
 * Each built-in through the model helper's real runner: hyperparameters as strings in
 * `<base>/input/config/hyperparameters.json`, CSV channels, verified artifact, loadModel, predict.
 * (The full plant -> store -> registry flow is lib/model's end-to-end test.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as aq from 'arquero';
import { loadModel, trainPackage, listBuiltinAlgorithms } from '../../lib/model/index.ts';
import { synthetic } from './fixtures.ts';
import { scratch } from './context.ts';

async function base(root: string, name: string, hp: Record<string, string>, channels: Record<string, aq.ColumnTable>): Promise<string> {
  const b = join(root, name);
  await mkdir(join(b, 'input', 'config'), { recursive: true });
  await writeFile(join(b, 'input', 'config', 'hyperparameters.json'), JSON.stringify(hp));
  for (const [ch, table] of Object.entries(channels)) {
    await mkdir(join(b, 'input', 'data', ch), { recursive: true });
    await writeFile(join(b, 'input', 'data', ch, `${ch}.csv`), table.toCSV());
  }
  return b;
}

/** Equal to 1e-9 (room for float summation order, none for a different model). */
function near(actual: number[], expected: number[]): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) < 1e-9, `[${i}]: ${a} != ${expected[i]}`));
}

test('every built-in trains and serves through the runner', async (t) => {
  const s = await scratch();
  t.after(s.cleanup);
  assert.deepEqual(listBuiltinAlgorithms(), ['energy-load-curve', 'onnx', 'random-forest-classification', 'random-forest-regression', 'threshold']);
  const d = synthetic(1500, 4);
  const cols: Record<string, ArrayLike<unknown>> = { ts: Float64Array.from({ length: 1500 }, (_, i) => Date.UTC(2024, 0, 1) + i * 3_600_000) };
  d.names.slice(0, 5).forEach((n, f) => (cols[n] = d.columns[f]!));
  cols.y = d.y;
  cols.label = d.label;
  const table = aq.table(cols);
  const probe = table.slice(0, 5);

  const rfBase = await base(s.base, 'rf', { target: 'y', n_estimators: '20', features: '["x0","x1","x2","x3","x4"]' }, { train: table });
  const rf = await trainPackage({ package: 'random-forest-regression', base: rfBase });
  assert.ok(rf.manifest.metrics.holdout!.r2! > 0.7);
  assert.ok(Object.keys(rf.manifest.files).includes('model.onnx'));
  const rfPreds = await (await loadModel(rf.modelDir)).predict(probe);
  // Training is seeded, so the predictions are exact: a change here is a change in the forest.
  near(rfPreds as number[], [11.204067897796632, 9.700122737884522, 12.519622373580933, 15.872635126113892, 19.327524662017822]);

  const clsBase = await base(s.base, 'cls', { target: 'label', n_estimators: '20', features: '["x0","x1","x2","x3","x4"]' }, { train: table });
  const cls = await trainPackage({ package: 'random-forest-classification', base: clsBase });
  assert.deepEqual(await (await loadModel(cls.modelDir)).predict(probe), ['low', 'low', 'normal', 'normal', 'high']);
  assert.deepEqual(probe.array('label'), ['low', 'low', 'normal', 'normal', 'high'], 'the probe rows are classified right');

  const thBase = await base(s.base, 'th', { signals: '["x0","x1"]', method: 'quantile', quantiles: '[0.01, 0.99]' }, { train: table });
  const th = await trainPackage({ package: 'threshold', base: thBase });
  const alarm = await (await loadModel(th.modelDir)).predict(aq.table({ x0: [0.5, 3], x1: [0.5, 0.5] }));
  assert.deepEqual(alarm.map((a) => (a as { alarm: number }).alarm), [0, 1]);

  const enBase = await base(s.base, 'en', { target: 'y', drivers: '["x3"]', n_estimators: '20', timezone: 'Europe/Berlin' }, { train: table });
  const en = await trainPackage({ package: 'energy-load-curve', base: enBase });
  assert.equal(en.manifest.task, 'energy');
  const curve = (await (await loadModel(en.modelDir)).predict(probe)) as { expected: number; best: number }[];
  near(curve.map((c) => c.expected), [8.928882336616516, 14.057272624969483, 14.108702993392946, 11.437228059768678, 21.203755378723145]);
  near(curve.map((c) => c.best), [5.201039016246796, 9.755637335777283, 11.336381435394287, 7.504653263092042, 17.683173751831056]);
  assert.ok(curve.every((c) => c.best <= c.expected), 'best case never above expected');

  const onnxBase = await base(s.base, 'onnx', { task: 'regression' }, {});
  await mkdir(join(onnxBase, 'input', 'data', 'model'), { recursive: true });
  await writeFile(join(onnxBase, 'input', 'data', 'model', 'rf.onnx'), await readFile(join(rf.modelDir, 'model.onnx')));
  const ox = await trainPackage({ package: 'onnx', base: onnxBase });
  assert.deepEqual((await readdir(ox.modelDir)).sort(), ['model.json', 'model.onnx', 'onnx.json']);
  const oxPreds = (await (await loadModel(ox.modelDir)).predict(probe)) as number[];
  oxPreds.forEach((p, i) => assert.ok(Math.abs(p - (rfPreds[i] as number)) < 1e-4));

  // a bad hyperparameter fails the run with a clear reason and leaves no model
  const badBase = await base(s.base, 'bad', { target: 'y', n_estimators: 'lots' }, { train: table });
  await assert.rejects(trainPackage({ package: 'random-forest-regression', base: badBase }), /n_estimators/);
  assert.match(await readFile(join(badBase, 'output', 'failure'), 'utf8'), /n_estimators/);
});
