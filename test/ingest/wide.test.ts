import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { main } from '../../cli/main.ts';
import { ingest } from '../../lib/ingest/index.ts';
import { captureIO } from '../helpers/io.ts';
import { noRealData, realDataDir } from '../helpers/data.ts';
import { partFiles, readStore } from './store-reader.ts';

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mw-wide-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function rejectsOf(dir: string): { line: number; column?: string; reason: string; raw: string }[] {
  const rd = join(dir, 'rejects');
  if (!existsSync(rd)) return [];
  return readdirSync(rd).flatMap((f) =>
    readFileSync(join(rd, f), 'utf8')
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l)),
  );
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A compressor export around both 2024 DST changes in Berlin: 30-minute rows of local time. */
const DST_CSV = [
  'Timestamp,discharge_pressure,flow,running',
  '2024-03-31 01:30:00,7.10,41.5,true',
  '2024-03-31 02:00:00,7.20,41.6,true',
  '2024-03-31 02:30:00,7.30,41.7,true',
  '2024-03-31 03:00:00,7.40,41.8,false',
  '2024-10-27 02:00:00,6.10,38.0,1',
  '2024-10-27 02:30:00,6.20,38.1,0',
  '2024-10-27 03:00:00,6.30,38.2,1',
].join('\n');

async function ingestDst(t: { after: (fn: () => void) => void }, policy?: string) {
  const dir = scratch(t);
  writeFileSync(join(dir, 'export.csv'), `${DST_CSV}\n`);
  const io = captureIO();
  const args = ['ingest', join(dir, 'export.csv'), '--store', join(dir, 'store'), '--format', 'wide-csv', '--site', 'plant-1', '--asset', 'compressor', '--timezone', 'Europe/Berlin'];
  if (policy) args.push('--ambiguous', policy);
  const code = await main(args, io);
  assert.equal(code, 0, io.stderr);
  const stored = await readStore(join(dir, 'store'));
  const times = [...new Set(stored.map((s) => s.ts))].sort((a, b) => a - b).map(iso);
  return { dir, io, stored, times, rejects: rejectsOf(dir) };
}

test('wide CSV in Europe/Berlin: the DST gap and overlap are rejected with their reason, row and column', async (t) => {
  const { stored, times, rejects, io } = await ingestDst(t);
  assert.deepEqual(times, ['2024-03-31T00:30:00.000Z', '2024-03-31T01:00:00.000Z', '2024-10-27T02:00:00.000Z']);
  assert.equal(stored.length, 9, '3 rows x 3 signals');
  assert.match(io.stdout, /^9 rows accepted, 4 rejected/);
  assert.deepEqual(
    rejects.map((r) => [r.line, r.column]),
    [
      [3, 'Timestamp'],
      [4, 'Timestamp'],
      [6, 'Timestamp'],
      [7, 'Timestamp'],
    ],
  );
  assert.match(rejects[0].reason, /^nonexistent local time 2024-03-31 02:00:00 in Europe\/Berlin/);
  assert.match(rejects[3].reason, /^ambiguous local time 2024-10-27 02:30:00 in Europe\/Berlin/);
  assert.equal(rejects[1].raw, '2024-03-31 02:30:00,7.30,41.7,true');
  // Booleans and 0/1 become readings.
  const running = stored.filter((s) => s.signal === 'running').sort((a, b) => a.ts - b.ts).map((s) => s.value);
  assert.deepEqual(running, [1, 0, 1]);
  assert.ok(stored.every((s) => s.site === 'plant-1' && s.asset === 'compressor' && s.quality === 0));
});

test('wide CSV: --ambiguous earlier / later give the exact UTC instants', async (t) => {
  const early = await ingestDst(t, 'earlier');
  assert.deepEqual(early.rejects, []);
  assert.deepEqual(early.times, [
    '2024-03-31T00:00:00.000Z', // 02:00 (gap) read with +02:00: the earlier candidate
    '2024-03-31T00:30:00.000Z', // 01:30 CET, and 02:30 (gap) read with +02:00
    '2024-03-31T01:00:00.000Z', // 03:00 CEST
    '2024-10-27T00:00:00.000Z', // 02:00 first occurrence (CEST)
    '2024-10-27T00:30:00.000Z', // 02:30 first occurrence
    '2024-10-27T02:00:00.000Z', // 03:00 CET
  ]);
  const late = await ingestDst(t, 'later');
  assert.deepEqual(late.rejects, []);
  assert.deepEqual(late.times, [
    '2024-03-31T00:30:00.000Z', // 01:30 CET
    '2024-03-31T01:00:00.000Z', // 02:00 (gap) read with +01:00, and 03:00 CEST
    '2024-03-31T01:30:00.000Z', // 02:30 (gap) read with +01:00
    '2024-10-27T01:00:00.000Z', // 02:00 second occurrence (CET)
    '2024-10-27T01:30:00.000Z', // 02:30 second occurrence
    '2024-10-27T02:00:00.000Z',
  ]);
  const at = (s: typeof late.stored, ts: string, signal: string) => s.filter((r) => iso(r.ts) === ts && r.signal === signal).map((r) => r.value);
  assert.deepEqual(at(late.stored, '2024-03-31T01:00:00.000Z', 'discharge_pressure').sort(), [7.2, 7.4]);
  assert.deepEqual(at(early.stored, '2024-10-27T00:30:00.000Z', 'flow'), [38.1]);
});

test('wide CSV: a duplicated column refuses the file and writes nothing', async (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, 'dup.csv'), 'ts,temp,flow,temp\n2024-03-01T00:00:00Z,1,2,3\n');
  writeFileSync(join(dir, 'ok.csv'), 'ts,temp\n2024-03-01T00:00:00Z,1\n');
  const io = captureIO();
  const code = await main(['ingest', join(dir, 'dup.csv'), join(dir, 'ok.csv'), '--store', join(dir, 'store'), '--site', 's', '--asset', 'a'], io);
  assert.equal(code, 1);
  assert.match(io.stderr, /dup\.csv: column "temp" appears twice in the header \(columns 2 and 4\)/);
  const stored = await readStore(join(dir, 'store'));
  assert.deepEqual(stored.map((s) => [s.signal, s.value]), [['temp', 1]], 'only the good file went in');
});

test('wide CSV: a text column is left out and named in the summary; --strict refuses the file', async (t) => {
  const dir = scratch(t);
  const csv = 'time,level,Load_Type,ok\n2024-03-01T00:00:00Z,1.5,Light_Load,true\n2024-03-01T00:15:00Z,1.6,Medium_Load,TRUE\n2024-03-01T00:30:00Z,n/a,Light_Load,maybe\n';
  writeFileSync(join(dir, 'in.csv'), csv);
  const io = captureIO();
  assert.equal(await main(['ingest', join(dir, 'in.csv'), '--store', join(dir, 'store'), '--site', 's', '--asset', 'a', '--json'], io), 0, io.stderr);
  const summary = JSON.parse(io.stdout);
  assert.equal(summary.rowsAccepted, 4);
  assert.deepEqual(summary.sources[0].columns.signals, ['level', 'ok']);
  assert.deepEqual(summary.sources[0].columns.leftOut.map((l: { column: string }) => l.column), ['Load_Type']);
  assert.match(summary.sources[0].columns.leftOut[0].reason, /text column: none of its values in the first 3 rows is a number or a boolean \(e\.g\. "Light_Load"\)/);
  const rejects = rejectsOf(dir);
  assert.deepEqual(rejects.map((r) => [r.line, r.column]), [[4, 'level'], [4, 'ok']]);
  assert.match(rejects[0].reason, /value "n\/a" is not a finite number or a boolean/);

  const strict = captureIO();
  assert.equal(await main(['ingest', join(dir, 'in.csv'), '--store', join(dir, 'store2'), '--site', 's', '--asset', 'a', '--strict'], strict), 1);
  assert.match(strict.stderr, /--strict: 1 column\(s\) cannot be read as signals: "Load_Type" \(text column/);
  assert.deepEqual(partFiles(join(dir, 'store2')), []);
});

test('wide CSV: empty file, header only, empty and unparseable cells, gzip, skip-columns and asset-column', async (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, 'empty.csv'), '');
  const io = captureIO();
  assert.equal(await main(['ingest', join(dir, 'empty.csv'), '--store', join(dir, 'store'), '--site', 's', '--asset', 'a'], io), 1);
  assert.match(io.stderr, /empty\.csv: no header line \(the input is empty\); expected a header naming a time column/);

  writeFileSync(join(dir, 'header.csv'), 'ts,a,b\n');
  const h = await ingest([join(dir, 'header.csv')], { store: join(dir, 'store'), site: 's', wide: { asset: 'x' } });
  assert.equal(h.rowsAccepted, 0);
  assert.equal(h.sources[0].error, undefined);

  // A pandas-style export: an unnamed index column, an asset column, gzip, CRLF, a quoted cell.
  const lines = [',datetime,unit,speed,torque,comment'];
  const expected: string[] = [];
  for (let i = 0; i < 200; i++) {
    const ts = Date.parse('2024-05-01T06:00:00Z') + i * 10_000;
    const unit = i % 2 ? 'press-2' : 'press-1';
    const speed = i === 7 ? '' : (100 + i / 4).toFixed(2);
    const torque = i === 9 ? '12,5' : (i * 0.5).toString();
    lines.push(`${i},${iso(ts).slice(0, 19)},${unit},${speed},${i === 9 ? `"${torque}"` : torque},"note, ${i}"`);
    if (i !== 7) expected.push(`${unit}|speed|${ts}|${Number(speed)}`);
    if (i !== 9) expected.push(`${unit}|torque|${ts}|${Number(torque)}`);
  }
  writeFileSync(join(dir, 'presses.csv.gz'), gzipSync(lines.join('\r\n') + '\r\n'));
  const s = await ingest([join(dir, 'presses.csv.gz')], {
    store: join(dir, 'store'),
    site: 'plant-7',
    timezone: 'UTC',
    wide: { assetColumn: 'unit', skipColumns: ['comment'], timestampColumn: 'datetime' },
    batchRows: 64,
  });
  assert.equal(s.sources[0].error, undefined);
  assert.deepEqual(s.sources[0].columns, { timestamp: 'datetime', signals: ['speed', 'torque'], leftOut: [{ column: '#1', reason: 'column 1 has no name in the header' }] });
  const stored = await readStore(join(dir, 'store'));
  assert.deepEqual(stored.map((r) => `${r.asset}|${r.signal}|${r.ts}|${r.value}`).sort(), expected.sort());
  const rejects = rejectsOf(dir);
  assert.deepEqual(rejects.map((r) => [r.line, r.column, r.reason]), [
    [9, 'speed', 'empty cell'],
    [11, 'torque', 'value "12,5" is not a finite number or a boolean (expected e.g. 41.5, -1.2e-3, true, false)'],
  ]);
  // Same rows and rejects when parsed on the worker thread.
  const w = await ingest([join(dir, 'presses.csv.gz')], {
    store: join(dir, 'store-w'),
    site: 'plant-7',
    timezone: 'UTC',
    wide: { assetColumn: 'unit', skipColumns: ['comment'], timestampColumn: 'datetime' },
    batchRows: 64,
    worker: true,
    rejects: join(dir, 'w-rejects.ndjson'),
  });
  assert.equal(w.rowsAccepted, s.rowsAccepted);
  assert.equal(w.rowsRejected, 2);
  assert.deepEqual(w.sources[0].columns, s.sources[0].columns);
  // Without a zone, naive times are rejects that say how to fix it.
  const n = await ingest([join(dir, 'presses.csv.gz')], { store: join(dir, 'store-n'), site: 'p', rejects: join(dir, 'n.ndjson'), wide: { assetColumn: 'unit', skipColumns: ['comment'] } });
  assert.equal(n.rowsAccepted, 0);
  assert.equal(n.rowsRejected, 200);
  assert.match(readFileSync(join(dir, 'n.ndjson'), 'utf8').split('\n')[0], /or pass --timezone ZONE for local times/);
  // Usage mistakes.
  await assert.rejects(ingest([join(dir, 'header.csv')], { store: join(dir, 'store'), site: 's', wide: {} }), /exactly one of --asset NAME/);
  const bad = captureIO();
  assert.equal(await main(['ingest', join(dir, 'header.csv'), '--site', 's', '--asset', 'a', '--skip-columns', 'nope', '--store', join(dir, 'store')], bad), 1);
  assert.match(bad.stderr, /--skip-columns names "nope" is not a column; the columns are "ts", "a", "b"/);
});

test('a real wide export (SKAB, ";"-separated, naive local time) ingested end to end and counted', { skip: noRealData() }, async (t) => {
  const dir = scratch(t);
  const files = ['anomaly-free/anomaly-free.csv', 'valve1/1.csv'].map((f) => join(realDataDir()!, 'skab', 'data', f));
  // Independent count: every non-empty numeric cell of every data row (datetime is column 1).
  let cells = 0;
  const times: number[] = [];
  for (const f of files) {
    const rows = readFileSync(f, 'utf8').replace(/^\uFEFF/, '').trim().split(/\r?\n/);
    const header = rows[0].split(';');
    assert.equal(header[0], 'datetime');
    for (const r of rows.slice(1)) {
      const c = r.split(';');
      cells += c.slice(1).filter((x) => x !== '' && Number.isFinite(Number(x))).length;
      times.push(Date.parse(`${c[0].replace(' ', 'T')}+03:00`));
    }
  }
  const s = await ingest(files, { store: join(dir, 'store'), site: 'skoltech', timezone: 'Europe/Moscow', wide: { asset: 'water-pump' } });
  assert.deepEqual(s.sources.map((x) => x.error), [undefined, undefined]);
  assert.equal(s.rowsRejected, 0);
  assert.equal(s.rowsAccepted, cells);
  assert.deepEqual(s.sources[0].columns!.signals, ['Accelerometer1RMS', 'Accelerometer2RMS', 'Current', 'Pressure', 'Temperature', 'Thermocouple', 'Voltage', 'Volume Flow RateRMS']);
  assert.ok(s.sources[1].columns!.signals.includes('anomaly') && s.sources[1].columns!.signals.includes('changepoint'));
  const stored = await readStore(join(dir, 'store'));
  assert.equal(stored.length, cells);
  const storedTimes = new Set(stored.map((r) => r.ts));
  assert.deepEqual([...new Set(times)].sort((a, b) => a - b), [...storedTimes].sort((a, b) => a - b), 'Moscow is UTC+3 all year since 2014');
});
