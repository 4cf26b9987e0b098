import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { getDataset, readingsTable, tableToCsv, tableToNdjson } from '../../datasets/index.ts';
import { main } from '../../cli/main.ts';
import { ingest } from '../../lib/ingest/index.ts';
import { captureIO } from '../helpers/io.ts';
import { noRealData, realDataDir, repoRoot } from '../helpers/data.ts';
import { readStore } from './store-reader.ts';
import { cliArgs } from '../helpers/cli.ts';

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mw-ingest-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const T0 = Date.parse('2024-03-01T23:59:58Z');

/** A realistic plant CSV crossing midnight (two date partitions), 3 assets x 2 signals. */
function plantCsv(n: number): { text: string; rows: { ts: number; asset: string; signal: string; value: number }[] } {
  const rows = [];
  let text = 'ts,site,asset,signal,value\n';
  for (let i = 0; i < n; i++) {
    const r = { ts: T0 + i * 250, asset: `conveyor-${i % 3}`, signal: i % 2 ? 'motor_current' : 'bearing_temp', value: Math.round(Math.sin(i) * 1e4) / 100 };
    rows.push(r);
    text += `${new Date(r.ts).toISOString()},plant-1,${r.asset},${r.signal},${r.value}\n`;
  }
  return { text, rows };
}

const key = (r: { asset: string; signal: string; ts: number }) => `${r.asset}|${r.signal}|${r.ts}`;

test('ingest CLI: accepted rows land in the store exactly, bad rows go to a rejects file beside the store', async (t) => {
  const dir = scratch(t);
  const { text, rows } = plantCsv(40);
  const bad = ['2024-03-02T00:00:30Z,plant-1,conveyor-0,bearing_temp,hot', 'then,plant-1,conveyor-0,bearing_temp,1', '2024-03-02T00:00:31Z,../etc,conveyor-0,bearing_temp,1'];
  writeFileSync(join(dir, 'in.csv'), text + bad.join('\n') + '\n');
  const io = captureIO();
  const code = await main(['ingest', join(dir, 'in.csv'), '--store', join(dir, 'store'), '--batch-rows', '16'], io);
  assert.equal(code, 0, io.stderr);
  assert.match(io.stdout, /^40 rows accepted, 3 rejected, \d+ file\(s\) written in [\d.]+ s \([\d,]+ rows\/s\)/);
  assert.equal(io.stderr, '', 'quiet when not a terminal');
  const stored = await readStore(join(dir, 'store'));
  assert.deepEqual(stored.map(key).sort(), rows.map(key).sort());
  const byKey = new Map(stored.map((s) => [key(s), s]));
  for (const r of rows) assert.equal(byKey.get(key(r))!.value, r.value);
  assert.deepEqual([...new Set(stored.map((s) => s.date))].sort(), ['2024-03-01', '2024-03-02']);
  // Rejects: beside the store, NDJSON with source, line, reason, raw.
  const rejectDir = join(dir, 'rejects');
  const files = readdirSync(rejectDir);
  assert.equal(files.length, 1);
  assert.match(io.stdout, new RegExp(`rejects: ${join(rejectDir, files[0]).replaceAll('.', '\\.')}`));
  const rejects = readFileSync(join(rejectDir, files[0]), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(rejects.map((r) => [r.line, r.raw, r.source]), bad.map((b, i) => [42 + i, b, join(dir, 'in.csv')]));
  assert.match(rejects[0].reason, /value "hot" is not a finite number/);
  assert.match(rejects[1].reason, /unparseable timestamp "then"/);
  assert.match(rejects[2].reason, /invalid site partition value "\.\.\/etc"/);
  assert.deepEqual(readdirSync(join(dir, 'store')), ['site=plant-1'], 'nothing written outside the site partition');
});

test('ingest CLI: NDJSON with --rejects and --json; an input with a bad header fails (exit 1) while the others go in', async (t) => {
  const dir = scratch(t);
  const nd = [
    { ts: '2024-03-01T10:00:00+01:00', asset: 'press-1', signal: 'pressure', value: 3.5, quality: 2 },
    { ts: 1709287200000, asset: 'press-1', signal: 'pressure', value: 3.75 },
    { ts: '2024-03-01T10:00:02Z', asset: 'press-1', signal: 'pressure', value: 3.75, colour: 'red' },
  ];
  writeFileSync(join(dir, 'a.ndjson'), nd.map((o) => JSON.stringify(o)).join('\n'));
  writeFileSync(join(dir, 'b.csv'), 'ts,asset,signal,value,unit\n2024-03-01T00:00:00Z,x,y,1,C\n');
  const io = captureIO();
  const code = await main(['ingest', join(dir, 'b.csv'), join(dir, 'a.ndjson'), '--store', join(dir, 'store'), '--site', 'plant-2', '--rejects', join(dir, 'bad.ndjson'), '--json'], io);
  assert.equal(code, 1);
  const summary = JSON.parse(io.stdout);
  assert.equal(summary.rowsAccepted, 2);
  assert.equal(summary.rowsRejected, 1);
  assert.equal(summary.rejectsFile, join(dir, 'bad.ndjson'));
  assert.match(summary.sources[0].error, /unknown column "unit" in header/);
  assert.match(io.stderr, /not ingested: .*b\.csv: unknown column "unit"/);
  const stored = await readStore(join(dir, 'store'));
  assert.deepEqual(
    stored.map((s) => [s.site, s.ts, s.value, s.quality]),
    [
      ['plant-2', Date.parse('2024-03-01T09:00:00Z'), 3.5, 2],
      ['plant-2', 1709287200000, 3.75, 0],
    ],
  );
  const rej = JSON.parse(readFileSync(join(dir, 'bad.ndjson'), 'utf8'));
  assert.equal(rej.line, 3);
  assert.match(rej.reason, /unknown column "colour"/);
});

test('ingest from stdin (-): CSV through the real binary; NDJSON auto-detected by its first character', async (t) => {
  const dir = scratch(t);
  const { text, rows } = plantCsv(10);
  const a = spawnSync(process.execPath, cliArgs('ingest', '-', '--store', join(dir, 'store')), { cwd: repoRoot, input: text, encoding: 'utf8' });
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stdout, /^10 rows accepted, 0 rejected/);
  const ndjson = rows.map((r) => JSON.stringify({ ...r, ts: r.ts + 3_600_000, site: 'plant-9' })).join('\n');
  const b = await ingest(['-'], { store: join(dir, 'store'), stdin: Readable.from([Buffer.from(`\n  ${ndjson}`)]) });
  assert.equal(b.rowsAccepted, 10);
  const stored = await readStore(join(dir, 'store'));
  assert.equal(stored.length, 20);
  assert.deepEqual([...new Set(stored.map((s) => s.site))].sort(), ['plant-1', 'plant-9']);
  const empty = await ingest(['-'], { store: join(dir, 'store'), site: 'p', stdin: Readable.from([]) });
  assert.match(empty.sources[0].error ?? '', /-: no header line/);
});

test('ingest: worker-thread parsing and parallel writer threads give the same store and rejects as one thread', async (t) => {
  const dir = scratch(t);
  const { text } = plantCsv(5000);
  writeFileSync(join(dir, 'in.csv'), text.replace(/\n2024-03-02T00:00:0\dZ?.*?,motor_current,/, '\nbroken,plant-1,x,motor_current,'));
  const results = [];
  for (const [worker, writers] of [[true, 2], [false, 0]] as const) {
    const store = join(dir, `store-${worker}`);
    const s = await ingest([join(dir, 'in.csv')], { store, worker, writers, batchRows: 1500, rejects: join(dir, `rej-${worker}.ndjson`) });
    results.push({ s, stored: (await readStore(store)).map((r) => `${r.site}|${key(r)}|${r.value}`).sort() });
  }
  assert.equal(results[0].s.rowsAccepted, 4999);
  assert.equal(results[0].s.rowsRejected, 1);
  assert.equal(results[0].s.batches, 4);
  assert.deepEqual(results[0].stored, results[1].stored);
  assert.equal(readFileSync(join(dir, 'rej-true.ndjson'), 'utf8'), readFileSync(join(dir, 'rej-false.ndjson'), 'utf8'));
});

test('ingest reads gzip-compressed inputs (.csv.gz, .ndjson.gz) by extension', async (t) => {
  const dir = scratch(t);
  const { text, rows } = plantCsv(30);
  writeFileSync(join(dir, 'a.csv.gz'), gzipSync(text));
  writeFileSync(join(dir, 'b.ndjson.gz'), gzipSync(rows.map((r) => JSON.stringify({ ...r, site: 'plant-2' })).join('\n')));
  const s = await ingest([join(dir, 'a.csv.gz'), join(dir, 'b.ndjson.gz')], { store: join(dir, 'store') });
  assert.equal(s.rowsAccepted, 60);
  assert.equal(s.rowsRejected, 0);
  const stored = await readStore(join(dir, 'store'));
  assert.deepEqual(stored.filter((x) => x.site === 'plant-2').map(key).sort(), rows.map(key).sort());
});

test('ingest CLI on a terminal shows progress (rows, rows/s) on stderr and keeps stdout for the summary', async (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, 'in.csv'), plantCsv(3000).text);
  const io = { ...captureIO(), isTTY: true };
  const tty = Object.assign(io, {
    out(s: string) {
      tty.stdout += s;
    },
    err(s: string) {
      tty.stderr += s;
    },
  });
  assert.equal(await main(['ingest', join(dir, 'in.csv'), '--store', join(dir, 'store'), '--batch-rows', '500'], tty), 0);
  // eslint-disable-next-line no-control-regex -- the progress line starts with "erase line"
  assert.match(tty.stderr, /\r\x1b\[K3,000 rows {2}[\d,]+ rows\/s/);
  assert.match(tty.stdout, /^3,000 rows accepted/, 'the summary stays on stdout');
});

test('ingest CLI usage errors exit 2 and say what was expected', async () => {
  const cases: [string[], RegExp][] = [
    [['ingest'], /no input given/],
    [['ingest', 'x.csv', '--batch-rows', '0'], /--batch-rows must be a positive integer/],
    [['ingest', 'x.csv', '--format', 'xml'], /--format must be csv or ndjson/],
    [['ingest', 'x.csv', '--store', 'a', '--spool', 'b'], /either --store or --spool/],
    [['ingest', '-', '-'], /stdin \(-\) can be read only once/],
    [['gateway', '--every', 'soon'], /--every: "soon" is not a duration \(expected e\.g\. "500ms"/],
  ];
  for (const [args, re] of cases) {
    const io = captureIO();
    assert.equal(await main(args, io), 2, args.join(' '));
    assert.match(io.stderr, re);
  }
  const io = captureIO();
  assert.equal(await main(['ingest', '/nonexistent/readings.csv', '--store', join(tmpdir(), 'mw-never')], io), 1);
  assert.match(io.stderr, /no such file/);
});

test('a dataset loader\'s long-form output (real NAB data, CSV and NDJSON) goes through ingest from stdin unchanged', { skip: noRealData() }, async (t) => {
  const dir = scratch(t);
  const readings = getDataset('nab-machine-temperature').toReadings(realDataDir());
  const table = readingsTable(readings);
  const norm = (x: { site: string; asset: string; signal: string; ts: number; value: number }) => `${x.site}|${x.asset}|${x.signal}|${x.ts}|${x.value}`;
  const expected = Array.from(readings.ts, (ts, i) => norm({ ts, site: readings.site[i], asset: readings.asset[i], signal: readings.signal[i], value: readings.value[i] })).sort();
  assert.ok(expected.length > 20_000, `${expected.length} readings from the loader`);
  for (const [format, text] of [['csv', tableToCsv(table)], ['ndjson', tableToNdjson(table)]]) {
    const store = join(dir, format);
    const s = await ingest(['-'], { store, stdin: Readable.from([Buffer.from(text)]) });
    assert.equal(s.rowsAccepted, expected.length, format);
    assert.equal(s.rowsRejected, 0, format);
    assert.deepEqual((await readStore(store)).map(norm).sort(), expected, format);
  }
});
