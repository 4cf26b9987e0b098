import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm/node';
import { ingest, inspectParquet, MAX_TS, MIN_TS, splitQuoted } from '../../lib/ingest/index.ts';
import { noRealData, realDataDir, repoRoot } from '../helpers/data.ts';
import { readStore } from './store-reader.ts';
import { cliArgs } from '../helpers/cli.ts';

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mw-pq-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const corpus = () => join(realDataDir()!, 'parquet-testing');

interface Documented {
  rows: number;
  firstRows?: Record<string, unknown>[];
}

/** READER_SUMMARY.md: num_rows and the first rows (the JSON may be cut short: keep whole objects). */
function documented(): Map<string, Documented> {
  const text = readFileSync(join(corpus(), 'READER_SUMMARY.md'), 'utf8');
  const out = new Map<string, Documented>();
  for (const section of text.split('\n### ').slice(1)) {
    const name = section.slice(0, section.indexOf('\n')).trim();
    const rows = /num_rows: (\d+)/.exec(section);
    if (!rows) continue;
    const doc: Documented = { rows: Number(rows[1]) };
    const first = /hyparquet first rows: (\[.*)$/m.exec(section);
    if (first) {
      try {
        doc.firstRows = JSON.parse(first[1]);
      } catch {
        // Cut short: every object but the last is whole (the last one may end mid-value).
        const parts = first[1].slice(2).split('},{').slice(0, -1);
        doc.firstRows = parts.map((p) => JSON.parse(`{${p}}`));
      }
    }
    out.set(name, doc);
  }
  return out;
}

/** Files of data/ that are refused, and why (asserted): checksums, and a malformed file. */
const REFUSED: Record<string, RegExp> = {
  'datapage_v1-corrupt-checksum.parquet': /column "a" page 1: checksum mismatch .*the file is corrupt/,
  'rle-dict-uncompressed-corrupt-checksum.parquet': /column "long_field" page 1: checksum mismatch/,
  'nation.dict-malformed.parquet': /column "name" page 2: page size 28 runs past the column chunk/,
};

function sameCell(doc: unknown, got: number | string | null, kind: string, where: string): void {
  if (doc === null) return assert.equal(got, null, where);
  if (typeof doc === 'boolean') return assert.equal(got, doc ? 1 : 0, where);
  // JSON has no -0, so compare with === (0 === -0), not Object.is.
  if (typeof doc === 'number') return assert.ok(got === doc, `${where}: ${got} vs ${doc}`);
  if (typeof doc === 'string') {
    if (/^-?\d+n$/.test(doc)) return assert.equal(got, Number(doc.slice(0, -1)), where);
    if (doc === 'NaN') return assert.ok(Number.isNaN(got), where);
    if (kind === 'time') return assert.equal(got, Date.parse(doc), where);
    if (/^bytes\[\d+\]$/.test(doc)) return assert.equal(kind, 'text', where);
    return assert.equal(got, doc, where);
  }
  assert.equal(kind, 'nested', `${where}: documented as ${JSON.stringify(doc)}`);
}

test('parquet-testing data/: every file decodes to its documented row count and first rows, or is refused with its reason', { skip: noRealData() }, async () => {
  const docs = documented();
  const dir = join(corpus(), 'data');
  const files = readdirSync(dir).filter((f) => f.endsWith('.parquet'));
  assert.ok(files.length >= 40, `${files.length} files`);
  let checkedCells = 0;
  for (const f of files) {
    const doc = docs.get(`data/${f}`);
    assert.ok(doc, `${f} is documented`);
    if (REFUSED[f]) {
      await assert.rejects(inspectParquet(join(dir, f), f), (e: Error) => e.message.startsWith(`${f}: `) && REFUSED[f].test(e.message), f);
      continue;
    }
    const { rows, columns } = await inspectParquet(join(dir, f), f);
    assert.equal(rows, doc.rows, `${f}: rows`);
    for (const [i, r] of (doc.firstRows ?? []).entries()) {
      for (const [name, value] of Object.entries(r)) {
        const c = columns.find((x) => x.name === name);
        assert.ok(c, `${f}: column ${name}`);
        sameCell(value, c.value(i), c.kind, `${f} row ${i + 1} ${name}`);
        checkedCells++;
      }
    }
  }
  assert.ok(checkedCells > 300, `${checkedCells} documented cells compared`);
});

test('dict-page-offset-zero.parquet (a footer arrow-rs refuses) is read in full: 39 rows of l_partkey 1552, as documented and as DuckDB reads it', { skip: noRealData() }, async () => {
  const f = join(corpus(), 'data', 'dict-page-offset-zero.parquet');
  // The decoder alone still refuses it, so the test proves the fallback is what reads it.
  assert.throws(() => pw.readParquet(readFileSync(f)), /Expected list element type of I64 but got I16/);
  const doc = documented().get('data/dict-page-offset-zero.parquet')!;
  const { rows, columns } = await inspectParquet(f, 'dict-page-offset-zero.parquet');
  assert.equal(rows, doc.rows);
  assert.equal(rows, 39);
  assert.deepEqual(columns.map((c) => [c.name, c.kind]), [['l_partkey', 'number']]);
  const values = Array.from({ length: rows }, (_, i) => columns[0].value(i));
  for (const [i, r] of doc.firstRows!.entries()) assert.equal(values[i], r.l_partkey);
  // Every value, against DuckDB's own read of the original file (its statistics say min = max = 1552).
  const duck = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import { DuckDBInstance } from '@duckdb/node-api';
    const c = await (await DuckDBInstance.create(':memory:')).connect();
    const r = await c.runAndReadAll("SELECT l_partkey FROM read_parquet('${f}', file_row_number = true) ORDER BY file_row_number");
    console.log(JSON.stringify(r.getRows().map((x) => x[0])));`], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(duck.status, 0, duck.stderr);
  assert.deepEqual(values, JSON.parse(duck.stdout));
  assert.deepEqual([...new Set(values)], [1552]);
});

test('parquet-testing data/: the delta-encoded files match their *_expect.csv in full', { skip: noRealData() }, async () => {
  for (const base of ['delta_binary_packed', 'delta_encoding_optional_column', 'delta_encoding_required_column']) {
    const lines = readFileSync(join(corpus(), 'data', `${base}_expect.csv`), 'utf8').trim().split('\n');
    // The expected files quote every cell, and one header has a leading space the Parquet column lacks.
    const split = (l: string) => {
      const f = splitQuoted(l);
      assert.ok(Array.isArray(f), l);
      return f;
    };
    const header = split(lines[0]).map((h) => h.trim());
    const { rows, columns } = await inspectParquet(join(corpus(), 'data', `${base}.parquet`));
    assert.equal(rows, lines.length - 1, base);
    for (let i = 1; i < lines.length; i++) {
      const cells = split(lines[i]);
      header.forEach((h, k) => {
        const c = columns[k];
        // delta_encoding_required_column's Parquet names end in ":" (so its READER_SUMMARY schema shows), its CSV's do not.
        assert.equal(c.name.replace(/:$/, ''), h);
        const want = cells[k] === '' ? null : c.kind === 'number' ? Number(cells[k]) : cells[k];
        assert.equal(c.value(i - 1), want, `${base} row ${i} ${h}`);
      });
    }
  }
});

test('wide Parquet from Impala/parquet-mr/Spark (INT96 times) ingested: every finite cell a reading, nulls rejected by row and column', { skip: noRealData() }, async (t) => {
  const dir = scratch(t);
  for (const [f, tsCol] of [
    ['alltypes_plain.parquet', 'timestamp_col'],
    ['alltypes_dictionary.parquet', 'timestamp_col'],
    ['int96_from_spark.parquet', 'a'],
  ]) {
    const path = join(corpus(), 'data', f);
    const { rows, columns } = await inspectParquet(path);
    const ts = columns.find((c) => c.name === tsCol)!;
    const numeric = columns.filter((c) => c.kind === 'number');
    let want = 0;
    let wantRejects = 0;
    for (let i = 0; i < rows; i++) {
      const t = ts.value(i);
      if (t === null || (t as number) < MIN_TS || (t as number) > MAX_TS) {
        wantRejects++;
        continue;
      }
      for (const c of numeric) {
        const v = c.value(i);
        if (typeof v === 'number' && Number.isFinite(v)) want++;
        else wantRejects++;
      }
    }
    const store = join(dir, f);
    const rejects = join(dir, `${f}.rejects`);
    const s = await ingest([path], { store, rejects, format: 'wide-parquet', site: 'lake', wide: { asset: 'impala', timestampColumn: tsCol } });
    assert.equal(s.sources[0].error, undefined, f);
    assert.equal(s.rowsAccepted, want, f);
    assert.equal(s.rowsRejected, wantRejects, f);
    assert.deepEqual(s.sources[0].columns!.signals, numeric.map((c) => c.name));
    assert.deepEqual(
      s.sources[0].columns!.leftOut.map((l) => l.column),
      columns.filter((c) => c.kind === 'text').map((c) => c.name),
    );
    const stored = await readStore(store);
    assert.equal(stored.length, want);
    if (f === 'int96_from_spark.parquet') {
      // Only a time column: no readings; a null time and times outside 1900-9999 are rejects naming row and column.
      const r = readFileSync(rejects, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(r.length, wantRejects);
      assert.ok(r.every((x) => x.column === 'a'));
      assert.ok(r.some((x) => x.reason === 'null timestamp'));
    }
    if (f === 'alltypes_plain.parquet') {
      const first = stored.filter((x) => x.signal === 'double_col').sort((a, b) => a.ts - b.ts);
      assert.deepEqual(first.map((x) => new Date(x.ts).toISOString()).slice(0, 2), ['2009-01-01T00:00:00.000Z', '2009-01-01T00:01:00.000Z']);
    }
  }
});

/** A Parquet file written by arrow-rs (parquet-wasm), as another tool would. */
function writeParquet(path: string, table: arrow.Table): void {
  const wasm = pw.Table.fromIPCStream(arrow.tableToIPC(table, 'stream'));
  writeFileSync(path, pw.writeParquet(wasm, new pw.WriterPropertiesBuilder().setCompression(pw.Compression.SNAPPY).build()));
}

test('Parquet INT64 timestamps (ms, us, ns; UTC-adjusted or naive), long form, NaN and null cells', async (t) => {
  const dir = scratch(t);
  const wall = [Date.UTC(2024, 9, 27, 0, 30), Date.UTC(2024, 9, 27, 2, 30), Date.UTC(2024, 9, 27, 4, 0)];
  // Arrow JS builders take epoch ms and scale to the unit; parquet-wasm writes INT64 TIMESTAMP(unit, isAdjustedToUTC = tz !== null).
  const units = { ms: arrow.TimeUnit.MILLISECOND, us: arrow.TimeUnit.MICROSECOND, ns: arrow.TimeUnit.NANOSECOND } as const;
  for (const [name, unit] of Object.entries(units)) {
    for (const tz of [null, 'UTC']) {
      const type = new arrow.Timestamp(unit, tz);
      const ts = arrow.vectorFromArray(wall, type);
      const table = new arrow.Table({
        time: ts,
        pressure: arrow.vectorFromArray([1.5, NaN, 2.5], new arrow.Float64()),
        valve_open: arrow.vectorFromArray([true, null, false], new arrow.Bool()),
      });
      const path = join(dir, `${name}-${tz ?? 'naive'}.parquet`);
      writeParquet(path, table);
      const rejects = join(dir, `${name}-${tz}.rejects`);
      const store = join(dir, `store-${name}-${tz}`);
      if (tz === null) {
        const refused = await ingest([path], { store, rejects, site: 's', wide: { asset: 'a' } });
        assert.match(refused.sources[0].error!, /time column "time" \(Timestamp<\w+>\) holds local times without a zone \(isAdjustedToUTC = false\): pass --timezone ZONE/);
      }
      const s = await ingest([path], { store, rejects, site: 's', timezone: tz === null ? 'Europe/Berlin' : undefined, ambiguous: 'later', wide: { asset: 'a' } });
      assert.equal(s.sources[0].error, undefined, path);
      assert.equal(s.rowsAccepted, 4);
      assert.equal(s.rowsRejected, 2);
      const r = readFileSync(rejects, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(r.map((x) => [x.line, x.column, x.reason]), [
        [2, 'pressure', 'value NaN is not a finite number'],
        [2, 'valve_open', 'null cell (no value)'],
      ]);
      const times = [...new Set((await readStore(store)).map((x) => new Date(x.ts).toISOString()))].sort();
      assert.deepEqual(
        times,
        tz === null
          ? ['2024-10-26T22:30:00.000Z', '2024-10-27T03:00:00.000Z'] // 00:30 CEST; 04:00 CET (02:30 was ambiguous, later = 01:30Z, but that row was rejected cells only)
          : ['2024-10-27T00:30:00.000Z', '2024-10-27T04:00:00.000Z'],
      );
    }
  }
  // Long form from another tool: ts, asset, signal, value (+ quality), a null value rejected.
  const long = new arrow.Table({
    ts: arrow.vectorFromArray([1709290800000, 1709290801000, 1709290802000], new arrow.TimestampMillisecond('UTC')),
    asset: arrow.vectorFromArray(['kiln-1', 'kiln-1', 'kiln-2'], new arrow.Utf8()),
    signal: arrow.vectorFromArray(['temp', 'temp', 'temp'], new arrow.Utf8()),
    value: arrow.vectorFromArray([812.5, null, 799], new arrow.Float64()),
    quality: arrow.vectorFromArray([0, 0, 2], new arrow.Uint8()),
  });
  writeParquet(join(dir, 'long.parquet'), long);
  const s = await ingest([join(dir, 'long.parquet')], { store: join(dir, 'long-store'), rejects: join(dir, 'long.rejects'), site: 'plant' });
  assert.equal(s.rowsAccepted, 2);
  assert.equal(s.rowsRejected, 1);
  const stored = (await readStore(join(dir, 'long-store'))).sort((a, b) => a.ts - b.ts);
  assert.deepEqual(stored.map((x) => [x.asset, x.value, x.quality, x.site]), [['kiln-1', 812.5, 0, 'plant'], ['kiln-2', 799, 2, 'plant']]);
});

function snapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else out.push(`${relative(root, p)} ${st.size} ${st.mtimeMs}`);
    }
  };
  walk(root);
  return out.sort();
}

test('parquet-testing bad_data/: each file refused with its name and reason, the process survives, the store is unchanged', { skip: noRealData() }, async (t) => {
  const dir = scratch(t);
  const store = join(dir, 'store');
  const seed = join(dir, 'seed.csv');
  writeFileSync(seed, 'ts,asset,signal,value\n2024-03-01T00:00:00Z,a,b,1\n');
  await ingest([seed], { store, site: 'plant' });
  const before = snapshot(store);
  const bad = join(corpus(), 'bad_data');
  const files = readdirSync(bad).filter((f) => f.endsWith('.parquet'));
  assert.equal(files.length, 8);
  for (const f of files) {
    for (const format of ['wide-parquet', 'parquet'] as const) {
      const s = await ingest([join(bad, f)], { store, format, site: 'plant', rejects: join(dir, 'r.ndjson'), wide: format === 'wide-parquet' ? { asset: 'x' } : undefined });
      assert.equal(s.rowsAccepted, 0, f);
      const err = s.sources[0].error;
      assert.ok(err, `${f} (${format}) refused`);
      assert.ok(err.startsWith(`${join(bad, f)}: `), `${f}: the error names the file: ${err}`);
      assert.match(err, /corrupt|cannot decode|malformed|unreadable|checksum|runs past|no time column|no "ts" column|expected/, `${f}: ${err}`);
      assert.deepEqual(snapshot(store), before, `${f}: store unchanged`);
    }
  }
  // The same files through the CLI in a child process: exit 1, one reason per file, no crash.
  const child = spawnSync(process.execPath, cliArgs('ingest', ...files.map((f) => join(bad, f)), '--format', 'wide-parquet', '--site', 'plant', '--asset', 'x', '--store', store), {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(child.status, 1, child.stderr);
  for (const f of files) assert.match(child.stderr, new RegExp(`not ingested: ${join(bad, f).replaceAll('.', '\\.')}: `), f);
  assert.deepEqual(snapshot(store), before);
});
