import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm/node';
import { readFile } from 'node:fs/promises';
import { scanTable, writeReadings } from '../../lib/store/index.ts';
import type { ReadingBatch } from '../../lib/readings/index.ts';
import { rng, tempDir } from './fixtures.ts';

// The store's own Parquet encoder (lib/store/encode-readings-file.ts) against three readers that
// share none of its code: DuckDB's C++ reader, arrow-rs (parquet-wasm's reader) and the store's page
// reader; and its statistics against values computed here from the rows.

type Row = { ts: number; asset: string; signal: string; value: number; quality: number };

/** A batch that exercises every branch of the encoder (see the comments at each column). */
function awkwardBatch(): ReadingBatch {
  const rand = rng(7);
  const ts: number[] = [];
  const asset: string[] = [];
  const signal: string[] = [];
  const value: number[] = [];
  const quality: number[] = [];
  const day = Date.UTC(2024, 5, 3);
  // 300 assets: a dictionary index wider than 8 bits in a row group, and a list of more than 15 entries.
  const assets = Array.from({ length: 300 }, (_, i) => (i % 50 === 0 ? `ä-${'x'.repeat(150)}-${i}` : `asset-${String(i).padStart(3, '0')}`));
  for (let a = 0; a < assets.length; a++) {
    for (const sig of ['temp', 'vib']) {
      const m = 1 + Math.floor(rand() * 60);
      let t = day + Math.floor(rand() * 1000);
      for (let k = 0; k < m; k++) {
        ts.push(t);
        // irregular steps, repeated timestamps, and once per series a jump of most of the day (wide deltas)
        t += k === 3 ? 80_000_000 : [0, 1, 100, 997, 12_345][Math.floor(rand() * 5)]!;
        if (t >= day + 86_400_000) t = day + 86_399_999;
        asset.push(assets[a]!);
        signal.push(sig);
        // NaN, ±0, subnormal, huge values; all-NaN for asset 7
        const v = a === 7 ? NaN : k % 13 === 0 ? NaN : k % 17 === 0 ? -0 : k % 19 === 0 ? 5e-324 : k % 23 === 0 ? -1.7e308 : Math.round((rand() - 0.5) * 1e6) / 1000;
        value.push(v);
        // quality: runs and a bit-packed stretch of many codes
        quality.push(a % 3 === 0 ? Math.floor(rand() * 256) : a % 3 === 1 ? 0 : 192);
      }
    }
  }
  return { ts: Float64Array.from(ts), site: ts.map(() => 'plant-1'), asset, signal, value: Float64Array.from(value), quality: Uint8Array.from(quality) };
}

function sortedRows(b: ReadingBatch): Row[] {
  const rows = Array.from(b.ts, (ts, i) => ({ ts, asset: b.asset[i]!, signal: b.signal[i]!, value: b.value[i]!, quality: b.quality?.[i] ?? 0, i }));
  const cmp = (x: string, y: string) => (Buffer.compare(Buffer.from(x), Buffer.from(y)) as number);
  rows.sort((p, q) => cmp(p.asset, q.asset) || cmp(p.signal, q.signal) || p.ts - q.ts || p.i - q.i);
  return rows.map(({ i: _i, ...r }) => r);
}

const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

test('readings files from the store encoder read back identically through DuckDB, arrow-rs and the page reader, with exact row-group statistics', async () => {
  const { dir, cleanup } = await tempDir();
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const batch = awkwardBatch();
    // 1,000-row groups (not a multiple of the delta encoding's 128-value blocks)
    const { files } = await writeReadings(dir, batch, { rowGroupSize: 1000 });
    assert.equal(files.length, 1);
    const expected = sortedRows(batch);
    const file = files[0]!;

    // DuckDB, in file order
    await conn.run("SET TimeZone = 'UTC'");
    const duck = (await conn.runAndReadAll(`SELECT epoch_ms(ts) AS ts, asset, signal, value, quality FROM read_parquet('${file}')`)).getRowObjectsJS();
    assert.equal(duck.length, expected.length);
    for (let i = 0; i < expected.length; i++) {
      const d = duck[i]!;
      const e = expected[i]!;
      assert.ok(Number(d.ts) === e.ts && d.asset === e.asset && d.signal === e.signal && same(d.value as number, e.value) && d.quality === e.quality, `DuckDB row ${i}: ${String(d.ts)} ${String(d.asset)} ${String(d.signal)} ${String(d.value)} ${String(d.quality)} vs ${JSON.stringify(e)}`);
    }

    // arrow-rs, with the Arrow types the footer's ARROW:schema names
    const t = arrow.tableFromIPC(pw.readParquet(await readFile(file)).intoIPCStream());
    assert.equal(String(t.schema), 'Schema<{ 0: ts: Timestamp<MILLISECOND, UTC>, 1: asset: Dictionary<Int32, Utf8>, 2: signal: Dictionary<Int32, Utf8>, 3: value: Float64, 4: quality: Uint8 }>');
    const [tsC, assetC, signalC, valueC, qualityC] = ['ts', 'asset', 'signal', 'value', 'quality'].map((c) => t.getChild(c)!);
    for (let i = 0; i < expected.length; i++) {
      const e = expected[i]!;
      assert.ok(Number(tsC!.get(i)) === e.ts && assetC!.get(i) === e.asset && signalC!.get(i) === e.signal && same(valueC!.get(i), e.value) && qualityC!.get(i) === e.quality, `arrow-rs row ${i}`);
    }

    // the store's readers: pages, DuckDB and parquet-wasm give the same table
    const tables = await Promise.all((['pages', 'duckdb', 'parquet-wasm'] as const).map((reader) => scanTable({ root: dir, reader })));
    const objects = tables.map((tb) => tb.objects());
    assert.deepEqual(objects[0], objects[1]);
    assert.deepEqual(objects[0], objects[2]);
    assert.equal(objects[0]!.length, expected.length);

    // statistics: per row group, min/max of each column from the rows (NaN left out; an all-NaN group has none)
    const stats = (await conn.runAndReadAll(
      `SELECT row_group_id::INT AS rg, path_in_schema AS col, stats_min_value AS lo, stats_max_value AS hi, stats_null_count::INT AS nulls, encodings FROM parquet_metadata('${file}') ORDER BY rg, column_id`,
    )).getRowObjectsJS();
    const groups = Math.ceil(expected.length / 1000);
    assert.equal(stats.length, groups * 5);
    for (let g = 0; g < groups; g++) {
      const rows = expected.slice(g * 1000, (g + 1) * 1000);
      const strMin = (k: 'asset' | 'signal') => rows.map((r) => r[k]).reduce((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b)) <= 0 ? a : b));
      const strMax = (k: 'asset' | 'signal') => rows.map((r) => r[k]).reduce((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b)) >= 0 ? a : b));
      const finite = rows.map((r) => r.value).filter((v) => !Number.isNaN(v));
      const want: Record<string, [string | null, string | null]> = {
        ts: [new Date(Math.min(...rows.map((r) => r.ts))).toISOString(), new Date(Math.max(...rows.map((r) => r.ts))).toISOString()],
        asset: [strMin('asset'), strMax('asset')],
        signal: [strMin('signal'), strMax('signal')],
        value: finite.length ? [String(Math.min(...finite)), String(Math.max(...finite))] : [null, null],
        quality: [String(Math.min(...rows.map((r) => r.quality))), String(Math.max(...rows.map((r) => r.quality)))],
      };
      for (const s of stats.filter((x) => x.rg === g)) {
        const [lo, hi] = want[s.col as string]!;
        const norm = (v: unknown) => (v === null ? null : s.col === 'ts' ? new Date(String(v).replace(' ', 'T').replace(/\+00$/, 'Z')).toISOString() : s.col === 'value' ? String(Number(v)) : String(v));
        assert.equal(norm(s.lo), lo === null ? null : s.col === 'value' ? String(Number(lo)) : lo, `row group ${g} ${s.col} min`);
        assert.equal(norm(s.hi), hi === null ? null : s.col === 'value' ? String(Number(hi)) : hi, `row group ${g} ${s.col} max`);
        assert.equal(s.nulls, 0);
      }
    }
    // a row group of asset 7's all-NaN values alone has no value statistics, and scans still see its rows
    const allNaN = await writeReadings(dir, { ts: Float64Array.of(Date.UTC(2024, 5, 4), Date.UTC(2024, 5, 4, 1)), site: ['plant-1', 'plant-1'], asset: ['m', 'm'], signal: ['s', 's'], value: Float64Array.of(NaN, NaN) });
    const v = (await conn.runAndReadAll(`SELECT stats_min_value, stats_max_value FROM parquet_metadata('${allNaN.files[0]}') WHERE path_in_schema = 'value'`)).getRowsJS();
    assert.deepEqual(v, [[null, null]]);
    const back = (await scanTable({ root: dir, reader: 'pages', from: Date.UTC(2024, 5, 4) })).objects() as { value: number }[];
    assert.equal(back.length, 2);
    assert.ok(back.every((r) => Number.isNaN(r.value)));
  } finally {
    conn.closeSync();
    await cleanup();
  }
});

test('the encoder writes a footer DuckDB reads as the store schema: UTC ms timestamps, UTF-8 names, UINT_8 quality, zstd pages, the expected encodings', async () => {
  const { dir, cleanup } = await tempDir();
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const { files } = await writeReadings(dir, awkwardBatch());
    const schema = (await conn.runAndReadAll(`SELECT name, type, repetition_type, converted_type, logical_type FROM parquet_schema('${files[0]}')`)).getRowsJS();
    assert.deepEqual(schema.slice(1), [
      ['ts', 'INT64', 'REQUIRED', 'TIMESTAMP_MILLIS', 'TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=MilliSeconds(), MICROS=<null>, NANOS=<null>))'],
      ['asset', 'BYTE_ARRAY', 'REQUIRED', 'UTF8', 'StringType()'],
      ['signal', 'BYTE_ARRAY', 'REQUIRED', 'UTF8', 'StringType()'],
      ['value', 'DOUBLE', 'OPTIONAL', null, null],
      ['quality', 'INT32', 'REQUIRED', 'UINT_8', 'IntType(bitWidth=\b, isSigned=0)'],
    ]);
    const enc = (await conn.runAndReadAll(`SELECT DISTINCT path_in_schema, encodings, compression FROM parquet_metadata('${files[0]}') ORDER BY 1`)).getRowsJS();
    assert.deepEqual(enc, [
      ['asset', 'PLAIN, RLE, RLE_DICTIONARY', 'ZSTD'],
      ['quality', 'PLAIN, RLE, RLE_DICTIONARY', 'ZSTD'],
      ['signal', 'PLAIN, RLE, RLE_DICTIONARY', 'ZSTD'],
      ['ts', 'RLE, DELTA_BINARY_PACKED', 'ZSTD'],
      ['value', 'PLAIN, RLE', 'ZSTD'],
    ]);
    const kv = (await conn.runAndReadAll(`SELECT key::VARCHAR FROM parquet_kv_metadata('${files[0]}')`)).getRowsJS();
    assert.deepEqual(kv, [['ARROW:schema']]);
  } finally {
    conn.closeSync();
    await cleanup();
  }
});
