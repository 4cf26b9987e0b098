import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { main } from '../../cli/main.ts';
import { ingest } from '../../lib/ingest/index.ts';
import { captureIO } from '../helpers/io.ts';
import { partFiles, readStore } from './store-reader.ts';

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mw-wide-nd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function rejectsIn(dir: string): { line: number; column?: string; reason: string; raw: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) =>
    readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l)),
  );
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A compressor historian export as NDJSON (the shape a Node-RED or Kepware "JSON lines" export
 * has): local Berlin time around both 2024 DST changes, one key per signal, an operator text
 * field, a quoted number, a null where the sensor dropped out, a key missing from one line, a
 * truncated line (the exporter was killed mid-write), a nested diagnostics object.
 */
const LINES = [
  '{"Timestamp":"2024-03-31 01:30:00","discharge_pressure":7.10,"flow":41.5,"running":true,"operator":"K. Weber","diag":{"fw":"2.1"}}',
  '{"Timestamp":"2024-03-31 02:00:00","discharge_pressure":7.20,"flow":41.6,"running":true,"operator":"K. Weber","diag":{"fw":"2.1"}}',
  '{"Timestamp":"2024-03-31 02:30:00","discharge_pressure":7.30,"flow":41.7,"running":true,"operator":"K. Weber","diag":{"fw":"2.1"}}',
  '{"Timestamp":"2024-03-31 03:00:00","discharge_pressure":7.40,"flow":null,"running":false,"operator":"K. Weber","diag":{"fw":"2.1"}}',
  '{"Timestamp":"2024-10-27 02:00:00","discharge_pressure":"6.10","flow":38.0,"running":1,"operator":"M. Roth","diag":{"fw":"2.2"}}',
  '{"Timestamp":"2024-10-27 02:30:00","discharge_pressure":6.20,"flow":38.1,"running":0,"opera',
  '{"Timestamp":"2024-10-27 02:30:00","discharge_pressure":6.20,"flow":"n/a","running":0,"operator":"M. Roth","diag":{"fw":"2.2"}}',
  '{"Timestamp":"2024-10-27 03:00:00","discharge_pressure":6.30,"running":1,"operator":"M. Roth","diag":{"fw":"2.2"}}',
];

async function ingestNd(t: { after: (fn: () => void) => void }, policy?: string) {
  const dir = scratch(t);
  writeFileSync(join(dir, 'export.ndjson.gz'), gzipSync(`${LINES.join('\n')}\n`));
  const io = captureIO();
  const args = ['ingest', join(dir, 'export.ndjson.gz'), '--store', join(dir, 'store'), '--format', 'wide-ndjson', '--site', 'plant-1', '--asset', 'compressor', '--timezone', 'Europe/Berlin', '--json'];
  if (policy) args.push('--ambiguous', policy);
  const code = await main(args, io);
  assert.equal(code, 0, io.stderr);
  const summary = JSON.parse(io.stdout);
  const stored = await readStore(join(dir, 'store'));
  const times = [...new Set(stored.map((s) => s.ts))].sort((a, b) => a - b).map(iso);
  return { dir, summary, stored, times, rejects: rejectsIn(join(dir, 'rejects')) };
}

test('wide NDJSON (gzip) in Europe/Berlin: DST gap and overlap, a text and a nested field, null, "n/a" and a truncated line', async (t) => {
  const { summary, stored, times, rejects } = await ingestNd(t);
  assert.deepEqual(summary.sources[0].columns.signals, ['discharge_pressure', 'flow', 'running']);
  assert.deepEqual(
    summary.sources[0].columns.leftOut.map((l: { column: string; reason: string }) => [l.column, l.reason]),
    [
      ['operator', 'text field: none of its values in the first 7 lines is a number or a boolean (e.g. "K. Weber")'],
      ['diag', 'nested field: its values in the first 7 lines are objects or arrays (e.g. {"fw":"2.1"}); only flat numbers and booleans become signals'],
    ],
  );
  assert.deepEqual(
    rejects.map((r) => [r.line, r.column ?? null]),
    [
      [2, 'Timestamp'],
      [3, 'Timestamp'],
      [4, 'flow'],
      [5, 'Timestamp'],
      [6, null],
      [7, 'Timestamp'],
    ],
  );
  assert.match(rejects[0].reason, /^nonexistent local time 2024-03-31 02:00:00 in Europe\/Berlin/);
  assert.equal(rejects[2].reason, 'null value');
  assert.match(rejects[3].reason, /^ambiguous local time 2024-10-27 02:00:00 in Europe\/Berlin/);
  assert.match(rejects[4].reason, /^invalid JSON: .*\(expected one JSON object per line\)$/);
  assert.equal(rejects[4].raw, LINES[5]);
  assert.deepEqual(times, ['2024-03-31T00:30:00.000Z', '2024-03-31T01:00:00.000Z', '2024-10-27T02:00:00.000Z']);
  // 01:30 CET: 3 readings; 03:00 CEST: 2 (flow null); 03:00 CET: 2 (flow key absent: no reading, no reject).
  assert.equal(stored.length, 7);
  assert.equal(summary.rowsAccepted, 7);
  const at = (ts: string) => stored.filter((s) => iso(s.ts) === ts).map((s) => `${s.signal}=${s.value}`).sort();
  assert.deepEqual(at('2024-03-31T01:00:00.000Z'), ['discharge_pressure=7.4', 'running=0']);
  assert.deepEqual(at('2024-10-27T02:00:00.000Z'), ['discharge_pressure=6.3', 'running=1']);
  assert.ok(stored.every((s) => s.site === 'plant-1' && s.asset === 'compressor' && s.quality === 0));
});

test('wide NDJSON: --ambiguous earlier / later read the DST lines at the exact instants; a quoted number and a bad string follow the CSV cell rules', async (t) => {
  const early = await ingestNd(t, 'earlier');
  assert.deepEqual(early.times, [
    '2024-03-31T00:00:00.000Z',
    '2024-03-31T00:30:00.000Z',
    '2024-03-31T01:00:00.000Z',
    '2024-10-27T00:00:00.000Z',
    '2024-10-27T00:30:00.000Z',
    '2024-10-27T02:00:00.000Z',
  ]);
  const late = await ingestNd(t, 'later');
  assert.deepEqual(late.times, [
    '2024-03-31T00:30:00.000Z',
    '2024-03-31T01:00:00.000Z',
    '2024-03-31T01:30:00.000Z',
    '2024-10-27T01:00:00.000Z',
    '2024-10-27T01:30:00.000Z',
    '2024-10-27T02:00:00.000Z',
  ]);
  // "6.10" (a string) is read as the CSV cell 6.10 would be; "n/a" is the CSV's reject.
  const first = late.stored.filter((s) => iso(s.ts) === '2024-10-27T01:00:00.000Z' && s.signal === 'discharge_pressure');
  assert.deepEqual(first.map((s) => s.value), [6.1]);
  const na = late.rejects.find((r) => r.column === 'flow' && r.line === 7)!;
  assert.equal(na.reason, 'value "n/a" is not a finite number or a boolean (expected e.g. 41.5, -1.2e-3, true, false)');
  assert.deepEqual(late.rejects.map((r) => r.line), [4, 6, 7]);
});

test('wide NDJSON reads what the same export as wide CSV reads (one set of cell rules)', async (t) => {
  const dir = scratch(t);
  const csv = ['time,unit,speed,torque,ok'];
  const nd: string[] = [];
  for (let i = 0; i < 300; i++) {
    const ts = `2024-10-27 ${String(Math.floor(i / 120)).padStart(2, '0')}:${String(Math.floor(i / 2) % 60).padStart(2, '0')}:${i % 2 ? '30' : '00'}`;
    const unit = i % 3 ? 'press-2' : 'press-1';
    const speed = i === 7 ? '' : i === 8 ? 'fault' : (100 + i / 4).toFixed(2);
    const ok = i % 5 ? 'true' : 'FALSE';
    csv.push(`${ts},${unit},${speed},${i * 0.5},${ok}`);
    nd.push(JSON.stringify({ time: ts, unit, speed, torque: i * 0.5, ok: i % 5 ? true : 'FALSE' }));
  }
  writeFileSync(join(dir, 'a.csv'), `${csv.join('\n')}\n`);
  writeFileSync(join(dir, 'a.ndjson'), `${nd.join('\n')}\n`);
  const opts = (name: string) => ({ store: join(dir, `store-${name}`), rejects: join(dir, `${name}.rejects`), site: 'p', timezone: 'Europe/Berlin', ambiguous: 'later' as const, wide: { assetColumn: 'unit' }, batchRows: 50 });
  const a = await ingest([join(dir, 'a.csv')], opts('csv'));
  const b = await ingest([join(dir, 'a.ndjson')], opts('nd'));
  assert.equal(b.sources[0].error, undefined);
  assert.deepEqual(b.sources[0].columns, a.sources[0].columns);
  assert.equal(b.rowsAccepted, a.rowsAccepted);
  assert.equal(a.rowsAccepted, 300 * 3 - 2);
  const key = (r: { asset: string; signal: string; ts: number; value: number }) => `${r.asset}|${r.signal}|${r.ts}|${r.value}`;
  assert.deepEqual((await readStore(join(dir, 'store-nd'))).map(key).sort(), (await readStore(join(dir, 'store-csv'))).map(key).sort());
  const rj = (f: string) => readFileSync(join(dir, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).map((r) => [r.line, r.column, r.reason]);
  // CSV line numbers count the header; NDJSON's start at the first object.
  assert.deepEqual(rj('nd.rejects').map(([l, c, r]) => [l + 1, c, r]), rj('csv.rejects'));
  assert.deepEqual(rj('csv.rejects').map(([, , r]) => r.slice(0, 13)), ['empty cell', 'value "fault"']);
});

test('wide NDJSON: --strict refuses a text field before writing; a late key; skip, asset and time keys; empty input', async (t) => {
  const dir = scratch(t);
  const lines = Array.from({ length: 1200 }, (_, i) =>
    JSON.stringify({ idx: i, ts: Date.parse('2024-05-01T00:00:00Z') + i * 10_000, level: i / 10, batch: `B-${Math.floor(i / 100)}`, ...(i >= 1100 ? { vib: i % 7, note: 'late' } : {}) }),
  );
  writeFileSync(join(dir, 'in.jsonl'), `${lines.join('\n')}\n`);
  const strict = captureIO();
  assert.equal(await main(['ingest', join(dir, 'in.jsonl'), '--store', join(dir, 's1'), '--site', 's', '--asset', 'a', '--strict'], strict), 1);
  assert.match(strict.stderr, /--strict: 1 column\(s\) cannot be read as signals: "batch" \(text field: none of its values in the first 1000 lines/);
  assert.deepEqual(partFiles(join(dir, 's1')), []);

  const s = await ingest([join(dir, 'in.jsonl')], { store: join(dir, 's2'), rejects: join(dir, 'r2'), site: 's', wide: { asset: 'a', skipColumns: ['idx'] }, batchRows: 256 });
  assert.equal(s.sources[0].error, undefined);
  assert.deepEqual(s.sources[0].columns!.signals, ['level', 'vib']);
  assert.deepEqual(s.sources[0].columns!.leftOut.map((l) => l.column), ['batch', 'note']);
  assert.match(s.sources[0].columns!.leftOut[1].reason, /^text field first seen on line 1101, after the first 1000 lines were sampled/);
  assert.equal(s.rowsRejected, 0);
  assert.equal(s.rowsAccepted, 1200 + 100);
  const stored = await readStore(join(dir, 's2'));
  assert.equal(stored.filter((r) => r.signal === 'vib').length, 100);
  assert.equal(stored.filter((r) => r.signal === 'level' && r.ts === Date.parse('2024-05-01T00:00:00Z') + 1199 * 10_000)[0].value, 119.9);
  // The same on the parse worker thread (the late key's summary comes as a second columns message).
  const w = await ingest([join(dir, 'in.jsonl')], { store: join(dir, 's2w'), rejects: join(dir, 'r2w'), site: 's', wide: { asset: 'a', skipColumns: ['idx'] }, batchRows: 256, worker: true });
  assert.deepEqual([w.rowsAccepted, w.rowsRejected], [s.rowsAccepted, 0]);
  assert.deepEqual(w.sources[0].columns, s.sources[0].columns);
  // Under --strict a late text key rejects each line carrying it, with none of that line's readings kept.
  const late = lines.slice(0, 1000).map((l) => l.replace(/,"batch":"[^"]*"/, '')).concat(lines.slice(1000).map((l) => l.replace(/,"batch":"[^"]*"/, '')));
  writeFileSync(join(dir, 'late.jsonl'), `${late.join('\n')}\n`);
  const ls = await ingest([join(dir, 'late.jsonl')], { store: join(dir, 's2s'), rejects: join(dir, 'r2s'), site: 's', wide: { asset: 'a', skipColumns: ['idx'], strict: true } });
  // --skip-columns may name a key the sampled lines do not have (a sparse export): it is skipped when it comes.
  const sk = await ingest([join(dir, 'late.jsonl')], { store: join(dir, 's2k'), rejects: join(dir, 'r2k'), site: 's', wide: { asset: 'a', skipColumns: ['idx', 'note'], strict: true } });
  assert.deepEqual([sk.sources[0].error, sk.rowsAccepted, sk.rowsRejected, sk.sources[0].columns!.signals], [undefined, 1300, 0, ['level', 'vib']]);
  assert.equal(ls.sources[0].error, undefined);
  assert.equal(ls.rowsAccepted, 1100, 'lines 1-1100: level only; lines 1101-1200 refused whole');
  const lr = readFileSync(join(dir, 'r2s'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lr.length, 100);
  assert.deepEqual([lr[0].line, lr[0].column], [1101, 'note']);
  assert.match(lr[0].reason, /^--strict: text field first seen on line 1101, after the first 1000 lines were sampled .*; the line is refused/);
  assert.equal((await readStore(join(dir, 's2s'))).filter((r) => r.signal === 'vib').length, 0);

  // Asset and time from named keys; a line without its asset key is a reject naming the key.
  writeFileSync(join(dir, 'u.ndjson'), '{"at":"2024-05-01T00:00:00Z","ts":"not a time","unit":"m-1","t":1}\n{"at":"2024-05-01T00:00:10Z","ts":"x","t":2}\n{"at":"2024-05-01T00:00:20+02:00","ts":"y","unit":"m/2","t":3}\n');
  const u = await ingest([join(dir, 'u.ndjson')], { store: join(dir, 's3'), rejects: join(dir, 'r3'), site: 's', wide: { assetColumn: 'unit', timestampColumn: 'at', skipColumns: ['ts'] } });
  assert.equal(u.rowsAccepted, 1);
  const rr = readFileSync(join(dir, 'r3'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(rr.map((r) => [r.line, r.column]), [[2, 'unit'], [3, 'unit']]);
  assert.match(rr[0].reason, /^no "unit" key/);
  assert.match(rr[1].reason, /^invalid asset "m\/2": it contains "\/"/);

  writeFileSync(join(dir, 'empty.ndjson'), '\n\n');
  const e = captureIO();
  assert.equal(await main(['ingest', join(dir, 'empty.ndjson'), '--store', join(dir, 's4'), '--site', 's', '--asset', 'a'], e), 1);
  assert.match(e.stderr, /empty\.ndjson: no JSON object \(the input is empty\)/);
  writeFileSync(join(dir, 'garbage.ndjson'), 'timestamp,pressure\n2024-05-01 00:00:00,1\n');
  const g = await ingest([join(dir, 'garbage.ndjson')], { store: join(dir, 's5'), rejects: join(dir, 'r5'), site: 's', wide: { asset: 'a' } });
  assert.match(g.sources[0].error!, /garbage\.ndjson: no JSON object in the first 2 line\(s\)/);
  assert.deepEqual(partFiles(join(dir, 's5')), []);

  // stdin: "{" first and a wide option given -> wide NDJSON.
  const stdin = (async function* () {
    yield Buffer.from('{"time":1714521600000,"temp":21.5}\n{"time":1714521610000,"temp":true}\n');
  })();
  const si = await ingest(['-'], { store: join(dir, 's6'), rejects: join(dir, 'r6'), site: 's', wide: { asset: 'a' }, stdin });
  assert.equal(si.rowsAccepted, 2);
  assert.deepEqual((await readStore(join(dir, 's6'))).map((r) => [r.ts, r.value]), [[1714521600000, 21.5], [1714521610000, 1]]);
});
