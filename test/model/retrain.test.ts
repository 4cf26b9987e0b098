import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/io.ts';
import { writeReadings } from '../../lib/store/index.ts';
import { initModel, listVersions, getVersion, retrainOnSchedule, retrainOnce, readLineage, nextRun, trainPackage, type RetrainResult } from '../../lib/model/index.ts';
import type { ReadingBatch } from '../../lib/readings/index.ts';

let dir: string;
let pkg: string;
let store: string;
let registry: string;
// Ten days of data ending tomorrow, so a 7-day window ending now selects part of it.
const DAY0 = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 9 * 86_400_000;

/** Hourly readings of one line: production units, ambient temperature and the energy they drive. */
function plantBatch(days: number): ReadingBatch {
  const ts: number[] = [];
  const signal: string[] = [];
  const value: number[] = [];
  let s = 11;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  for (let h = 0; h < days * 24; h++) {
    const t = DAY0 + h * 3_600_000;
    const hour = h % 24;
    const units = hour >= 6 && hour < 22 ? 80 + 60 * rand() : 10 * rand();
    const temp = 12 + 8 * Math.sin(((hour - 9) / 24) * 2 * Math.PI);
    const energy = 45 + 3.1 * units + 1.8 * temp + (rand() - 0.5) * 8;
    for (const [sig, v] of [['units', units], ['temp', temp], ['energy', energy]] as const) {
      ts.push(t);
      signal.push(sig);
      value.push(v);
    }
  }
  return { ts: Float64Array.from(ts), site: ts.map(() => 'plant-a'), asset: ts.map(() => 'line-1'), signal, value: Float64Array.from(value) };
}

const PIVOT = `store:SELECT epoch_ms(ts) AS ts,
  max(value) FILTER (WHERE signal = 'units') AS production_units,
  max(value) FILTER (WHERE signal = 'temp') AS ambient_temp_c,
  max(value) FILTER (WHERE signal = 'energy') AS energy_kwh
FROM readings WHERE site = 'plant-a' AND ts >= make_timestamp({from_ms} * 1000) GROUP BY 1 ORDER BY 1`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'millwright-model-retrain-'));
  pkg = join(dir, 'pkg');
  store = join(dir, 'store');
  registry = join(dir, 'registry');
  await initModel(pkg);
  await writeReadings(store, plantBatch(10));
  await mkdir(join(registry, 'plant-a'), { recursive: true });
  await writeFile(
    join(registry, 'plant-a', 'retrain.json'),
    JSON.stringify({ package: pkg, channels: { train: PIVOT }, window: '7d', hyperparameters: { l2: '0.0001' }, store, schedule: '0 3 1 */3 *' }),
  );
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => runCli(args, dir);

test('train reads a store query channel (materialised as Parquet in the SageMaker layout)', async () => {
  const base = join(dir, 'ml');
  const query = PIVOT.replace('{from_ms}', String(DAY0));
  const r = await cli(['train', pkg, '--base', base, '--store', store, '--channel', `train=${query}`]);
  assert.equal(r.code, 0, r.err);
  const { manifest } = await trainPackage({ package: pkg, base, channels: { train: query }, store });
  assert.equal(manifest.trainingData.rows, 240);
  assert.equal(manifest.trainingData.source, query);
  assert.equal(manifest.trainingData.from, new Date(DAY0).toISOString());
  assert.deepEqual(await readdir(join(base, 'input', 'data', 'train')), ['store-query.parquet']);
  assert.ok(manifest.metrics.holdout!.r2! > 0.99);
  const bad = await cli(['train', pkg, '--base', join(dir, 'ml-bad'), '--store', store, '--channel', 'train=store:SELECT * FROM nowhere']);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /store query on .* failed: SQL error/);
  const empty = await cli(['train', pkg, '--base', join(dir, 'ml-empty'), '--store', store, '--channel', "train=store:SELECT * FROM readings WHERE site = 'elsewhere'"]);
  assert.match(empty.err, /channel "train" has no data rows/);
});

test('retrain --once trains on the latest window of store data and registers a pending version', async () => {
  const r = await cli(['retrain', '--group', 'plant-a', '--once', '--registry', registry]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /registered plant-a version 1 \(PendingManualApproval\)/);
  const [record] = await listVersions('plant-a', { registry });
  assert.equal(record!.status, 'PendingManualApproval');
  const { manifest } = await getVersion('plant-a', 1, { registry });
  assert.equal(manifest.name, 'plant-a');
  assert.equal(manifest.hyperparameters.l2, 0.0001);
  // The {from_ms} placeholder was filled with now - 7 days: only the latest rows were used.
  assert.match(manifest.trainingData.source!, /make_timestamp\(\d+ \* 1000\)/);
  const rows = manifest.trainingData.rows;
  assert.ok(rows >= 7 * 24 - 1 && rows < 240, `rows ${rows}`);
  assert.ok(Date.parse(manifest.trainingData.from!) >= Date.now() - 7 * 86_400_000 - 3_600_000);
});

test('retrain refuses bad schedules and missing config clearly', async () => {
  const bad = await cli(['retrain', '--group', 'plant-a', '--schedule', 'every tuesday', '--once', '--registry', registry]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /invalid cron schedule "every tuesday"/);
  const missing = await cli(['retrain', '--group', 'nowhere', '--once', '--registry', registry]);
  assert.match(missing.err, /retrain config .*nowhere\/retrain.json not found/);
  assert.equal((await cli(['retrain', '--once'])).code, 2);
  assert.equal(nextRun('0 3 1 */3 *', new Date('2026-02-10T00:00:00Z')).toISOString(), '2026-04-01T03:00:00.000Z');
});

test('retrainOnSchedule runs cycles on the cron schedule until aborted', async () => {
  const abort = new AbortController();
  const cycles: (RetrainResult | Error)[] = [];
  const started = Date.now();
  await retrainOnSchedule({
    group: 'plant-a',
    registry,
    schedule: '* * * * * *', // every second (6-field cron)
    signal: abort.signal,
    onCycle(r) {
      cycles.push(r);
      if (cycles.length === 2) abort.abort();
    },
  });
  assert.equal(cycles.length, 2);
  for (const c of cycles) assert.ok(!(c instanceof Error), String(c));
  assert.ok(Date.now() - started >= 1000, 'second cycle waited for the next tick');
  const versions = (await listVersions('plant-a', { registry })).map((r) => r.version);
  assert.ok(versions.length >= 3, `versions ${versions}`);
});

test('retrain is a recorded pipeline: lineage by content hash, and a re-run on the same inputs reproduces the same model bytes', async () => {
  await mkdir(join(registry, 'plant-b'), { recursive: true });
  await writeFile(join(registry, 'plant-b', 'retrain.json'), JSON.stringify({ package: pkg, channels: { train: PIVOT }, window: '7d', hyperparameters: { l2: '0.0001' }, store }));
  const now = new Date(DAY0 + 8.5 * 86_400_000);
  const first = await retrainOnce({ group: 'plant-b', registry, now });
  const again = await retrainOnce({ group: 'plant-b', registry, now });
  assert.deepEqual(first.lineage.steps.map((s) => s.name), ['prepare', 'train', 'evaluate', 'register']);
  for (const s of first.lineage.steps) assert.ok(Date.parse(s.end) >= Date.parse(s.start), `${s.name} has a start and an end`);
  const prepared = (first.lineage.steps[0]!.outputs as Record<string, { path: string; sha256: string; bytes: number }[]>).train!;
  assert.equal(prepared[0]!.path, 'input/data/train/store-query.parquet');
  assert.match(prepared[0]!.sha256, /^[0-9a-f]{64}$/);
  assert.match(JSON.stringify(first.lineage.steps[0]!.inputs), /make_timestamp\(\d+ \* 1000\)/, 'the query as run, placeholders filled');
  assert.equal(again.lineage.inputsSha256, first.lineage.inputsSha256);
  assert.deepEqual(again.lineage.reproduces, { version: first.record.version, identical: true });
  // A day later the window moves: different inputs, nothing claimed.
  const later = await retrainOnce({ group: 'plant-b', registry, now: new Date(now.getTime() + 86_400_000) });
  assert.notEqual(later.lineage.inputsSha256, first.lineage.inputsSha256);
  assert.equal(later.lineage.reproduces, undefined);
  assert.deepEqual(await readLineage('plant-b', again.record.version, { registry }), again.lineage);
  const shown = await cli(['registry', 'lineage', 'plant-b', String(again.record.version), '--registry', registry]);
  assert.equal(shown.code, 0, shown.err);
  assert.match(shown.out, /same inputs as version 1: identical model bytes \(reproduced\)/);
  assert.match(shown.out, /prepare .*\n.*\n.*\n {2}train/);
});
