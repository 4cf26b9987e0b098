import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as aq from 'arquero';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { parseStoreFooter } from '../../lib/store/parquet-footer.ts';
import { readPagesParallel } from '../../lib/store/read-pages-parallel.ts';
import { join } from 'node:path';
import { writeReadings, scan, scanTable, scanArrays, scanStream, planScan, sql } from '../../lib/store/index.ts';
import { isErrorCode } from '../../lib/errors/index.ts';
import { main } from '../../cli/main.ts';
import { captureIO } from '../helpers/io.ts';
import { batchRows, concatBatches, plantBatch, rowKey, tempDir } from './fixtures.ts';
import { readChunksDuckdb } from '../../lib/store/read-chunks-duckdb.ts';
import { StringDictionary } from '../../lib/readings/index.ts';

let root = '';
let cleanup: () => Promise<void> = async () => {};
let all: ReturnType<typeof batchRows> = [];

before(async () => {
  ({ dir: root, cleanup } = await tempDir());
  // Two deliveries (so partitions hold two files), 3 days, small row groups so statistics can prune.
  const a = plantBatch({ samples: 6000, periodMs: 30_000, start: Date.UTC(2024, 2, 1, 0, 0), seed: 1 });
  const b = plantBatch({ samples: 3000, periodMs: 30_000, start: Date.UTC(2024, 2, 3, 0, 0, 15), seed: 2, timeMajor: true });
  await writeReadings(root, a, { rowGroupSize: 2000 });
  await writeReadings(root, b, { rowGroupSize: 2000 });
  all = batchRows(concatBatches(a, b));
});
after(() => cleanup());

type Row = { ts: number; site: string; asset: string; signal: string; value: number; quality: number };
const sorted = (rows: Row[]) => rows.map((r) => ({ ...r })).sort((x, y) => (rowKey(x) < rowKey(y) ? -1 : rowKey(x) > rowKey(y) ? 1 : 0));

const cases: [string, Record<string, unknown>, (r: Row) => boolean][] = [
  ['one asset, one day', { assets: ['motor-2'], from: '2024-03-02', to: '2024-03-03' }, (r) => r.asset === 'motor-2' && r.ts >= Date.UTC(2024, 2, 2) && r.ts < Date.UTC(2024, 2, 3)],
  ['site + signal', { sites: 'plant-2', signals: ['vibration_x'] }, (r) => r.site === 'plant-2' && r.signal === 'vibration_x'],
  ['time window inside a day (ms bounds)', { from: Date.UTC(2024, 2, 1, 13, 0, 0, 1), to: Date.UTC(2024, 2, 1, 14) }, (r) => r.ts >= Date.UTC(2024, 2, 1, 13, 0, 0, 1) && r.ts < Date.UTC(2024, 2, 1, 14)],
  ['two assets and a signal across midnight', { assets: ['conveyor-1', 'gearbox-3'], signals: 'current', from: '2024-03-02T23:00:00', to: '2024-03-03T01:00:00Z' },
    (r) => ['conveyor-1', 'gearbox-3'].includes(r.asset) && r.signal === 'current' && r.ts >= Date.UTC(2024, 2, 2, 23) && r.ts < Date.UTC(2024, 2, 3, 1)],
  ['nothing matches', { assets: ['no-such-asset'] }, () => false],
];

for (const [name, filter, keep] of cases) {
  test(`pruned scan equals full scan + filter: ${name}`, async () => {
    const plan = await planScan({ root, ...filter });
    const pruned = (await scanTable({ root, ...filter, plan })).objects() as Row[];
    const full = (await scanTable({ root })).objects() as Row[];
    assert.equal(full.length, all.length);
    const expected = sorted(full.filter(keep));
    assert.deepEqual(sorted(pruned), expected);
    assert.deepEqual(sorted(all.filter(keep)), expected, 'and equals the readings written');
    if (name !== 'site + signal') assert.ok(plan.rowGroupsPruned > 0 || plan.filesPrunedByPath > 0, 'something was pruned');
  });
}

// Same rows, same order, same values (including -0/NaN via Object.is) and the same Arrow types.
function assertSameColumns(a: Record<string, ArrayLike<unknown>>, b: Record<string, ArrayLike<unknown>>, what: string): void {
  assert.deepEqual(Object.keys(a), Object.keys(b), what);
  for (const name of Object.keys(a)) {
    const x = a[name];
    const y = b[name];
    assert.equal(x.length, y.length, `${what}: ${name} length`);
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) assert.fail(`${what}: ${name}[${i}] is ${String(x[i])} with DuckDB, ${String(y[i])} with the other reader`);
  }
}

for (const [name, filter] of [...cases.map(([n, f]) => [n, f] as const), ['everything', {}] as const, ['columns value + site', { columns: ['value', 'site'], to: '2024-03-01T12:00' }] as const]) {
  test(`the pages reader (default), the DuckDB reader and the parquet-wasm reader return identical tables: ${name}`, async () => {
    const dt = await scanTable({ root, ...filter, reader: 'duckdb' });
    const cols = (t: typeof dt) => Object.fromEntries(t.columnNames().map((c) => [c, t.array(c) as ArrayLike<unknown>]));
    for (const reader of ['parquet-wasm', 'pages', undefined] as const) {
      assertSameColumns(cols(dt), cols(await scanTable({ root, ...filter, reader })), `scanTable, reader ${reader ?? 'default'}`);
    }
    const da = await scan({ root, ...filter, reader: 'duckdb' });
    const arrowCols = (t: typeof da) => Object.fromEntries(t.schema.fields.map((f) => [f.name, t.getChild(f.name)!.toArray() as ArrayLike<unknown>]));
    for (const reader of ['parquet-wasm', 'pages'] as const) {
      const wa = await scan({ root, ...filter, reader });
      assert.deepEqual(da.schema.fields.map((f) => `${f.name}: ${String(f.type)}`), wa.schema.fields.map((f) => `${f.name}: ${String(f.type)}`));
      assertSameColumns(arrowCols(da), arrowCols(wa), `scan, reader ${reader}`);
    }
    // the name codes too: ids in order of first appearance in the rows returned, as DuckDB gives them
    const dc = await scanArrays({ root, ...filter, reader: 'duckdb', codes: true });
    const pc = await scanArrays({ root, ...filter, reader: 'pages', codes: true });
    assert.deepEqual(pc.assets, dc.assets);
    assert.deepEqual(pc.signals, dc.signals);
    if (dc.assetCode) assertSameColumns({ a: dc.assetCode, s: dc.signalCode! }, { a: pc.assetCode!, s: pc.signalCode! }, 'codes');
  });
}

test('the pages reader reads files of another writer (DuckDB, data pages v1 and v2) as DuckDB does: nulls, long and non-ASCII names, wide deltas', async () => {
  const { dir, cleanup: done } = await tempDir();
  try {
    const versions = { v1: 'PARQUET_VERSION V1', v2: 'PARQUET_VERSION V2', plain: 'COMPRESSION uncompressed' } as const;
    for (const [name, opts] of Object.entries(versions)) {
      const part = join(dir, name, 'site=ext', 'date=2024-03-01');
      await mkdir(part, { recursive: true });
      // ts jumps by up to ~3 years between rows (delta bit widths past 32), 1,000 asset names
      // (dictionary indices of 10 bits), names over 12 bytes and with non-ASCII letters, value nulls
      await sql(
        `COPY (SELECT make_timestamp_ms(1709251200000 + ((i * 2654435761) % 100000000000))::TIMESTAMP_MS AS ts,
                'asset-with-a-long-name-' || (i // 7) AS asset, 'sïgnal-' || (i % 3) AS signal,
                CASE WHEN i % 997 = 5 THEN NULL ELSE i / 4 END::DOUBLE AS value, (i % 7)::UTINYINT AS quality
              FROM range(7000) r(i)) TO '${join(part, 'part-0001.parquet')}' (FORMAT parquet, ROW_GROUP_SIZE 3000${name === 'plain' ? ', ' : ', COMPRESSION zstd, '}${opts})`,
        { root: join(dir, name) },
      );
      const r = join(dir, name);
      const dt = await scanTable({ root: r, reader: 'duckdb' });
      const pt = await scanTable({ root: r, reader: 'pages' });
      assert.equal(pt.numRows(), 7000);
      const cols = (t: typeof dt) => Object.fromEntries(t.columnNames().map((c) => [c, t.array(c) as ArrayLike<unknown>]));
      assertSameColumns(cols(dt), cols(pt), `DuckDB-written ${name}`);
      assert.ok(Number.isNaN((pt.array('value') as Float64Array)[5]), 'a null value reads as NaN');
      const filtered = { assets: ['asset-with-a-long-name-3', 'asset-with-a-long-name-900'], from: Date.UTC(2024, 5, 1) };
      assertSameColumns(cols(await scanTable({ root: r, ...filtered, reader: 'duckdb' })), cols(await scanTable({ root: r, ...filtered, reader: 'pages' })), `DuckDB-written ${name}, filtered`);
    }
  } finally {
    await done();
  }
});

test('a file the pages reader cannot read: an error naming it and why with reader pages, DuckDB with the default', async () => {
  const { dir, cleanup: done } = await tempDir();
  try {
    const part = join(dir, 'site=ext', 'date=2024-03-01');
    await mkdir(part, { recursive: true });
    // DuckDB's defaults: snappy, and TIMESTAMPTZ in microseconds
    await sql(`COPY (SELECT TIMESTAMPTZ '2024-03-01 00:00:00+00' + i * INTERVAL 1 SECOND AS ts, 'm-1' AS asset, 's' AS signal, i::DOUBLE AS value, 0::UTINYINT AS quality FROM range(100) r(i)) TO '${join(part, 'part-0001.parquet')}' (FORMAT parquet)`, { root: dir });
    await assert.rejects(scanTable({ root: dir, reader: 'pages' }), (e: unknown) => isErrorCode(e, 'BAD_INPUT') && /part-0001\.parquet: column ts: not a millisecond timestamp/.test(e.message) && /reader 'duckdb'/.test(e.message));
    const t = await scanTable({ root: dir });
    assert.equal(t.numRows(), 100);
    assert.equal((t.array('ts') as Float64Array)[99], Date.UTC(2024, 2, 1) + 99_000);
  } finally {
    await done();
  }
});

test('the DuckDB reader reads null values (from another writer) as NaN, across vector boundaries', async () => {
  const { dir, cleanup: done } = await tempDir();
  try {
    const part = join(dir, 'site=ext', 'date=2024-03-01');
    await mkdir(part, { recursive: true });
    const nulls = [5, 2047, 2048, 2100, 4999];
    await sql(
      `COPY (SELECT (TIMESTAMPTZ '2024-03-01 00:00:00+00' + i * INTERVAL 1 SECOND) AS ts, 'm-1' AS asset, 's' AS signal,
              CASE WHEN i IN (${nulls.join(', ')}) THEN NULL ELSE i / 4 END::DOUBLE AS value, 0::UTINYINT AS quality
            FROM range(5000) r(i)) TO '${join(part, 'part-0001.parquet')}' (FORMAT parquet, ROW_GROUP_SIZE 3000)`,
      { root: dir },
    );
    const t = await scanTable({ root: dir, columns: ['ts', 'value'] });
    const ts = t.array('ts') as Float64Array;
    const value = t.array('value') as Float64Array;
    assert.equal(value.length, 5000);
    for (let i = 0; i < 5000; i++) {
      assert.equal(ts[i], Date.UTC(2024, 2, 1) + i * 1000);
      if (nulls.includes(i)) assert.ok(Number.isNaN(value[i]), `row ${i} is NaN`);
      else assert.equal(value[i], i / 4, `row ${i}`);
    }
  } finally {
    await done();
  }
});

test('the DuckDB reader stops cleanly when its caller stops early, with the next fetch in flight', async () => {
  // The reader asks DuckDB for the next vector before it hands over the current chunk; a caller
  // that stops there must not leave that fetch running on a closed connection, or a rejection unhandled.
  const plan = await planScan({ root });
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);
  process.on('unhandledRejection', onUnhandled);
  try {
    for (let round = 0; round < 10; round++) {
      const dicts = { site: new StringDictionary(), asset: new StringDictionary(), signal: new StringDictionary() };
      let chunks = 0;
      for await (const chunk of readChunksDuckdb(plan, ['ts', 'asset', 'value'], dicts, { reuse: true })) {
        assert.ok(chunk.length > 0);
        if (++chunks === 1 + (round % 3)) break;
      }
      assert.equal(chunks, 1 + (round % 3));
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(unhandled, []);
    // and the reader still reads everything afterwards
    assert.equal((await scanTable({ root })).numRows(), all.length);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('an unknown reader is refused', async () => {
  await assert.rejects(scanTable({ root, reader: 'arrow' as never }), (e: unknown) => isErrorCode(e, 'BAD_INPUT') && /'auto', 'pages', 'duckdb' or 'parquet-wasm'/.test(e.message));
});

test('planScan prunes files by path and row groups by statistics', async () => {
  const full = await planScan({ root });
  // Delivery a covers Mar 1-3, delivery b Mar 3-4: 5 files per site.
  assert.equal(full.filesTotal, 10);
  const p = await planScan({ root, sites: 'plant-1', assets: 'motor-2', from: '2024-03-02', to: '2024-03-03' });
  assert.equal(p.filesPrunedByPath, 9, 'only plant-1 / 2024-03-02 survives path pruning');
  assert.ok(p.rowGroupsTotal > 4);
  assert.ok(p.rowGroupsPruned >= p.rowGroupsTotal / 2, `${p.rowGroupsPruned} of ${p.rowGroupsTotal} row groups pruned`);
});

test('scan returns an Arrow table with a timestamp column, dictionary strings, and the site from the path', async () => {
  const t = await scan({ root, sites: ['plant-2'], assets: 'gearbox-3', signals: 'temperature', from: '2024-03-01T05:00Z', to: '2024-03-01T05:02Z' });
  assert.deepEqual(t.schema.fields.map((f) => `${f.name}:${f.type}`), [
    'ts:Timestamp<MILLISECOND, UTC>', 'site:Dictionary<Int32, Utf8>', 'asset:Dictionary<Int32, Utf8>',
    'signal:Dictionary<Int32, Utf8>', 'value:Float64', 'quality:Uint8',
  ]);
  assert.equal(t.numRows, 4);
  const row = t.get(0)!.toJSON();
  assert.equal(row.ts, Date.UTC(2024, 2, 1, 5));
  assert.equal(row.site, 'plant-2');
  // arquero reads the Arrow table (one shared dictionary per column) identically.
  const fromArrow = aq.fromArrow(t as unknown as Parameters<typeof aq.fromArrow>[0]).objects();
  const direct = (await scanTable({ root, sites: ['plant-2'], assets: 'gearbox-3', signals: 'temperature', from: '2024-03-01T05:00Z', to: '2024-03-01T05:02Z' })).objects();
  assert.deepEqual(fromArrow, direct);
});

test('Arrow scan of many files shares one dictionary per column (arquero reads it correctly)', async () => {
  const t = await scan({ root, columns: ['site', 'asset', 'ts'] });
  assert.ok(t.batches.length > 4);
  const dt = aq.fromArrow(t as unknown as Parameters<typeof aq.fromArrow>[0]);
  const counts = dt.groupby('site', 'asset').count().orderby('site', 'asset').objects();
  const expected = aq.from(all).groupby('site', 'asset').count().orderby('site', 'asset').objects();
  assert.deepEqual(counts, expected);
});

test('scanStream yields bounded batches that add up to the scan', async () => {
  let rows = 0;
  let batches = 0;
  const assets = new Set<string>();
  for await (const batch of scanStream({ root, signals: 'current', columns: ['asset', 'value'] })) {
    batches++;
    rows += batch.numRows;
    assert.ok(batch.numRows <= 8 * 65_536);
    for (const a of batch.getChild('asset')!) assets.add(a as string);
    assert.deepEqual(batch.schema.fields.map((f) => f.name), ['asset', 'value']);
  }
  assert.equal(rows, all.filter((r) => r.signal === 'current').length);
  assert.ok(batches > 1);
  assert.deepEqual([...assets].sort(), ['conveyor-1', 'gearbox-3', 'motor-2']);
});

test('scanTable columns option and epoch-ms ts', async () => {
  const t = await scanTable({ root, columns: ['value', 'ts'], sites: 'plant-1', assets: 'motor-2', signals: 'current', to: Date.UTC(2024, 2, 1, 0, 1) });
  assert.deepEqual(t.columnNames(), ['ts', 'value']);
  assert.deepEqual(Array.from(t.array('ts')), Array.of(Date.UTC(2024, 2, 1), Date.UTC(2024, 2, 1, 0, 0, 30)));
});

test('scan errors: missing root, unknown column, bad time, from after to', async () => {
  await assert.rejects(scan({ root: `${root}/nope` }), (e: unknown) => isErrorCode(e, 'NOT_FOUND') && /does not exist/.test(e.message));
  await assert.rejects(scan({ root, columns: ['ts', 'temperature'] }), (e: unknown) => isErrorCode(e, 'BAD_INPUT') && /"temperature"/.test(e.message));
  await assert.rejects(scan({ root, from: 'yesterday' }), (e: unknown) => isErrorCode(e, 'BAD_INPUT') && /from "yesterday" is not a time/.test(e.message));
  await assert.rejects(scan({ root, from: '2024-03-02', to: '2024-03-01' }), (e: unknown) => isErrorCode(e, 'BAD_INPUT') && /is after/.test(e.message));
});

test('millwright scan CLI: readings as CSV, buckets with --every, pruning summary on stderr, usage errors', async () => {
  const io = captureIO({ MILLWRIGHT_STORE: root });
  const args = ['scan', '--site', 'plant-1', '--asset', 'motor-2', '--signal', 'current', '--from', '2024-03-02T10:00:00Z', '--to', '2024-03-02T10:02:00Z', '--format', 'csv'];
  assert.equal(await main(args, io), 0, io.stderr);
  const lines = io.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'ts,site,asset,signal,value,quality');
  assert.deepEqual(lines.slice(1).map((l) => l.split(',')[0]), ['2024-03-02T10:00:00.000Z', '2024-03-02T10:00:30.000Z', '2024-03-02T10:01:00.000Z', '2024-03-02T10:01:30.000Z']);
  const expectedValue = all.find((r) => r.site === 'plant-1' && r.asset === 'motor-2' && r.signal === 'current' && r.ts === Date.UTC(2024, 2, 2, 10))!.value;
  assert.equal(Number(lines[1].split(',')[4]), expectedValue);
  assert.match(io.stderr, /^4 readings from 1 of 10 files \(\d+ of \d+ row groups pruned by statistics\)/);

  const b = captureIO({ MILLWRIGHT_STORE: root });
  assert.equal(await main(['scan', '--site', 'plant-1', '--asset', 'motor-2', '--signal', 'current', '--from', '2024-03-02T10:00:00Z', '--to', '2024-03-02T10:02:00Z', '--every', '1m', '--agg', 'count,max', '--format', 'csv'], b), 0, b.stderr);
  assert.equal(b.stdout.split('\n')[0], 'site,asset,signal,ts,count,max');
  assert.match(b.stdout.split('\n')[1], /^plant-1,motor-2,current,2024-03-02T10:00:00\.000Z,2,/);

  for (const bad of [['scan', '--agg', 'mean'], ['scan', '--format', 'json'], ['scan', '--limit', 'lots']]) {
    const e = captureIO({ MILLWRIGHT_STORE: root });
    assert.equal(await main(bad, e), 2, bad.join(' '));
  }
  const t = captureIO({ MILLWRIGHT_STORE: root });
  assert.equal(await main(['scan', '--from', 'soon'], t), 1);
  assert.match(t.stderr, /from "soon" is not a time/);
});

test("order 'time': rows by (ts, asset, signal) across files, ties in stored order; scanArrays strings and codes agree", async () => {
  const cmp = (x: Row, y: Row) => x.ts - y.ts || (x.asset < y.asset ? -1 : x.asset > y.asset ? 1 : 0) || (x.signal < y.signal ? -1 : x.signal > y.signal ? 1 : 0);
  for (const filter of [{ sites: 'plant-1' }, { sites: 'plant-2', from: '2024-03-02T12:00:00Z', to: '2024-03-03T12:00:00Z' }, {}]) {
    const stored = (await scanTable({ root, ...filter })).objects() as Row[];
    const want = stored.slice().sort(cmp); // Array sort is stable: ties keep the stored order
    const got = (await scanTable({ root, ...filter, order: 'time' })).objects() as Row[];
    assert.ok(got.length > 1000);
    assert.deepEqual(got, want, JSON.stringify(filter));
    const a = await scanArrays({ root, ...filter, order: 'time', columns: ['ts', 'asset', 'signal', 'value'] });
    const c = await scanArrays({ root, ...filter, order: 'time', columns: ['ts', 'asset', 'signal', 'value'], codes: true });
    assert.equal(a.length, want.length);
    assert.deepEqual(Array.from(a.ts!), want.map((r) => r.ts));
    assert.deepEqual(a.asset, want.map((r) => r.asset));
    assert.deepEqual(Array.from(c.assetCode!, (k) => c.assets![k]), a.asset);
    assert.deepEqual(Array.from(c.signalCode!, (k) => c.signals![k]), a.signal);
    assert.deepEqual(c.value, a.value);
  }
  // Name filters (the names DuckDB joins to ids are those of the filtered rows), and no row at all.
  const few = { sites: 'plant-1', assets: ['motor-2', 'motor-1'], signals: ['current'] };
  const fewWant = ((await scanTable({ root, ...few })).objects() as Row[]).sort(cmp);
  assert.ok(fewWant.length > 10);
  assert.deepEqual((await scanTable({ root, ...few, order: 'time' })).objects(), fewWant);
  const none = await scanArrays({ root, sites: 'plant-1', from: '2030-01-01T00:00:00Z', order: 'time', codes: true });
  assert.equal(none.length, 0);
  await assert.rejects(scanTable({ root, order: 'time', reader: 'parquet-wasm' }), (e) => isErrorCode(e, 'BAD_INPUT') && /needs the duckdb reader/.test(e.message));
});

test('the DuckDB reader decodes names longer than 12 bytes and non-ASCII names exactly, across vectors, files and sites', async () => {
  const { dir, cleanup: done } = await tempDir();
  try {
    // 12 and 13 bytes sit on each side of DuckDB's inlined-string limit; 'Gebläse' is 8 chars, 9 bytes.
    const assets = ['a', 'twelve-bytes', 'thirteen-byte', 'Gebläse-Halle-Süd-Nr-7', 'ポンプ-12', 'conveyor-line-north-0001'];
    const signals = ['t', 'temperature-bearing-drive-end', 'Drehzahl'];
    const parts = [0, 1, 2].map((k) => plantBatch({ sites: ['plant-α', 'site-with-a-long-name'], assets, signals, samples: 900 + 500 * k, periodMs: 7_000, seed: 10 + k, timeMajor: k === 1 }));
    for (const b of parts) await writeReadings(dir, b, { rowGroupSize: 1500 });
    const expected = sorted(batchRows(concatBatches(...parts)) as Row[]);
    const dt = await scanTable({ root: dir });
    const wt = await scanTable({ root: dir, reader: 'parquet-wasm' });
    const cols = (t: typeof dt) => Object.fromEntries(t.columnNames().map((c) => [c, t.array(c) as ArrayLike<unknown>]));
    assertSameColumns(cols(dt), cols(wt), 'scanTable');
    assert.deepEqual(sorted(dt.objects() as Row[]), expected);
    const some = await scanTable({ root: dir, assets: ['thirteen-byte', 'ポンプ-12'], signals: 'temperature-bearing-drive-end' });
    assert.deepEqual(sorted(some.objects() as Row[]), expected.filter((r) => ['thirteen-byte', 'ポンプ-12'].includes(r.asset) && r.signal === 'temperature-bearing-drive-end'));
  } finally {
    await done();
  }
});

test('a store file whose pages do not decode: INTEGRITY naming the file, row group and column, not a crash or a wrong answer', async () => {
  const { dir, cleanup: done } = await tempDir();
  try {
    const written = await writeReadings(dir, plantBatch({ samples: 400, periodMs: 60_000, start: Date.UTC(2024, 2, 1), seed: 3 }), { rowGroupSize: 500 });
    const path = written.files[0]!;
    const bytes = new Uint8Array(await readFile(path));
    const end = bytes.subarray(bytes.length - 65536 > 0 ? bytes.length - 65536 : 0);
    const layout = parseStoreFooter(end, bytes.length, ['value']);
    assert.ok(!('unsupported' in layout), 'the store writer\'s files suit the pages reader');
    // overwrite the middle of the first row group's value pages (past the page header): zstd refuses it
    const value = layout.rowGroups[0]!.columns.value!;
    bytes.fill(0xa5, value.offset + 40, value.offset + value.size - 8);
    await writeFile(path, bytes);
    await assert.rejects(scanTable({ root: dir }), (e: unknown) => isErrorCode(e, 'INTEGRITY') && e.message.includes(path) && /row group 0, column value does not decode/.test(e.message));
  } finally {
    await done();
  }
});

test('a whole-store scan split across two threads gives the one-thread reader\'s rows, ids and dictionaries; a filtered scan is not split', async () => {
  const plan = await planScan({ root });
  const columns = ['ts', 'site', 'asset', 'signal', 'value', 'quality'] as const;
  const newDicts = () => ({ site: new StringDictionary(), asset: new StringDictionary(), signal: new StringDictionary() });
  const one = await scanArrays({ root, reader: 'pages', codes: true });
  const dicts = newDicts();
  const two = await readPagesParallel(plan, columns, dicts, 0);
  assert.ok(two, 'the scan was split');
  assert.equal(two.length, all.length);
  assert.deepEqual(dicts.asset.values, one.assets);
  assert.deepEqual(dicts.signal.values, one.signals);
  assertSameColumns({ ts: one.ts!, asset: one.assetCode!, signal: one.signalCode!, value: one.value!, quality: one.quality! }, { ts: two.columns.ts!, asset: two.columns.asset!, signal: two.columns.signal!, value: two.columns.value!, quality: two.columns.quality! }, 'two threads');
  const sites = two.columns.site as Int32Array;
  assert.deepEqual([...new Set(sites)].map((id) => dicts.site.values[id]), [...new Set(one.site!)]);
    assert.equal(await readPagesParallel(await planScan({ root, assets: ['motor-2'] }), columns, newDicts(), 0), undefined, 'a filtered scan reads on one thread');
});
