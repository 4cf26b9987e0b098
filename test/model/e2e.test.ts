/**
 * End to end: synthetic plant (datasets' generator) -> store -> features -> train (random forest,
 * threshold, energy load curve) -> artifact -> registry (register, approve) -> load -> predict,
 * through the real store, feature library, built-in algorithm packages and registry.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { writePlant } from '../../datasets/index.ts';
import { scanTable, sql } from '../../lib/store/index.ts';
import { rollingFeatures } from '../../lib/features/index.ts';
import { trainPackage, registerModel, approveVersion, getDeployable, loadModel, verifyArtifact, type LoadedModel } from '../../lib/model/index.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Seed 7, one conveyor line, three weeks from Monday 2024-01-01: the line's motor degrades from
// 2024-01-15 and fails on 2024-01-19 (the generator's ground truth says exactly when).
const PLANT = { seed: 7, assets: 3, days: 21, faults: { failures: 1, stuck: 1, dropouts: 2, fanMounted: 0, waste: 0 } };

let dir: string;
let store: string;
let registry: string;

/**
 * Long readings -> one row per timestamp. `columns` maps output names to `field:asset:signal`
 * (field is `value` or a feature column such as `mean_20m`); rows missing any column (sensor
 * dropouts) are left out.
 */
function wide(long: ColumnTable, columns: Record<string, string>): ColumnTable {
  const ts = long.array('ts') as ArrayLike<number>;
  const asset = long.array('asset') as ArrayLike<string>;
  const sig = long.array('signal') as ArrayLike<string>;
  const rows = new Map<number, Record<string, number>>();
  const sources = Object.entries(columns).map(([out, spec]) => {
    const [field, a, s] = spec.split(':') as [string, string, string];
    return { out, key: `${a}\u0000${s}`, values: long.array(field) as ArrayLike<number> };
  });
  for (let i = 0; i < long.numRows(); i++) {
    const t = Number(ts[i]);
    let row = rows.get(t);
    if (!row) rows.set(t, (row = { ts: t }));
    const key = `${asset[i]}\u0000${sig[i]}`;
    for (const src of sources) if (key === src.key) row[src.out] = src.values[i]!;
  }
  const names = Object.keys(columns);
  const sorted = [...rows.values()].filter((r) => names.every((c) => Number.isFinite(r[c]))).sort((a, b) => a.ts! - b.ts!);
  return aq.from(sorted);
}

const between = (t: ColumnTable, from: number, to: number) => t.filter(aq.escape((r: { ts: number }) => r.ts >= from && r.ts < to)).reify();

async function channel(name: string, table: ColumnTable): Promise<string> {
  const d = join(dir, 'channels', name);
  await mkdir(d, { recursive: true });
  await writeFile(join(d, 'data.csv'), table.toCSV());
  return d;
}

async function deploy(group: string, modelDir: string): Promise<LoadedModel> {
  const { record } = await registerModel(modelDir, { group, registry });
  assert.equal(record.status, 'PendingManualApproval');
  await assert.rejects(getDeployable(group, { registry }), /no approved version/);
  await approveVersion(group, record.version, { registry });
  return loadModel((await getDeployable(group, { registry })).dir);
}

function r2(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < actual.length; i++) mean += actual[i]! / actual.length;
  let se = 0;
  let ss = 0;
  for (let i = 0; i < actual.length; i++) {
    se += (actual[i]! - predicted[i]!) ** 2;
    ss += (actual[i]! - mean) ** 2;
  }
  return 1 - se / ss;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'millwright-e2e-'));
  store = join(dir, 'store');
  registry = join(dir, 'registry');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('synthetic plant -> store -> features -> train -> registry -> load -> predict', async (t) => {
  // 1. Plant -> store.
  const { truth, readings } = await writePlant(store, PLANT);
  const site = truth.options.sites[0]!;
  const failure = truth.failures[0]!;
  assert.equal(failure.asset, 'line01-motor', 'seed 7 plants the failure on line01-motor; if the generator changed, pick a seed that does');
  const healthyEnd = failure.degradationStart - DAY; // training history ends here
  const diagnostics: string[] = [`${readings} readings`];

  // 2. Store -> features: the motor's minute readings with a 20-minute rolling mean of the current
  // (temperature follows load with a thermal lag) and the hour of day (ambient temperature).
  const motorLong = await scanTable({ root: store, sites: [site], assets: ['line01-motor'], signals: ['temperature', 'current', 'speed', 'vib_x_rms', 'vib_y_rms', 'vib_z_rms'] });
  const withRolling = rollingFeatures(motorLong, { window: '20m', stats: ['mean'] });
  const motor = wide(withRolling, {
    temperature: 'value:line01-motor:temperature',
    current: 'value:line01-motor:current',
    current_mean_20m: 'mean_20m:line01-motor:current',
    speed: 'value:line01-motor:speed',
    vib_x_rms: 'value:line01-motor:vib_x_rms',
    vib_y_rms: 'value:line01-motor:vib_y_rms',
    vib_z_rms: 'value:line01-motor:vib_z_rms',
  })
    .derive({ hour: aq.escape((r: { ts: number }) => new Date(r.ts).getUTCHours()), state: aq.escape((r: { speed: number }) => (r.speed > 0 ? 'running' : 'stopped')) })
    .reify();
  const history = between(motor, truth.options.from, healthyEnd);
  const unseenHealthy = between(motor, healthyEnd, failure.degradationStart);
  const lastHoursBeforeFailure = between(motor, failure.failure - 12 * HOUR, failure.failure).filter((r: { state: string }) => r.state === 'running').reify();
  assert.ok(unseenHealthy.numRows() > 1000 && lastHoursBeforeFailure.numRows() > 60);

  // Hourly production and energy straight from the store in SQL.
  const hourly = await sql(
    `SELECT (epoch_ms(ts) // ${HOUR}) * ${HOUR} AS ts,
            sum(value) FILTER (WHERE signal = 'production_units') AS production_units,
            sum(value) FILTER (WHERE signal = 'energy_kwh') AS energy_kwh
     FROM readings WHERE site = '${site}' AND asset IN ('plant', 'energy-meter') GROUP BY 1 ORDER BY 1`,
    { root: store, format: 'table' },
  );
  assert.equal(hourly.numRows(), 21 * 24);
  const lastTwoDays = truth.options.to - 2 * DAY;

  // 3. Train the three built-ins in the SageMaker layout.
  const rf = await trainPackage({
    package: 'random-forest-regression',
    base: join(dir, 'ml-rf'),
    name: 'motor-temperature',
    channels: { train: await channel('rf', history) },
    hyperparameters: { target: 'temperature', features: '["current","current_mean_20m","speed","hour"]', n_estimators: '30', max_samples: '0.3' },
  });
  const alarms = await trainPackage({
    package: 'threshold',
    base: join(dir, 'ml-threshold'),
    name: 'motor-vibration-alarm',
    channels: { train: await channel('threshold', history.select('ts', 'vib_x_rms', 'vib_y_rms', 'vib_z_rms', 'state')) },
    hyperparameters: { signals: '["vib_x_rms","vib_y_rms","vib_z_rms"]', state: 'state', k: '5' },
  });
  const curve = await trainPackage({
    package: 'energy-load-curve',
    base: join(dir, 'ml-energy'),
    name: 'site-energy',
    channels: { train: await channel('energy', between(hourly, truth.options.from, lastTwoDays)) },
    hyperparameters: { target: 'energy_kwh', drivers: '["production_units"]', n_estimators: '60' },
  });
  for (const { modelDir, manifest } of [rf, alarms, curve]) {
    await verifyArtifact(modelDir);
    for (const f of manifest.features) assert.ok(manifest.baseline.some((b) => b.name === f.name), `${manifest.name}: baseline of ${f.name}`);
    assert.ok(manifest.trainingData.rows > 0 && manifest.trainingData.from !== undefined, `${manifest.name} training data`);
  }
  assert.ok(rf.manifest.metrics.holdout!.r2! > 0.9, `rf holdout ${JSON.stringify(rf.manifest.metrics.holdout)}`);
  // Production volume is known on the synthetic plant: ASHRAE Guideline 14 (hourly CV(RMSE) <= 30 %, |NMBE| <= 10 %) holds.
  assert.equal(curve.manifest.metrics.holdout!.guideline14, 1, `energy holdout ${JSON.stringify(curve.manifest.metrics.holdout)}`);

  // 4. Registry: each model is its own group; nothing deploys before approval.
  const rfModel = await deploy('line01-motor-temperature', rf.modelDir);
  const alarmModel = await deploy('line01-motor-alarms', alarms.modelDir);
  const curveModel = await deploy('sorting-centre-1-energy', curve.modelDir);

  // 5. Predict on data no model saw.
  const temps = unseenHealthy.array('temperature') as ArrayLike<number>;
  const rfR2 = r2(temps, (await rfModel.predict(unseenHealthy)) as number[]);
  diagnostics.push(`rf: holdout r2 ${rf.manifest.metrics.holdout!.r2!.toFixed(4)}, unseen day r2 ${rfR2.toFixed(4)}`);
  assert.ok(rfR2 > 0.9, diagnostics.at(-1));

  const rate = async (table: ColumnTable) => ((await alarmModel.predict(table)) as { alarm: number }[]).reduce((s, p) => s + p.alarm, 0) / table.numRows();
  const falseAlarms = await rate(unseenHealthy);
  const detected = await rate(lastHoursBeforeFailure);
  diagnostics.push(`threshold: ${(100 * falseAlarms).toFixed(2)} % alarms on the healthy day, ${(100 * detected).toFixed(1)} % in the last 12 h before the failure`);
  assert.ok(falseAlarms < 0.01 && detected > 0.8, diagnostics.at(-1));

  const unseenHours = between(hourly, lastTwoDays, truth.options.to);
  const curvePred = (await curveModel.predict(unseenHours.select('ts', 'production_units'))) as { expected: number; best: number }[];
  assert.equal(curvePred.length, 48);
  for (const p of curvePred) assert.ok(p.best <= p.expected + 1e-9, 'the best-achievable curve is never above the expected one');
  const kwh = unseenHours.array('energy_kwh') as ArrayLike<number>;
  let se = 0;
  let sum = 0;
  for (let i = 0; i < 48; i++) {
    se += (kwh[i]! - curvePred[i]!.expected) ** 2;
    sum += kwh[i]!;
  }
  const cv = Math.sqrt(se / 48) / (sum / 48);
  diagnostics.push(`energy: holdout cv_rmse ${curve.manifest.metrics.holdout!.cv_rmse!.toFixed(2)} %, nmbe ${curve.manifest.metrics.holdout!.nmbe!.toFixed(2)} %; unseen weekend cv_rmse ${(100 * cv).toFixed(2)} %`);
  assert.ok(cv < 0.3, diagnostics.at(-1));
  t.diagnostic(diagnostics.join('; '));
});
