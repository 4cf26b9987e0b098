/**
 * End to end: synthetic plant -> store -> features -> train (random forest, threshold, energy
 * load curve) -> artifact -> registry (register, approve) -> load -> predict, through the real
 * store, feature library, built-in algorithm packages and registry.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { writeReadings, scanTable, sql } from '../../lib/store/index.ts';
import { rollingFeatures } from '../../lib/features/index.ts';
import { trainPackage, registerModel, approveVersion, getDeployable, loadModel, verifyArtifact } from '../../lib/model/index.ts';
import type { ReadingBatch } from '../../lib/readings/index.ts';

const SITE = 'plant-e2e';
const MIN = 60_000;
const HOUR = 3_600_000;
const DAYS = 18; // the last (unseen) day is a Thursday, with two shifts
const T0 = Date.UTC(2026, 0, 5); // a Monday
const FAULT_FROM = T0 + (DAYS - 1) * 86_400_000 + 10 * HOUR; // last day, 10:00-11:00: bearing fault
const FAULT_TO = FAULT_FROM + HOUR;

let dir: string;
let store: string;
let registry: string;

/**
 * A small sorting line, minute by minute: a conveyor motor (speed, current, temperature with a
 * 20-minute thermal lag, vibration with a bearing fault on the last day) running two shifts on
 * weekdays, the line's hourly production count and the site meter's hourly energy, driven by
 * production plus a base load.
 */
function syntheticPlant(): { batch: ReadingBatch; hourly: { ts: number; units: number; kwh: number }[] } {
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  const gauss = () => rand() + rand() + rand() + rand() - 2;
  const ts: number[] = [];
  const asset: string[] = [];
  const signal: string[] = [];
  const value: number[] = [];
  const push = (t: number, a: string, sig: string, v: number) => {
    ts.push(t);
    asset.push(a);
    signal.push(sig);
    value.push(v);
  };
  const hourly: { ts: number; units: number; kwh: number }[] = [];
  let temp = 30;
  let load = 0.8;
  let unitsThisHour = 0;
  let motorKwh = 0;
  for (let m = 0; m < DAYS * 1440; m++) {
    const t = T0 + m * MIN;
    const day = new Date(t).getUTCDay();
    const hour = new Date(t).getUTCHours();
    const running = day >= 1 && day <= 5 && hour >= 6 && hour < 22;
    if (m % 90 === 0) load = 0.5 + 0.5 * rand(); // production runs change the belt load
    const speed = running ? 1450 + 5 * gauss() : 0;
    const current = running ? 3 + 9 * load + 0.3 * gauss() : 0.2 + 0.05 * gauss();
    temp += ((25 + 1.6 * current) - temp) / 20; // first-order thermal lag, tau = 20 min
    const faulty = t >= FAULT_FROM && t < FAULT_TO;
    const vibration = (running ? 1.2 + 0.4 * load : 0.1) * (faulty ? 4 : 1) + 0.05 * gauss();
    push(t, 'motor-1', 'speed', speed);
    push(t, 'motor-1', 'current', current);
    push(t, 'motor-1', 'temperature', temp + 0.2 * gauss());
    push(t, 'motor-1', 'vibration_rms', vibration);
    if (running) unitsThisHour += Math.max(0, Math.round(40 * load + 3 * gauss()));
    motorKwh += (current * 0.4) / 60;
    if ((m + 1) % 60 === 0) {
      const hourStart = t - 59 * MIN;
      // Unmetered loads (compressors, lighting) add noise of ~70 kWh sd on a mean near 800 kWh.
      const kwh = 35 + 0.9 * unitsThisHour + 6 * motorKwh + 120 * gauss();
      push(hourStart, 'line', 'units', unitsThisHour);
      push(hourStart, 'meter', 'energy_kwh', kwh);
      hourly.push({ ts: hourStart, units: unitsThisHour, kwh });
      unitsThisHour = 0;
      motorKwh = 0;
    }
  }
  return {
    batch: { ts: Float64Array.from(ts), site: ts.map(() => SITE), asset, signal, value: Float64Array.from(value) },
    hourly,
  };
}

/** Long readings of one asset -> one row per timestamp, a column per signal (and per rolling stat). */
function wide(long: ColumnTable, columns: Record<string, string>): ColumnTable {
  const ts = long.array('ts') as ArrayLike<number>;
  const sig = long.array('signal') as ArrayLike<string>;
  const rows = new Map<number, Record<string, number>>();
  const sources = Object.entries(columns).map(([out, spec]) => {
    const [col, s] = spec.split(':') as [string, string];
    return { out, s, values: long.array(col) as ArrayLike<number> };
  });
  for (let i = 0; i < long.numRows(); i++) {
    let row = rows.get(Number(ts[i]));
    if (!row) rows.set(Number(ts[i]), (row = { ts: Number(ts[i]) }));
    for (const src of sources) if (sig[i] === src.s) row[src.out] = src.values[i]!;
  }
  const sorted = [...rows.values()].sort((a, b) => a.ts! - b.ts!);
  return aq.from(sorted.filter((r) => Object.keys(columns).every((c) => Number.isFinite(r[c]))));
}

async function channel(name: string, table: ColumnTable): Promise<string> {
  const d = join(dir, 'channels', name);
  await mkdir(d, { recursive: true });
  await writeFile(join(d, 'data.csv'), table.toCSV());
  return d;
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
  const { batch } = syntheticPlant();
  const written = await writeReadings(store, batch);
  assert.equal(written.rows, batch.ts.length);
  const lastDay = T0 + (DAYS - 1) * 86_400_000;

  // 2. Store -> features: the motor's readings with a 20-minute rolling mean (the thermal lag).
  const motor = await scanTable({ root: store, sites: [SITE], assets: ['motor-1'] });
  assert.equal(motor.numRows(), DAYS * 1440 * 4);
  const withRolling = rollingFeatures(motor, { window: '20m', stats: ['mean'] });
  const motorWide = wide(withRolling, {
    speed: 'value:speed',
    current: 'value:current',
    current_mean_20m: 'mean_20m:current',
    temperature: 'value:temperature',
    vibration_rms: 'value:vibration_rms',
  });
  const history = motorWide.filter(aq.escape((r: { ts: number }) => r.ts < lastDay));
  const today = motorWide.filter(aq.escape((r: { ts: number }) => r.ts >= lastDay));

  // Energy: hourly production and consumption straight from the store in SQL.
  const energy = await sql(
    `SELECT epoch_ms(ts) AS ts, max(value) FILTER (WHERE signal = 'units') AS units, max(value) FILTER (WHERE signal = 'energy_kwh') AS energy_kwh
     FROM readings WHERE site = '${SITE}' AND asset IN ('line', 'meter') GROUP BY 1 ORDER BY 1`,
    { root: store, format: 'table' },
  );
  assert.equal(energy.numRows(), DAYS * 24);

  // 3. Train the three built-ins in the SageMaker layout.
  const rf = await trainPackage({
    package: 'random-forest-regression',
    base: join(dir, 'ml-rf'),
    name: 'motor-temperature',
    channels: { train: await channel('rf', history) },
    hyperparameters: { target: 'temperature', features: '["speed","current","current_mean_20m"]', n_estimators: '30', max_samples: '0.5' },
  });
  const threshold = await trainPackage({
    package: 'threshold',
    base: join(dir, 'ml-threshold'),
    name: 'motor-alarms',
    channels: { train: await channel('threshold', history.select('ts', 'vibration_rms', 'temperature')) },
    hyperparameters: { signals: '["vibration_rms"]', k: '5' },
  });
  const curve = await trainPackage({
    package: 'energy-load-curve',
    base: join(dir, 'ml-energy'),
    name: 'site-energy',
    channels: { train: await channel('energy', energy) },
    hyperparameters: { target: 'energy_kwh', drivers: '["units"]', n_estimators: '60', min_samples_leaf: '5' },
  });
  for (const { modelDir, manifest } of [rf, threshold, curve]) {
    await verifyArtifact(modelDir);
    assert.ok(Object.keys(manifest.files).length > 0);
    assert.ok(manifest.baseline.length >= manifest.features.length - 1, `${manifest.name} baseline`);
  }
  assert.deepEqual(rf.manifest.features.map((f) => f.name), ['speed', 'current', 'current_mean_20m']);
  assert.ok(rf.manifest.metrics.holdout!.r2! > 0.9, `rf holdout ${JSON.stringify(rf.manifest.metrics.holdout)}`);
  // The synthetic plant's production volume is known: ASHRAE Guideline 14 (hourly CV(RMSE) <= 30 %, |NMBE| <= 10 %) holds.
  assert.equal(curve.manifest.metrics.holdout!.guideline14, 1, `energy holdout ${JSON.stringify(curve.manifest.metrics.holdout)}`);

  // 4. Registry: register each as its own group, approve, deploy.
  const deployed = [];
  for (const [group, r] of [['motor-temperature', rf], ['motor-alarms', threshold], ['site-energy', curve]] as const) {
    const { record } = await registerModel(r.modelDir, { group, registry });
    assert.equal(record.status, 'PendingManualApproval');
    await approveVersion(group, record.version, { registry });
    const d = await getDeployable(group, { registry });
    deployed.push(await loadModel(d.dir));
  }
  const [rfModel, alarmModel, curveModel] = deployed as [typeof deployed[0], typeof deployed[0], typeof deployed[0]];

  // 5. Predict on the last day, which no model saw.
  const temps = today.array('temperature') as ArrayLike<number>;
  const predicted = (await rfModel.predict(today)) as number[];
  let se = 0;
  let ss = 0;
  const mean = Array.from(temps).reduce((a, b) => a + b, 0) / temps.length;
  for (let i = 0; i < temps.length; i++) {
    se += (temps[i]! - predicted[i]!) ** 2;
    ss += (temps[i]! - mean) ** 2;
  }
  assert.ok(1 - se / ss > 0.9, `rf R² on the unseen day: ${1 - se / ss}`);

  const alarms = (await alarmModel.predict(today)) as { alarm: number }[];
  const tsToday = today.array('ts') as ArrayLike<number>;
  let inFault = 0;
  let faultAlarms = 0;
  let otherAlarms = 0;
  for (let i = 0; i < alarms.length; i++) {
    const f = tsToday[i]! >= FAULT_FROM && tsToday[i]! < FAULT_TO;
    if (f) inFault++;
    if (alarms[i]!.alarm !== 1) continue;
    if (f) faultAlarms++;
    else otherAlarms++;
  }
  assert.ok(faultAlarms / inFault > 0.9, `fault minutes flagged: ${faultAlarms}/${inFault}`);
  assert.ok(otherAlarms / (alarms.length - inFault) < 0.01, `false alarms: ${otherAlarms}`);

  const nextHours = energy.filter(aq.escape((r: { ts: number }) => r.ts >= lastDay));
  const curvePred = (await curveModel.predict(nextHours.select('ts', 'units'))) as { expected: number; best: number }[];
  assert.equal(curvePred.length, 24);
  const actual = nextHours.array('energy_kwh') as ArrayLike<number>;
  let err = 0;
  let total = 0;
  for (let i = 0; i < 24; i++) {
    assert.ok(curvePred[i]!.best <= curvePred[i]!.expected + 1e-9, 'best-achievable never above expected');
    err += (actual[i]! - curvePred[i]!.expected) ** 2;
    total += actual[i]!;
  }
  const cvRmse = Math.sqrt(err / 24) / (total / 24);
  t.diagnostic(
    `rf holdout r2=${rf.manifest.metrics.holdout!.r2!.toFixed(4)}, unseen-day r2=${(1 - se / ss).toFixed(4)}; ` +
      `alarms ${faultAlarms}/${inFault} fault minutes, ${otherAlarms} false; energy holdout ${JSON.stringify(curve.manifest.metrics.holdout)}, unseen-day cv_rmse=${cvRmse.toFixed(4)}`,
  );
  assert.ok(cvRmse < 0.3 && cvRmse > 0.01, `energy CV(RMSE) on the unseen day: ${cvRmse}`);
});
