import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main.ts';
import { captureIO } from '../helpers/io.ts';
import { noRealData, realDataDir } from '../helpers/data.ts';
import { catalogue, loadSteel, parseZonelessTime, planPlant, toReadings } from '../../datasets/index.ts';
import { parseDelimited } from '../../datasets/parse-delimited.ts';

const skip = noRealData();

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mw-datasets-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const io = captureIO(env);
  const code = await main(args, io);
  return { code, out: io.stdout, err: io.stderr };
}

test('the catalogue has one complete entry per real dataset', () => {
  assert.deepEqual(
    catalogue.map((d) => d.name),
    ['steel-industry-energy', 'nab-machine-temperature', 'skab', 'cwru-bearing', 'nasa-ims-bearing', 'ai4i2020', 'nasa-cmapss'],
  );
  for (const d of catalogue) {
    assert.match(d.source, /^https:\/\//, d.name);
    assert.ok(d.licence && d.title && d.sampling && d.targets && d.readings && d.files.length && d.quirks.length, d.name);
    assert.ok(d.schema.every((c) => c.name && c.description && (c.type === 'number' || c.type === 'string')), d.name);
    // Time series carry a timeline (ts, or CWRU's sample clock time_s); plain tables do not.
    assert.equal(d.kind === 'time-series', d.schema.some((c) => c.name === 'ts' || c.name === 'time_s'), d.name);
  }
});

test('every catalogue entry loads with the schema it documents and the row count it claims', { skip }, () => {
  for (const d of catalogue) {
    const t = d.load(realDataDir());
    assert.deepEqual(t.columnNames(), d.schema.map((c) => c.name), d.name);
    assert.equal(t.numRows(), d.rows, d.name);
  }
});

test('datasets list and show print the catalogue', async () => {
  const list = await run(['datasets', 'list']);
  assert.equal(list.code, 0);
  for (const d of catalogue) assert.match(list.out, new RegExp(`^${d.name} `, 'm'));
  assert.match(list.out, /^steel-industry-energy\s+time-series\s+35,040\s+CC BY 4\.0/m);
  const show = await run(['datasets', 'show', 'steel-industry-energy']);
  assert.equal(show.code, 0);
  assert.match(show.out, /licence:\s+CC BY 4\.0/);
  assert.match(show.out, /usage_kwh\s+number\s+kWh/);
  assert.match(show.out, /NSM == 0 are moved to date \+ 1 day/);
  const unknown = await run(['datasets', 'show', 'steel']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /unknown dataset "steel" \(expected one of steel-industry-energy/);
  assert.equal((await run(['datasets', 'frobnicate'])).code, 2);
  assert.equal((await run(['datasets', 'load'])).code, 2);
});

test('datasets load --long writes readings that millwright ingest takes, unchanged', { skip }, async (t) => {
  const dir = scratch(t);
  const csv = join(dir, 'nab.csv');
  const loaded = await run(['datasets', 'load', 'nab-machine-temperature', '--long', '--out', csv, '--data-dir', realDataDir()!]);
  assert.equal(loaded.code, 0, loaded.err);
  const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
  assert.equal(lines[0], 'ts,site,asset,signal,value');
  assert.equal(lines[1], '2013-12-02T21:15:00.000Z,nab,machine,temperature,73.96732207');
  assert.equal(lines.length - 1, 22_683 + 7_267);
  const store = join(dir, 'store');
  const ingested = await run(['ingest', csv, '--store', store]);
  assert.equal(ingested.code, 0, ingested.err);
  const q = await run(['sql', "SELECT asset, count(*) AS n, min(ts)::VARCHAR AS first, round(sum(value), 3) AS total FROM readings GROUP BY asset ORDER BY asset", '--store', store, '--format', 'csv']);
  assert.equal(q.code, 0, q.err);
  const machineTotal = lines.slice(1).filter((l) => l.includes(',machine,')).reduce((s, l) => s + Number(l.split(',')[4]), 0);
  const rows = q.out.trim().split('\n');
  assert.equal(rows[1]!.split(',').slice(0, 3).join(','), 'machine,22683,2013-12-02 21:15:00+00');
  assert.ok(Math.abs(Number(rows[1]!.split(',')[3]) - machineTotal) < 1e-3);
  assert.match(rows[2]!, /^office,7267,/);
});

test('datasets load writes wide tables as CSV, NDJSON (stdout) and Parquet', { skip }, async (t) => {
  const dir = scratch(t);
  const env = { MILLWRIGHT_DATA_DIR: realDataDir()! };
  const nd = await run(['datasets', 'load', 'nasa-ims-bearing', '--format', 'ndjson'], env);
  assert.equal(nd.code, 0, nd.err);
  const rows = nd.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(rows.length, 984);
  assert.equal(rows[0]!.ts, '2004-02-12T10:32:39.000Z');
  const pq = join(dir, 'steel.parquet');
  assert.equal((await run(['datasets', 'load', 'steel-industry-energy', '--out', pq], env)).code, 0);
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const r = await con.runAndReadAll(`SELECT count(*)::INTEGER, min(ts)::VARCHAR, max(ts)::VARCHAR, sum(usage_kwh) FROM '${pq}'`);
  const [n, first, last, kwh] = r.getRows()[0]!;
  assert.deepEqual([n, first, last], [35_040, '2017-12-31 15:15:00+00', '2018-12-31 15:00:00+00']);
  const expected = (loadSteel(realDataDir()).array('usage_kwh') as Float64Array).reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(Number(kwh) - expected) < 1e-6);
  con.closeSync();
  const txt = await run(['datasets', 'load', 'ai4i2020', '--out', join(dir, 'x.txt')], env);
  assert.equal(txt.code, 1);
  assert.match(txt.err, /unknown extension "\.txt" \(expected \.csv, \.ndjson or \.parquet\)/);
  const long = await run(['datasets', 'load', 'ai4i2020', '--long'], env);
  assert.equal(long.code, 1);
  assert.match(long.err, /ai4i2020 is not a time series/);
});

test('datasets load without data names what is missing', async (t) => {
  const none = await run(['datasets', 'load', 'skab']);
  assert.equal(none.code, 1);
  assert.match(none.err, /no data directory: pass one \(--data-dir DIR\) or set MILLWRIGHT_DATA_DIR/);
  const empty = scratch(t);
  const missing = await run(['datasets', 'load', 'steel-industry-energy', '--data-dir', empty]);
  assert.equal(missing.code, 1);
  assert.ok(missing.err.includes(`expected file ${join(empty, 'steel-industry-energy', 'Steel_industry_data.csv')}`), missing.err);
});

test('corrupt files are refused with the file, line and problem', (t) => {
  const dir = scratch(t);
  mkdirSync(join(dir, 'steel-industry-energy'));
  const header = '\ufeffdate,Usage_kWh,Lagging_Current_Reactive.Power_kVarh,Leading_Current_Reactive_Power_kVarh,CO2(tCO2),Lagging_Current_Power_Factor,Leading_Current_Power_Factor,NSM,WeekStatus,Day_of_week,Load_Type';
  const file = join(dir, 'steel-industry-energy', 'Steel_industry_data.csv');
  writeFileSync(file, `${header}\n1/1/2018 0:15,3.17,2.95,0,0,73.21,100,900,Weekday,Monday,Light_Load\n2018-01-01 00:30,4,4.46,0,0,66.77,100,1800,Weekday,Monday,Light_Load\n`);
  assert.throws(() => loadSteel(dir), /line 3: date "2018-01-01 00:30" is not d\/m\/yyyy H:MM/);
  writeFileSync(file, `${header}\n1/1/2018 0:15,3.17,2.95,0,0,73.21,100,1800,Weekday,Monday,Light_Load\n`);
  assert.throws(() => loadSteel(dir), /disagrees with NSM 1800/);
  // A midnight row moves to the next day, in UTC from Seoul time.
  writeFileSync(file, `${header}\r\n1/1/2018 23:45,3.17,2.95,0,0,73.21,100,85500,Weekday,Monday,Light_Load\r\n1/1/2018 0:00,3.4,2.95,0,0,73.21,100,0,Weekday,Monday,Light_Load\r\n`);
  assert.deepEqual(Array.from(loadSteel(dir).array('ts') as Float64Array), [Date.UTC(2018, 0, 1, 14, 45), Date.UTC(2018, 0, 1, 15, 0)]);
  assert.throws(() => parseDelimited('a,b\n1,2\n3\n', { source: 'x.csv' }), /x\.csv line 3: 1 fields, expected 2 \(a,b\)/);
  assert.throws(() => parseDelimited('a;b\n1;zz\n', { delimiter: ';', source: 'y.csv' }), /y\.csv line 2: column b value "zz" is not a number/);
  assert.deepEqual(Array.from(parseDelimited('1 2  \n3 4 \n', { delimiter: 'whitespace', header: false, names: ['a', 'b'] }).columns.b as Float64Array), [2, 4]);
  assert.throws(() => parseZonelessTime('02/03/2020 10:00'), /is not YYYY-MM-DD HH:MM:SS/);
});

test('generate writes the plant into the store and the ground truth beside it', async (t) => {
  const dir = scratch(t);
  const store = join(dir, 'store');
  const truthFile = join(dir, 'truth.json');
  const g = await run(['generate', '--store', store, '--seed', '9', '--days', '2', '--every', '5m', '--out-truth', truthFile]);
  assert.equal(g.code, 0, g.err);
  assert.equal(g.err, '', 'no progress output when not on a terminal');
  const plan = planPlant({ seed: 9, days: 2, every: '5m' });
  assert.match(g.out, new RegExp(`generated ${plan.readings.toLocaleString('en-US')} readings into ${store}`));
  const truth = JSON.parse(readFileSync(truthFile, 'utf8')) as { failures: { asset: string; failure: string }[]; options: { seed: number } };
  assert.equal(truth.options.seed, 9);
  assert.equal(truth.failures[0]!.failure, new Date(plan.failures[0]!.failure).toISOString());
  const q = await run(['sql', 'SELECT count(*) AS n, count(DISTINCT asset) AS assets FROM readings', '--store', store, '--format', 'csv']);
  assert.equal(q.out.trim().split('\n')[1], `${plan.readings},8`);
  const bad = await run(['generate', '--store', store, '--every', 'often']);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /every: "often" is not a duration/);
  assert.equal((await run(['generate', '--assets', 'many'])).code, 2);
  assert.equal((await run(['generate', '--shifts', '5'])).code, 2);
});

test('generate shows progress (readings, rate, ETA) on a terminal', async (t) => {
  const dir = scratch(t);
  const io = captureIO();
  io.isTTY = true;
  const code = await main(['generate', '--store', join(dir, 'store'), '--days', '1', '--every', '10m', '--no-faults'], io);
  assert.equal(code, 0, io.stderr);
  assert.match(io.stderr, /\r[\d,]+ \/ [\d,]+ readings {2}[\d,]+\/s {2}ETA \d+s/);
  assert.match(io.stdout, /0 failures \(none\), 0 sensor faults, 0 idle-running waste periods/);
});

test('toReadings by name gives the documented long form', { skip }, () => {
  const ims = toReadings('nasa-ims-bearing', realDataDir());
  assert.equal(ims.ts.length, 984 * 16);
  assert.deepEqual([...new Set(ims.asset)], ['bearing1', 'bearing2', 'bearing3', 'bearing4']);
  assert.deepEqual([...new Set(ims.signal)], ['mean_abs', 'rms', 'peak', 'kurtosis']);
  const steel = toReadings('steel-industry-energy', realDataDir());
  assert.equal(steel.ts.length, 35_040 * 6);
  const cwru = toReadings('cwru-bearing', realDataDir());
  // 100-ms windows: floor(samples / 1200) per recording; normal has no base accelerometer (6 signals, others 9).
  assert.equal(cwru.ts.length, 203 * 6 + (101 + 102 + 101) * 9);
  assert.throws(() => toReadings('nasa-cmapss', realDataDir()), /not a time series/);
});
