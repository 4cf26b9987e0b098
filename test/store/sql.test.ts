import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { writeReadings, sql } from '../../lib/store/index.ts';
import { isErrorCode } from '../../lib/errors/index.ts';
import { main } from '../../cli/main.ts';
import { captureIO } from '../helpers/io.ts';
import { plantBatch, tempDir } from './fixtures.ts';

let root = '';
let cleanup: () => Promise<void> = async () => {};
before(async () => {
  ({ dir: root, cleanup } = await tempDir());
  // Site "101" looks numeric: Hive type inference would make it an integer; it must stay text.
  await writeReadings(root, plantBatch({ sites: ['101', 'plant-2'], samples: 500, periodMs: 20_000, start: Date.UTC(2024, 2, 1, 22) }));
});
after(() => cleanup());

test('sql sees hive partition columns site (VARCHAR) and date (DATE), and prunes by them', async () => {
  const r = await sql(`SELECT site, date, count(*) AS n, min(ts) AS first FROM readings GROUP BY ALL ORDER BY ALL`, { root });
  assert.deepEqual(r.columns, ['site', 'date', 'n', 'first']);
  assert.deepEqual(r.types, ['VARCHAR', 'DATE', 'BIGINT', 'TIMESTAMP WITH TIME ZONE']);
  assert.deepEqual(r.rows, [
    { site: '101', date: '2024-03-01', n: 9 * 360, first: Date.UTC(2024, 2, 1, 22) },
    { site: '101', date: '2024-03-02', n: 9 * 140, first: Date.UTC(2024, 2, 2) },
    { site: 'plant-2', date: '2024-03-01', n: 9 * 360, first: Date.UTC(2024, 2, 1, 22) },
    { site: 'plant-2', date: '2024-03-02', n: 9 * 140, first: Date.UTC(2024, 2, 2) },
  ]);
  const one = await sql(`SELECT count(*) AS n FROM readings WHERE site = '101' AND date = DATE '2024-03-02' AND asset = 'motor-2'`, { root });
  assert.equal(one.rows[0].n, 3 * 140);
  const plan = await sql(`EXPLAIN ANALYZE SELECT count(*) FROM readings WHERE site = 'plant-2' AND date = DATE '2024-03-01'`, { root, format: 'csv' });
  assert.match(plan, /Total Files Read: 1\b/, 'three of the four files were skipped by their path');
});

test('sql formats: table (arquero), csv, text, parquet', async () => {
  const q = `SELECT site, asset, signal, ts, value FROM readings WHERE site = 'plant-2' AND asset = 'gearbox-3' AND signal = 'current' ORDER BY ts LIMIT 3`;
  const t = await sql(q, { root, format: 'table' });
  assert.deepEqual(t.columnNames(), ['site', 'asset', 'signal', 'ts', 'value']);
  assert.equal(t.get('ts', 1), Date.UTC(2024, 2, 1, 22, 0, 20));
  const csv = await sql(q, { root, format: 'csv' });
  const lines = csv.trimEnd().split('\n');
  assert.equal(lines[0], 'site,asset,signal,ts,value');
  assert.match(lines[1], /^plant-2,gearbox-3,current,2024-03-01T22:00:00\.000Z,-?\d+(\.\d+)?$/);
  assert.equal(lines.length, 4);
  const text = await sql(q, { root, format: 'text' });
  assert.match(text, /^site\s+asset\s+signal\s+ts\s+value\n-+\s+-+/);
  assert.match(text, /\(3 rows\)\n$/);
  const { dir, cleanup: c2 } = await tempDir();
  try {
    const out = join(dir, 'r.parquet');
    const res = await sql(q, { root, format: 'parquet', out });
    assert.equal(res.rows, 3);
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const back = (await conn.runAndReadAll(`SELECT count(*) AS n, any_value(site) AS s FROM '${out}'`)).getRowObjectsJS();
    conn.closeSync();
    assert.deepEqual(back, [{ n: 3n, s: 'plant-2' }]);
  } finally {
    await c2();
  }
});

test('csv quotes fields with commas, quotes and newlines', async () => {
  const csv = await sql(`SELECT 'a,b' AS x, 'say "hi"' AS y, NULL AS z, E'l1\\nl2' AS w`, { root, format: 'csv' });
  assert.equal(csv, 'x,y,z,w\n"a,b","say ""hi""",,"l1\nl2"\n');
});

test('sql errors: empty query, bad SQL, parquet without out, missing store', async () => {
  await assert.rejects(sql('  ', { root }), (e: unknown) => isErrorCode(e, 'BAD_INPUT') && /query is empty/.test(e.message));
  await assert.rejects(sql('SELECT nope FROM readings', { root }), (e: unknown) => isErrorCode(e, 'BAD_INPUT') && /"nope"/.test(e.message));
  await assert.rejects(sql('SELECT 1', { root, format: 'parquet' } as never), (e: unknown) => isErrorCode(e, 'BAD_INPUT') && /needs an output file/.test(e.message));
  await assert.rejects(sql('SELECT 1', { root: join(root, 'missing') }), (e: unknown) => isErrorCode(e, 'NOT_FOUND'));
});

test('an empty store still has a readings view', async () => {
  const { dir, cleanup: c2 } = await tempDir();
  try {
    const r = await sql('SELECT count(*) AS n FROM readings', { root: dir });
    assert.equal(r.rows[0].n, 0);
  } finally {
    await c2();
  }
});

test('millwright sql CLI: table by default, csv to a file, usage errors exit 2', async () => {
  const io = captureIO({ MILLWRIGHT_STORE: root });
  assert.equal(await main(['sql', `SELECT site, count(*) AS n FROM readings GROUP BY site ORDER BY site`], io), 0, io.stderr);
  assert.equal(io.stdout, 'site        n\n-------  ----\n101      4500\nplant-2  4500\n(2 rows)\n');
  const { dir, cleanup: c2 } = await tempDir();
  try {
    const out = join(dir, 'x.csv');
    const io2 = captureIO();
    assert.equal(await main(['sql', 'SELECT 1 AS one', '--store', root, '--format', 'csv', '--out', out], io2), 0);
    assert.equal(await readFile(out, 'utf8'), 'one\n1\n');
  } finally {
    await c2();
  }
  for (const args of [['sql'], ['sql', 'SELECT 1', '--format', 'xml'], ['sql', 'SELECT 1', '--format', 'parquet'], ['sql', 'a', 'b']]) {
    const e = captureIO({ MILLWRIGHT_STORE: root });
    assert.equal(await main(args, e), 2, args.join(' '));
    assert.match(e.stderr, /Run "millwright sql --help"/);
  }
  const bad = captureIO({ MILLWRIGHT_STORE: root });
  assert.equal(await main(['sql', 'SELEC 1'], bad), 1);
  assert.match(bad.stderr, /SQL error: Parser Error/);
  const help = captureIO();
  assert.equal(await main(['sql', '--help'], help), 0);
  assert.match(help.stdout, /--format FMT/);
});
