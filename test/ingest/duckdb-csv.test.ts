import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest, type IngestSummary } from '../../lib/ingest/index.ts';
import { scanArrays } from '../../lib/store/index.ts';
import { writeReadings } from '../../lib/store/index.ts';
import { STORE_ARROW_SCHEMA } from '../../lib/ingest/store-arrow-schema.ts';
import { DuckDBInstance } from '@duckdb/node-api';
import { partFiles, readStore } from './store-reader.ts';

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mw-duckdb-csv-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const SIGNALS = ['vibration_x', 'bearing_temp', 'motor_current'];

/** A realistic one-day export: 12 series interleaved in runs, values with 1-17 significant digits. */
function cleanCsv(n: number, eol = '\n'): string {
  const t0 = Date.UTC(2024, 2, 1, 3);
  const lines = ['ts,site,asset,signal,value'];
  for (let i = 0; i < n; i++) {
    const series = Math.floor(i / 50) % 12;
    const ts = new Date(t0 + Math.floor(i / 600) * 50_000 + (i % 50) * 1000 + series).toISOString();
    const v = i % 7 === 0 ? (Math.sin(i) * 1e3).toPrecision(17) : i % 5 === 0 ? `${(i % 97) - 40}` : (Math.cos(i) * 80).toFixed(3);
    const ts2 = i % 11 === 0 ? ts.replace('T', ' ').replace('Z', '+00:00') : i % 13 === 0 ? ts.replace('.', '.').replace('Z', '123Z') : ts;
    const asset = i % 17 === 0 ? `"conveyor-${series % 4}"` : `conveyor-${series % 4}`;
    lines.push(`${ts2},plant-1,${asset},${SIGNALS[series % 3]},${v}`);
  }
  return lines.join(eol) + eol;
}

async function both(t: { after: (fn: () => void) => void }, text: string, name = 'r.csv'): Promise<{ js: IngestSummary; duck: IngestSummary; jsStore: string; duckStore: string; jsRejects: string; duckRejects: string }> {
  const dir = scratch(t);
  const file = join(dir, name);
  writeFileSync(file, text);
  const jsStore = join(dir, 'js', 'store');
  const duckStore = join(dir, 'duck', 'store');
  const jsRejects = join(dir, 'js-rejects.ndjson');
  const duckRejects = join(dir, 'duck-rejects.ndjson');
  const js = await ingest([file], { store: jsStore, rejects: jsRejects, engine: 'js' });
  const duck = await ingest([file], { store: duckStore, rejects: duckRejects, engine: 'duckdb' });
  return { js, duck, jsStore, duckStore, jsRejects, duckRejects };
}

const key = (r: { site: string; date: string; asset: string; signal: string; ts: number }) => `${r.site}/${r.date}/${r.asset}/${r.signal}/${r.ts}`;
/** The writer named in each file's footer ('DuckDB …' or 'millwright (parquet-wasm)'). */
async function writers(root: string): Promise<string[]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const out: string[] = [];
  for (const f of partFiles(root)) out.push(String((await c.runAndReadAll(`SELECT created_by FROM parquet_file_metadata('${f}')`)).getRows()[0][0]).split(' ')[0]);
  return out;
}

async function sortedStore(root: string) {
  return (await readStore(root)).map(({ file: _file, ...r }) => r).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.value - b.value));
}

test('duckdb engine: a clean file becomes one sorted file per partition with the JS writer\'s readings, types and footer schema', async (t) => {
  for (const eol of ['\n', '\r\n']) {
    const r = await both(t, cleanCsv(6000, eol));
    assert.equal(r.duck.rowsAccepted, 6000);
    assert.equal(r.duck.rowsRejected, 0);
    assert.deepEqual(await writers(r.duckStore), ['DuckDB'], 'the DuckDB path wrote one file (no fallback)');
    assert.deepEqual(await writers(r.jsStore), ['millwright']);
    assert.deepEqual(await sortedStore(r.duckStore), await sortedStore(r.jsStore));
    // Stored order: (asset, signal, ts), as the JS writer's.
    const rows = (await readStore(r.duckStore)).map((x) => [x.asset, x.signal, x.ts] as const);
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1] <= rows[i] || (rows[i - 1][0] === rows[i][0] && rows[i - 1][1] === rows[i][1] ? rows[i - 1][2] <= rows[i][2] : rows[i - 1][0] + rows[i - 1][1] < rows[i][0] + rows[i][1]), `row ${i} in (asset, signal, ts) order`);
    // Both Parquet readers of scan give the same arrays for both stores (parquet-wasm reads the footer's Arrow schema).
    for (const reader of ['duckdb', 'parquet-wasm'] as const) {
      const cols = ['ts', 'site', 'asset', 'signal', 'value', 'quality'] as const;
      const a = await scanArrays({ root: r.jsStore, reader, columns: [...cols] });
      const b = await scanArrays({ root: r.duckStore, reader, columns: [...cols] });
      assert.equal(b.length, a.length);
      // One file per partition against one per batch: compare in (asset, signal, ts, value) order.
      const rowsOf = (s: typeof a) => [...Array(s.length).keys()].map((i) => [s.site![i], s.asset![i], s.signal![i], s.ts![i], s.value![i], s.quality![i]] as const).sort((x, y) => (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : x[2] < y[2] ? -1 : x[2] > y[2] ? 1 : x[3] - y[3] || x[4] - y[4]));
      assert.deepEqual(rowsOf(b), rowsOf(a), reader);
    }
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const types = async (f: string) => (await c.runAndReadAll(`SELECT name, type, converted_type, CASE WHEN name = 'ts' THEN logical_type END FROM parquet_schema('${f}') WHERE name <> 'duckdb_schema' AND name <> 'arrow_schema'`)).getRows().map((x) => x.map(String).join(' '));
    // Same physical and logical types; DuckDB marks every column OPTIONAL (parquet-wasm: REQUIRED
    // but value), which no reader of the store looks at.
    assert.deepEqual(await types(partFiles(r.duckStore)[0]), await types(partFiles(r.jsStore)[0]));
  }
});

test('duckdb engine: the footer schema constant is what parquet-wasm writes', async (t) => {
  const dir = scratch(t);
  const w = await writeReadings(dir, { ts: Float64Array.of(Date.UTC(2024, 0, 1)), site: ['p'], asset: ['a'], signal: ['s'], value: Float64Array.of(1) });
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const kv = (await c.runAndReadAll(`SELECT decode(value) FROM parquet_kv_metadata('${w.files[0]}') WHERE decode(key) = 'ARROW:schema'`)).getRows();
  assert.equal(String(kv[0][0]), STORE_ARROW_SCHEMA);
});

test('duckdb engine: bad rows, empty lines, quoted fields, CRLF, a second day, duplicates: the same rejects and store as the JS reader', async (t) => {
  const good = cleanCsv(300).trim().split('\n');
  const cases: Record<string, string[]> = {
    'bad number': [...good, '2024-03-01T05:00:00Z,plant-1,conveyor-1,vibration_x,n/a', '2024-03-01T05:00:01Z,plant-1,conveyor-1,vibration_x,0x10', '2024-03-01T05:00:02Z,plant-1,conveyor-1,vibration_x, 1', '2024-03-01T05:00:03Z,plant-1,conveyor-1,vibration_x,1_000', '2024-03-01T05:00:04Z,plant-1,conveyor-1,vibration_x,Infinity'],
    'bad timestamp': [...good, '2024-03-01 05:00:00,plant-1,conveyor-1,vibration_x,1', '2024-03-01T24:00:00Z,plant-1,conveyor-1,vibration_x,1', '2024-02-30T01:00:00Z,plant-1,conveyor-1,vibration_x,1', '1709294400000,plant-1,conveyor-1,vibration_x,2'],
    'missing and extra columns': [...good, '2024-03-01T05:00:00Z,plant-1,conveyor-1,vibration_x', '2024-03-01T05:00:00Z,plant-1,conveyor-1,vibration_x,1,2', '2024-03-01T05:00:00Z,plant-1,,vibration_x,1'],
    'empty lines and quotes': [good[0], '', ...good.slice(1, 100), '', '', ...good.slice(100), '2024-03-01T05:00:00Z,plant-1,"conveyor, 9",vibration_x,"1.5"', '2024-03-01T05:00:01Z,plant-1,"say ""hi""",vibration_x,1', '2024-03-01T05:00:02Z,plant-1,"open,vibration_x,1', '2024-03-01T05:00:03Z,plant-1,"multi', 'line",vibration_x,1'],
    'bad site': [...good, '2024-03-01T05:00:00Z,../etc,conveyor-1,vibration_x,1'],
    'second day': [...good, '2024-03-02T05:00:00Z,plant-1,conveyor-1,vibration_x,1'],
    'conflicting duplicate': [...good, good[5].replace(/,[^,]*$/, ',12345'), good[5]],
    'exact duplicate': [...good, good[7]],
  };
  for (const [name, lines] of Object.entries(cases)) {
    for (const eol of ['\n', '\r\n']) {
      const r = await both(t, lines.join(eol) + eol);
      assert.equal(r.duck.rowsAccepted, r.js.rowsAccepted, name);
      assert.equal(r.duck.rowsRejected, r.js.rowsRejected, name);
      const rejects = (f: string) => {
        try {
          return readFileSync(f, 'utf8').trim().split('\n').map((l) => ({ ...JSON.parse(l), source: 'x' }));
        } catch {
          return [];
        }
      };
      assert.deepEqual(rejects(r.duckRejects), rejects(r.jsRejects), `${name}: same rejects`);
      assert.deepEqual(await sortedStore(r.duckStore), await sortedStore(r.jsStore), `${name}: same readings`);
      const jsFiles = partFiles(r.jsStore).length;
      assert.deepEqual(await writers(r.duckStore), name === 'exact duplicate' ? ['DuckDB'] : Array(jsFiles).fill('millwright'), `${name}: DuckDB path only for the exact duplicate`);
      if (name !== 'exact duplicate') assert.deepEqual((await readStore(r.duckStore)).map((x) => [x.asset, x.signal, x.ts, x.value]), (await readStore(r.jsStore)).map((x) => [x.asset, x.signal, x.ts, x.value]), `${name}: fell back, same stored order`);
    }
  }
  assert.deepEqual(readdirSync(tmpdir()).filter((n) => n.startsWith('.ingest-')), []);
});
