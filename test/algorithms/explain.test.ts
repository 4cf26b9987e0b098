import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as aq from 'arquero';
import * as energy from '../../lib/algorithms/energy-load-curve/train.ts';
import * as energyPredict from '../../lib/algorithms/energy-load-curve/predict.ts';
import * as cls from '../../lib/algorithms/random-forest-classification/train.ts';
import * as clsPredict from '../../lib/algorithms/random-forest-classification/predict.ts';
import { explainModel, globalAttribution } from '../../lib/algorithms/explain.ts';
import { mulberry32 } from '../../lib/algorithms/forest/rng.ts';
import type { LoadedModel, ModelManifest, TrainOutput } from '../../lib/model/contract.ts';
import { syntheticTable, synthetic } from './fixtures.ts';
import { scratch, trainContext } from './context.ts';

/** A LoadedModel over a package's own load/predict, as loadModel builds it from the manifest. */
async function loaded(algorithm: string, dir: string, out: TrainOutput, mod: { load: (d: string, m: ModelManifest) => Promise<unknown> | unknown; predict: (m: never, t: aq.ColumnTable, p: never) => unknown }): Promise<LoadedModel> {
  const manifest = { name: 'm', version: '1', algorithm, features: out.features } as unknown as ModelManifest;
  const model = await mod.load(dir, manifest);
  return { manifest, dir, predict: async (t) => mod.predict(model as never, t, { output: 'probabilities' } as never) as never };
}

test('classification forest package: one attribution set per class probability, each summing to that probability minus its base', async (t) => {
  const s = await scratch();
  t.after(s.cleanup);
  const features = synthetic(1, 1).names;
  const ctx = await trainContext(s.base, { train: syntheticTable(2000, 5).select([...features, 'label']) }, { target: 'label', features, n_estimators: 15, max_depth: 8, seed: 3 });
  const out = await cls.train(ctx as never);
  const model = await loaded('random-forest-classification', ctx.modelDir, out, clsPredict as never);
  const rows = syntheticTable(60, 6);
  const ex = await explainModel(model, rows);
  assert.deepEqual(ex.outputs, ['high', 'low', 'normal']);
  const probs = (await model.predict(rows)) as unknown as Record<string, number>[];
  const F = ex.features.length;
  for (let r = 0; r < 60; r++) {
    ex.outputs.forEach((c, k) => {
      let sum = ex.baseValue[k]!;
      for (let f = 0; f < F; f++) sum += ex.values[(r * F + f) * 3 + k]!;
      assert.ok(Math.abs(sum - probs[r]![c]!) <= 1e-9, `row ${r} class ${c}: ${sum} vs ${probs[r]![c]}`);
    });
  }
  // leaf class shares are float32, so they sum to 1 within float32 rounding
  assert.ok(Math.abs(ex.baseValue.reduce((a, b) => a + b, 0) - 1) < 1e-6, 'class bases sum to 1');
});

test('energy-load-curve: attributions per model input (calendar + drivers) sum to the expected curve minus its base; production drives it', async (t) => {
  const s = await scratch();
  t.after(s.cleanup);
  const rng = mulberry32(9);
  const start = Date.UTC(2024, 0, 1);
  const n = 24 * 60;
  const ts = Array.from({ length: n }, (_, i) => start + i * 3_600_000);
  const production = ts.map((x) => {
    const h = new Date(x).getUTCHours();
    return h >= 6 && h < 22 && new Date(x).getUTCDay() % 6 !== 0 ? Math.round(100 * (5 + 10 * rng())) / 100 : 0;
  });
  const kwh = production.map((p) => 100 + 50 * p + 10 * rng());
  const table = aq.table({ ts, production_t: production, kwh });
  const ctx = await trainContext(s.base, { train: table }, { target: 'kwh', drivers: ['production_t'], n_estimators: 20, holdout_fraction: 0 });
  const out = await energy.train(ctx as never);
  const model = await loaded('energy-load-curve', ctx.modelDir, out, energyPredict as never);
  const rows = table.slice(0, 200).reify();
  const ex = await explainModel(model, rows);
  assert.deepEqual(ex.outputs, ['expected']);
  assert.deepEqual(ex.features, ['hour', 'weekday', 'holiday', 'production_t']);
  const preds = (await model.predict(rows)) as unknown as { expected: number }[];
  for (let r = 0; r < 200; r++) {
    let sum = ex.baseValue[0]!;
    for (let f = 0; f < 4; f++) sum += ex.values[r * 4 + f]!;
    assert.ok(Math.abs(sum - preds[r]!.expected) <= 1e-9, `row ${r}: ${sum} vs ${preds[r]!.expected}`);
  }
  const g = globalAttribution(ex).expected!;
  assert.ok(g.production_t! > g.hour! && g.production_t! > g.weekday!, JSON.stringify(g));
});
