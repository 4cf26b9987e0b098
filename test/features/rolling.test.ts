import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as aq from 'arquero';
import { DuckDBInstance } from '@duckdb/node-api';
import { rolling, rollingFeatures, lagFeatures, floatColumn, windowFeatures } from '../../lib/features/index.ts';

interface RollFx { window: string; halfLife: string; ts: number[]; value: number[]; count: number[]; [k: string]: unknown }
const fx = (JSON.parse(readFileSync(new URL('./fixtures/features.json', import.meta.url), 'utf8')) as { rolling: RollFx }).rolling;

function near(a: number, b: number | null, tol: number, what: string) {
  if (b === null || Number.isNaN(b)) return assert.ok(Number.isNaN(a), `${what}: ${a} expected NaN`);
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs reference ${b}`);
}

test('rolling windows match pandas rolling("5min") on an irregular series with gaps', () => {
  const ts = Float64Array.from(fx.ts);
  const value = Float64Array.from(fx.value);
  const r = rolling(ts, value, { window: fx.window, halfLife: fx.halfLife });
  for (let i = 0; i < ts.length; i++) {
    assert.equal(r.count![i], fx.count[i], `count[${i}]`);
    for (const k of ['mean', 'std', 'min', 'max', 'slope', 'ewma'] as const) near(r[k]![i]!, (fx[k] as Array<number | null>)[i]!, 1e-8, `${k}[${i}]`);
  }
  // Right after the 1 h gap (reading 1200) the window restarts with a single real reading.
  assert.equal(r.count![1200], 1);
  assert.ok(Number.isNaN(r.std![1200]!));
  assert.equal(r.mean![1200], value[1200]);
});

test('rollingFeatures per asset/signal equals DuckDB RANGE windows, unsorted interleaved input', async () => {
  // Two series interleaved in blocks, as partitions of the store come back.
  const n = fx.ts.length;
  const half = Math.floor(n / 2);
  const rows = { ts: [] as number[], asset: [] as string[], signal: [] as string[], value: [] as number[] };
  const push = (i: number, asset: string, signal: string, shift: number) => {
    rows.ts.push(fx.ts[i]!);
    rows.asset.push(asset);
    rows.signal.push(signal);
    rows.value.push(fx.value[i]! + shift);
  };
  for (let i = half; i < n; i++) push(i, 'press-1', 'temp', 0);
  for (let i = 0; i < n; i++) push(i, 'press-2', 'temp', 10);
  for (let i = 0; i < half; i++) push(i, 'press-1', 'temp', 0);
  const table = aq.table({ ts: Float64Array.from(rows.ts), asset: rows.asset, signal: rows.signal, value: Float64Array.from(rows.value) });
  const f = rollingFeatures(table, { window: '5m', stats: ['count', 'mean', 'std', 'min', 'max', 'slope'] });
  assert.deepEqual(f.columnNames().slice(4), ['count_5m', 'mean_5m', 'std_5m', 'min_5m', 'max_5m', 'slope_5m']);

  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  await con.run('CREATE TABLE r (i INTEGER, ts BIGINT, asset VARCHAR, signal VARCHAR, value DOUBLE)');
  const app = await con.createAppender('r');
  for (let i = 0; i < rows.ts.length; i++) {
    app.appendInteger(i);
    app.appendBigInt(BigInt(rows.ts[i]!));
    app.appendVarchar(rows.asset[i]!);
    app.appendVarchar(rows.signal[i]!);
    app.appendDouble(rows.value[i]!);
    app.endRow();
  }
  app.closeSync();
  // ts in integer ms: (t - 300000, t] == RANGE BETWEEN 299999 PRECEDING.
  const reader = await con.runAndReadAll(`
    SELECT i, count(*) OVER w AS c, avg(value) OVER w AS m, stddev_samp(value) OVER w AS s,
           min(value) OVER w AS lo, max(value) OVER w AS hi, regr_slope(value, ts / 1000.0) OVER w AS sl
    FROM r WINDOW w AS (PARTITION BY asset, signal ORDER BY ts RANGE BETWEEN 299999 PRECEDING AND CURRENT ROW)
    ORDER BY i`);
  const ref = reader.getRowObjects();
  con.closeSync();
  const cols = ['count_5m', 'mean_5m', 'std_5m', 'min_5m', 'max_5m', 'slope_5m'].map((c) => floatColumn(f, c));
  ref.forEach((row, i) => {
    near(cols[0]![i]!, Number(row.c), 0, `count ${i}`);
    near(cols[1]![i]!, row.m as number, 1e-9, `mean ${i}`);
    near(cols[2]![i]!, row.s as number | null, 1e-7, `std ${i}`);
    near(cols[3]![i]!, row.lo as number, 0, `min ${i}`);
    near(cols[4]![i]!, row.hi as number, 0, `max ${i}`);
    near(cols[5]![i]!, row.sl as number | null, 1e-6, `slope ${i}`);
  });
});

test('rolling: minPeriods, bad input', () => {
  const ts = Float64Array.of(0, 1000, 2000, 100_000);
  const v = Float64Array.of(1, 2, 3, 4);
  const r = rolling(ts, v, { window: '5s', minPeriods: 2, stats: ['mean', 'max'] });
  assert.deepEqual(Array.from(r.mean!), [NaN, 1.5, 2, NaN]);
  assert.deepEqual(Array.from(r.max!), [NaN, 2, 3, NaN]);
  assert.throws(() => rolling(Float64Array.of(2, 1), Float64Array.of(1, 2), { window: '1m' }), /not sorted at index 1/);
  assert.throws(() => rolling(ts, v, { window: '5 minutes' }), /not a duration/);
});

test('lagFeatures: lags and differences per series, NaN across long gaps', () => {
  const t = aq.table({
    ts: [0, 10_000, 20_000, 0, 10_000, 900_000, 910_000],
    asset: ['a', 'a', 'a', 'b', 'b', 'b', 'b'],
    signal: ['x', 'x', 'x', 'x', 'x', 'x', 'x'],
    value: [1, 3, 6, 10, 20, 30, 45],
  });
  const f = lagFeatures(t, { lags: [1, 2], diffs: [1], maxGap: '1m' });
  assert.deepEqual(Array.from(floatColumn(f, 'lag_1')), [NaN, 1, 3, NaN, 10, NaN, 30]);
  assert.deepEqual(Array.from(floatColumn(f, 'lag_2')), [NaN, NaN, 1, NaN, NaN, NaN, NaN]);
  assert.deepEqual(Array.from(floatColumn(f, 'diff_1')), [NaN, 2, 3, NaN, 10, NaN, 15]);
});

test('windowFeatures: clock-aligned tumbling windows equal DuckDB time buckets; gaps give no rows', async () => {
  const ts = Float64Array.from(fx.ts);
  const value = Float64Array.from(fx.value);
  const t = aq.table({ ts, asset: new Array(ts.length).fill('m'), signal: new Array(ts.length).fill('temp'), value });
  const w = windowFeatures(t, { every: '10m' });
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  await con.run('CREATE TABLE r (ts BIGINT, value DOUBLE)');
  const app = await con.createAppender('r');
  for (let i = 0; i < ts.length; i++) {
    app.appendBigInt(BigInt(ts[i]!));
    app.appendDouble(value[i]!);
    app.endRow();
  }
  app.closeSync();
  const ref = (await con.runAndReadAll(`SELECT (ts // 600000) * 600000 AS ws, count(*) AS c, avg(value) AS m, stddev_samp(value) AS s,
      min(value) AS lo, max(value) AS hi, regr_slope(value, ts / 1000.0) AS sl FROM r GROUP BY ws ORDER BY ws`)).getRowObjects();
  con.closeSync();
  assert.equal(w.numRows(), ref.length);
  const cols = ['window_start', 'count', 'mean', 'std', 'min', 'max', 'slope'].map((c) => floatColumn(w, c));
  ref.forEach((row, i) => {
    near(cols[0]![i]!, Number(row.ws), 0, `window_start ${i}`);
    near(cols[1]![i]!, Number(row.c), 0, `count ${i}`);
    near(cols[2]![i]!, row.m as number, 1e-12, `mean ${i}`);
    near(cols[3]![i]!, row.s as number | null, 1e-9, `std ${i}`);
    near(cols[4]![i]!, row.lo as number, 0, `min ${i}`);
    near(cols[5]![i]!, row.hi as number, 0, `max ${i}`);
    near(cols[6]![i]!, row.sl as number | null, 1e-7, `slope ${i}`);
  });
  // The 2 h gap after reading 2400 leaves ~11 empty 10-minute windows: no rows for them.
  const starts = Array.from(cols[0]!);
  const jumps = starts.slice(1).filter((s, i) => s - starts[i]! > 600_000).length;
  assert.ok(jumps >= 2, `gaps visible as missing windows (${jumps})`);
});
