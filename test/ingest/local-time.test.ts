import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalTimeZone } from '../../lib/ingest/local-time.ts';
import { parseTimestamp } from '../../lib/ingest/timestamp.ts';
import { MillwrightError } from '../../lib/errors/index.ts';

const wall = (iso: string) => Date.parse(`${iso}Z`);

test('Europe/Berlin: plain times, the spring-forward gap and the fall-back overlap, per policy', () => {
  const reject = new LocalTimeZone('Europe/Berlin', 'reject');
  assert.equal(reject.toUtc(wall('2024-07-01T12:00:00')), Date.parse('2024-07-01T10:00:00Z'));
  assert.equal(reject.toUtc(wall('2024-01-15T08:30:00')), Date.parse('2024-01-15T07:30:00Z'));
  // Last instant before the change and first after it, on the change day itself.
  assert.equal(reject.toUtc(wall('2024-03-31T01:59:59.999')), Date.parse('2024-03-31T00:59:59.999Z'));
  assert.equal(reject.toUtc(wall('2024-03-31T03:00:00')), Date.parse('2024-03-31T01:00:00Z'));
  for (const gap of ['2024-03-31T02:00:00', '2024-03-31T02:30:00', '2024-03-31T02:59:59']) {
    assert.ok(Number.isNaN(reject.toUtc(wall(gap))), gap);
    assert.match(reject.problem, /^nonexistent local time 2024-03-31 02:\d\d:\d\d in Europe\/Berlin: the clocks skip it when they go forward \(\+01:00 to \+02:00\)/);
  }
  assert.equal(reject.toUtc(wall('2024-10-27T01:59:59')), Date.parse('2024-10-26T23:59:59Z'));
  assert.equal(reject.toUtc(wall('2024-10-27T03:00:00')), Date.parse('2024-10-27T02:00:00Z'));
  for (const twice of ['2024-10-27T02:00:00', '2024-10-27T02:30:00', '2024-10-27T02:59:59']) {
    assert.ok(Number.isNaN(reject.toUtc(wall(twice))), twice);
    assert.match(reject.problem, /^ambiguous local time 2024-10-27 02:\d\d:\d\d in Europe\/Berlin: it occurs twice when the clocks go back \(\+02:00 then \+01:00\)/);
  }
  const earlier = new LocalTimeZone('Europe/Berlin', 'earlier');
  const later = new LocalTimeZone('Europe/Berlin', 'later');
  assert.equal(earlier.toUtc(wall('2024-10-27T02:30:00')), Date.parse('2024-10-27T00:30:00Z'));
  assert.equal(later.toUtc(wall('2024-10-27T02:30:00')), Date.parse('2024-10-27T01:30:00Z'));
  // Gap: earlier = read with the summer offset (+02:00), later = with the winter one (+01:00).
  assert.equal(earlier.toUtc(wall('2024-03-31T02:30:00')), Date.parse('2024-03-31T00:30:00Z'));
  assert.equal(later.toUtc(wall('2024-03-31T02:30:00')), Date.parse('2024-03-31T01:30:00Z'));
});

test('every hour of 2024 round-trips through Intl in zones with odd offsets and southern DST', () => {
  for (const zone of ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/Santiago', 'Pacific/Chatham', 'UTC']) {
    const tz = new LocalTimeZone(zone, 'earlier');
    const late = new LocalTimeZone(zone, 'later');
    const fmt = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
    let ambiguous = 0;
    for (let t = Date.parse('2024-01-01T00:00:00Z'); t < Date.parse('2025-01-01T00:00:00Z'); t += 1_800_000) {
      const p = Object.fromEntries(fmt.formatToParts(t).map((x) => [x.type, x.value]));
      const w = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute));
      const a = tz.toUtc(w);
      const b = late.toUtc(w);
      assert.ok(a === t || b === t, `${zone} ${new Date(t).toISOString()}: wall ${new Date(w).toISOString()} -> ${a}, ${b}`);
      if (a !== b) ambiguous++;
    }
    if (zone === 'UTC' || zone === 'Asia/Kolkata') assert.equal(ambiguous, 0, zone);
    else assert.ok(ambiguous >= 1 && ambiguous <= 4, `${zone}: ${ambiguous} doubled half-hours`);
  }
});

test('zoneless ISO timestamps are read in the zone; zoned ones keep their own offset; bad zones are usage errors', () => {
  const ny = new LocalTimeZone('America/New_York');
  assert.equal(parseTimestamp('2024-03-01 12:00:00', 0, 19, ny), Date.parse('2024-03-01T17:00:00Z'));
  assert.equal(parseTimestamp('2024-03-01T12:00:00.250', 0, 23, ny), Date.parse('2024-03-01T17:00:00.250Z'));
  assert.equal(parseTimestamp('2024-03-01T12:00:00+01:00', 0, 25, ny), Date.parse('2024-03-01T11:00:00Z'));
  assert.ok(Number.isNaN(parseTimestamp('2024-03-10 02:30:00', 0, 19, ny)));
  assert.match(ny.problem, /nonexistent local time 2024-03-10 02:30:00 in America\/New_York/);
  assert.ok(Number.isNaN(parseTimestamp('2024-03-01 12:00:00')), 'still refused without a zone');
  assert.throws(() => new LocalTimeZone('Mars/Olympus'), (e: unknown) => e instanceof MillwrightError && e.code === 'USAGE' && /unknown time zone "Mars\/Olympus"/.test(e.message));
});

test('long CSV and NDJSON with --timezone: naive times read in the zone, a skipped time rejected with its reason', async (t) => {
  const { mkdtempSync, rmSync, writeFileSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { ingest } = await import('../../lib/ingest/index.ts');
  const { readStore } = await import('./store-reader.ts');
  const dir = mkdtempSync(join(tmpdir(), 'mw-local-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'a.csv'), 'ts,asset,signal,value\n2024-03-10 01:30:00,kiln,temp,1\n2024-03-10 02:30:00,kiln,temp,2\n2024-03-10T03:30:00Z,kiln,temp,3\n');
  writeFileSync(join(dir, 'b.ndjson'), '{"ts":"2024-03-10 03:30:00","asset":"kiln","signal":"temp","value":4}\n{"ts":"2024-03-10 02:15:00","asset":"kiln","signal":"temp","value":5}\n');
  const s = await ingest([join(dir, 'a.csv'), join(dir, 'b.ndjson')], { store: join(dir, 'store'), site: 'p', timezone: 'America/Chicago', rejects: join(dir, 'r.ndjson') });
  assert.equal(s.rowsAccepted, 3);
  const r = readFileSync(join(dir, 'r.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(r.map((x) => [x.line, x.reason.slice(0, 61)]), [
    [3, 'nonexistent local time 2024-03-10 02:30:00 in America/Chicago'],
    [2, 'nonexistent local time 2024-03-10 02:15:00 in America/Chicago'],
  ]);
  const stored = (await readStore(join(dir, 'store'))).sort((a, b) => a.value - b.value);
  assert.deepEqual(stored.map((x) => [x.value, new Date(x.ts).toISOString()]), [
    [1, '2024-03-10T07:30:00.000Z'], // CST, -06:00
    [3, '2024-03-10T03:30:00.000Z'], // its own zone
    [4, '2024-03-10T08:30:00.000Z'], // CDT, -05:00
  ]);
});
