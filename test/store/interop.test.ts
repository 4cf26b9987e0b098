import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance } from '@duckdb/node-api';
import { writeReadings, scanTable } from '../../lib/store/index.ts';
import { batchRows, plantBatch, rowKey, tempDir } from './fixtures.ts';

// The store writes with parquet-wasm (Rust parquet crate); DuckDB's own Parquet reader is the
// independent second reader, used directly here (not through lib/store).
test('files written by millwright read back identically through DuckDB, ts as a UTC timestamp', async () => {
  const { dir, cleanup } = await tempDir();
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const batch = plantBatch({ samples: 800, periodMs: 7_777, timeMajor: true });
    batch.quality = Uint8Array.from(batch.ts, (_, i) => (i % 97 === 0 ? 3 : 0));
    batch.value[5] = -0.0; // deepStrictEqual compares with Object.is: -0 must survive
    batch.value[6] = 1e-300;
    batch.value[7] = 123456789.12345679;
    batch.ts[8] = Math.floor(batch.ts[8]) + 1; // odd millisecond
    const { files } = await writeReadings(dir, batch);
    await conn.run("SET TimeZone = 'UTC'");
    const glob = `${dir}/site=*/date=*/*.parquet`;

    const types = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${glob}', hive_partitioning = true)`)).getRowObjectsJS();
    assert.deepEqual(
      Object.fromEntries(types.map((t) => [t.column_name, t.column_type])),
      { ts: 'TIMESTAMP WITH TIME ZONE', asset: 'VARCHAR', signal: 'VARCHAR', value: 'DOUBLE', quality: 'UTINYINT', site: 'VARCHAR', date: 'DATE' },
    );
    const schema = (await conn.runAndReadAll(`SELECT name, type, logical_type FROM parquet_schema('${files[0]}') WHERE name = 'ts'`)).getRowObjectsJS();
    assert.equal(schema[0].type, 'INT64');
    assert.match(String(schema[0].logical_type), /TimestampType\(isAdjustedToUTC=1, unit=TimeUnit\(MILLIS=MilliSeconds\(\)/);
    const meta = (await conn.runAndReadAll(
      `SELECT DISTINCT compression, path_in_schema, stats_min_value IS NOT NULL AS has_stats FROM parquet_metadata('${files[0]}')`,
    )).getRowObjectsJS();
    assert.ok(meta.every((m) => m.compression === 'ZSTD'));
    for (const col of ['ts', 'asset', 'signal', 'value']) assert.ok(meta.some((m) => m.path_in_schema === col && m.has_stats), `${col} has row-group statistics`);

    const got = (await conn.runAndReadAll(
      `SELECT epoch_ms(ts) AS ts, site, asset, signal, value, quality FROM read_parquet('${glob}', hive_partitioning = true, hive_types = {'site': VARCHAR})`,
    )).getRowObjectsJS().map((r) => ({ ts: Number(r.ts), site: r.site, asset: r.asset, signal: r.signal, value: r.value, quality: r.quality }));
    const order = (a: { site?: unknown; asset: unknown; signal: unknown; ts: unknown }, b: typeof a) => (rowKey(a) < rowKey(b) ? -1 : 1);
    const expected = batchRows(batch).sort(order);
    assert.equal(got.length, expected.length);
    assert.deepEqual(got.sort(order), expected);
    // And millwright's own reader agrees with DuckDB.
    const mine = (await scanTable({ root: dir })).objects() as typeof expected;
    assert.deepEqual(mine.sort(order), expected);
  } finally {
    conn.closeSync();
    await cleanup();
  }
});
