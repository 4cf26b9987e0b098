import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as aq from 'arquero';
import * as th from '../../lib/algorithms/threshold/train.ts';
import * as thPredict from '../../lib/algorithms/threshold/predict.ts';
import type { ModelManifest } from '../../lib/model/contract.ts';
import { mulberry32 } from '../../lib/algorithms/forest/rng.ts';
import { noRealData, realDataDir } from '../helpers/data.ts';
import { scratch, trainContext } from './context.ts';

const manifest = {} as ModelManifest;
type Out = { alarm: number; score: number | null; signal: string | null };

function plant(n: number, seed: number): aq.ColumnTable {
  const rng = mulberry32(seed);
  const g = () => (rng() + rng() + rng() + rng() - 2) * 1.7; // ~N(0, 1)
  const state: string[] = [];
  const temp: number[] = [];
  const current: number[] = [];
  for (let i = 0; i < n; i++) {
    const running = Math.floor(i / 50) % 2 === 0;
    state.push(running ? 'running' : 'idle');
    temp.push(running ? 80 + 2 * g() : 30 + 2 * g());
    current.push(running ? 12 + 0.5 * g() : 0.2 + 0.05 * g());
  }
  return aq.table({ ts: Float64Array.from({ length: n }, (_, i) => 1.7e12 + i * 60_000), state, temp, current });
}

test('threshold learns bands per operating state and scores rows', async (t) => {
  const s = await scratch();
  t.after(s.cleanup);
  const ctx = await trainContext(s.base, { train: plant(2000, 1) }, { k: 4, state: 'state' });
  const out = await th.train(ctx as never);
  assert.equal(out.task, 'anomaly');
  assert.deepEqual(out.features.map((f) => f.name), ['temp', 'current', 'state']);
  assert.ok(out.metrics.training.alarm_rate! < 0.01, `false alarm rate on healthy data ${out.metrics.training.alarm_rate}`);
  const model = await thPredict.load(ctx.modelDir, manifest);
  const probe = aq.table({ state: ['running', 'idle', 'running', 'idle', 'running'], temp: [80, 31, 31, 50, 81], current: [12, 0.2, 12, 0.2, 20] });
  const res = (await thPredict.predict(model, probe, {})) as Out[];
  assert.deepEqual(res.map((r) => r.alarm), [0, 0, 1, 1, 1]);
  assert.equal(res[2]!.signal, 'temp');
  assert.equal(res[4]!.signal, 'current');
  for (const r of res) assert.equal(r.alarm === 1, r.score! > 1, JSON.stringify(r));

  // without states, 31 degC while running hides inside one wide band
  const flat = await trainContext(s.base, { train: plant(2000, 1) }, { k: 4, signals: ['temp'] }, 'flat');
  await th.train(flat as never);
  const flatRes = (await thPredict.predict(await thPredict.load(flat.modelDir, manifest), probe, {})) as Out[];
  assert.equal(flatRes[2]!.alarm, 0);

  // quantile bands
  const qctx = await trainContext(s.base, { train: plant(2000, 2) }, { method: 'quantile', quantiles: [0.01, 0.99], state: 'state' }, 'q');
  const qout = await th.train(qctx as never);
  // each of 2 signals is outside its [1%, 99%] band 2% of the time: a row alarms ~1 - 0.98^2 = 4%
  assert.ok(Math.abs(qout.metrics.training.alarm_rate! - 0.0396) < 0.01, `quantile alarm rate ${qout.metrics.training.alarm_rate}`);
  const bands = JSON.parse(await readFile(join(qctx.modelDir, 'bands.json'), 'utf8')) as { bands: { signal: string; state: string; low: number }[] };
  assert.equal(bands.bands.length, 4);
});

test('threshold on long readings (store layout) with a label column', async (t) => {
  const s = await scratch();
  t.after(s.cleanup);
  const rng = mulberry32(5);
  const rows: { ts: number; asset: string; signal: string; value: number; fault: number }[] = [];
  for (let i = 0; i < 600; i++) {
    for (const asset of ['pump1', 'pump2']) {
      const fault = i % 97 === 0 ? 1 : 0;
      const base = asset === 'pump1' ? 50 : 70;
      rows.push({ ts: i * 1000, asset, signal: 'pressure', value: base + rng() * 2 + (fault ? 15 : 0), fault });
      rows.push({ ts: i * 1000, asset, signal: 'flow', value: 10 + rng(), fault: 0 });
    }
  }
  const table = aq.from(rows);
  const ctx = await trainContext(s.base, { train: table }, { label: 'fault', k: 3.5 });
  const out = await th.train(ctx as never);
  assert.equal(out.metrics.training.recall, 1);
  assert.ok(out.metrics.training.precision! > 0.5, `precision ${out.metrics.training.precision}`);
  const model = await thPredict.load(ctx.modelDir, manifest);
  assert.equal(model.layout, 'long');
  assert.equal(model.bands.length, 4); // 2 assets x 2 signals
  const res = (await thPredict.predict(model, aq.from([{ asset: 'pump2', signal: 'pressure', value: 55 }, { asset: 'pump1', signal: 'pressure', value: 51 }]), {})) as Out[];
  assert.deepEqual(res.map((r) => r.alarm), [1, 0]); // 55 is normal for pump1, not for pump2
});

test('threshold rejects bad input clearly', async (t) => {
  const s = await scratch();
  t.after(s.cleanup);
  await assert.rejects(th.train((await trainContext(s.base, { train: plant(100, 1) }, { method: 'median' }, 'a')) as never), /"method".*one of sigma, quantile/);
  await assert.rejects(th.train((await trainContext(s.base, { train: plant(100, 1) }, { quantiles: [0.9, 0.1] }, 'b')) as never), /quantiles/);
  await assert.rejects(th.train((await trainContext(s.base, { train: plant(100, 1) }, { state: 'mode' }, 'c')) as never), /missing column\(s\) mode/);
  await assert.rejects(th.train((await trainContext(s.base, { train: plant(10, 1) }, {}, 'd')) as never), /no signal has 30 or more/);
  const ctx = await trainContext(s.base, { train: plant(100, 1) }, {}, 'e');
  await th.train(ctx as never);
  const model = await thPredict.load(ctx.modelDir, manifest);
  assert.throws(() => thPredict.predict(model, aq.table({ temp: [1] }), {}), /missing column\(s\) current/);
});

test('threshold on SKAB valve1: alarms concentrate in the labelled anomalies', { skip: noRealData() }, async (t) => {
  const s = await scratch();
  t.after(s.cleanup);
  const dir = join(realDataDir()!, 'skab', 'data', 'valve1');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.csv')).sort();
  let alarmsInAnomaly = 0;
  let anomalies = 0;
  let alarmsInNormal = 0;
  let normals = 0;
  for (const f of files) {
    const table = aq.fromCSV(await readFile(join(dir, f), 'utf8'), { delimiter: ';' }).select(aq.not('datetime', 'changepoint'));
    const y = table.array('anomaly') as ArrayLike<number>;
    const firstAnomaly = Array.from(y).indexOf(1);
    // bands from the healthy start of each run (the plant's usual commissioning window)
    const ctx = await trainContext(s.base, { train: table.slice(0, Math.min(400, firstAnomaly)) }, { k: 4, label: 'anomaly' }, f);
    await th.train(ctx as never);
    const res = (await thPredict.predict(await thPredict.load(ctx.modelDir, manifest), table, {})) as Out[];
    res.forEach((r, i) => {
      if (y[i] === 1) {
        anomalies++;
        alarmsInAnomaly += r.alarm;
      } else {
        normals++;
        alarmsInNormal += r.alarm;
      }
    });
  }
  const recall = alarmsInAnomaly / anomalies;
  const falseAlarmRate = alarmsInNormal / normals;
  t.diagnostic(`SKAB valve1 (${files.length} runs): alarm rate in anomalies ${recall.toFixed(2)}, in normal rows ${falseAlarmRate.toFixed(2)}`);
  assert.ok(recall > 0.6, `recall ${recall}`);
  assert.ok(recall > 4 * falseAlarmRate, `recall ${recall} vs false alarm rate ${falseAlarmRate}`);
});
