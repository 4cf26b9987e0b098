import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MillwrightError } from '../../lib/errors/index.ts';
import { filesSourceType } from '../../lib/gateway/sources/files.ts';
import { SOURCE_TYPES } from '../../lib/gateway/sources/index.ts';
import type { SourceContext, SourceEvent, SourceReading } from '../../lib/gateway/source.ts';

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mw-files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A gateway stand-in: readings are "durable" once pushed; optionally refuses the first emits as a full spool would. */
function testContext(stateDir: string, fullFor = 0) {
  const readings: SourceReading[] = [];
  const events: SourceEvent[] = [];
  const logs: string[] = [];
  const stop = new AbortController();
  let refusals = fullFor;
  let waits = 0;
  const ctx: SourceContext = {
    site: 'plant-1',
    async emit(r) {
      if (refusals > 0) {
        refusals--;
        throw new MillwrightError('RESOURCE_EXHAUSTED', 'spool full (test)');
      }
      readings.push(...r);
    },
    async event(e) {
      events.push(e);
    },
    async waitForSpace() {
      waits++;
      await new Promise((r) => setTimeout(r, 50));
    },
    log: (l) => logs.push(l),
    signal: stop.signal,
    stateDir,
  };
  return { ctx, readings, events, logs, stop, waits: () => waits };
}

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const config = (dir: string) =>
  filesSourceType.schema.parse({
    name: 'exports',
    type: 'files',
    dir,
    format: 'wide-csv',
    timestamp: { column: 'timestamp', timezone: 'Europe/Berlin' },
    asset: 'compressor',
    poll: '100ms',
    stableFor: '400ms',
  });

const CSV = 'timestamp,pressure,flow\n2024-03-31 01:30:00,7.1,41.5\n2024-03-31 02:30:00,7.2,41.6\n2024-03-31 03:30:00,7.3,41.7\n';

test('files source: a wide local-time export is emitted, moved to done/, and never read twice (hash kept across restarts)', async (t) => {
  const root = scratch(t);
  const dir = join(root, 'exports');
  mkdirSync(dir);
  assert.ok(SOURCE_TYPES.includes(filesSourceType));
  const tc = testContext(join(root, 'state'), 1);
  const src = filesSourceType.create(config(dir));
  assert.deepEqual(filesSourceType.assets(config(dir)), ['compressor']);
  await src.start(tc.ctx);
  t.after(() => src.stop());
  writeFileSync(join(dir, 'day1.csv'), CSV);
  await until('day1.csv in done/', () => existsSync(join(dir, 'done', 'day1.csv')));
  assert.equal(tc.waits(), 1, 'a full spool was waited out, then the same readings emitted');
  assert.deepEqual(
    tc.readings.map((r) => [new Date(r.ts).toISOString(), r.asset, r.signal, r.value, r.quality]),
    [
      ['2024-03-31T00:30:00.000Z', 'compressor', 'pressure', 7.1, 0],
      ['2024-03-31T00:30:00.000Z', 'compressor', 'flow', 41.5, 0],
      ['2024-03-31T01:30:00.000Z', 'compressor', 'pressure', 7.3, 0],
      ['2024-03-31T01:30:00.000Z', 'compressor', 'flow', 41.7, 0],
    ],
  );
  const rejects = tc.events.filter((e) => e.kind === 'reject');
  assert.equal(rejects.length, 1);
  assert.match(rejects[0].message!, /^day1\.csv line 3 column "timestamp": nonexistent local time 2024-03-31 02:30:00 in Europe\/Berlin/);
  assert.equal(src.status().readings, 4);

  // The same content under another name: recognised by its hash, moved, not emitted.
  writeFileSync(join(dir, 'day1-copy.csv'), CSV);
  await until('the copy in done/', () => existsSync(join(dir, 'done', 'day1-copy.csv')));
  assert.equal(tc.readings.length, 4);
  await src.stop();

  // A new source on the same state directory remembers the hash.
  const tc2 = testContext(join(root, 'state'));
  const again = filesSourceType.create(config(dir));
  await again.start(tc2.ctx);
  t.after(() => again.stop());
  writeFileSync(join(dir, 'day1.csv'), CSV);
  await until('the re-sent file in done/', () => readdirSync(join(dir, 'done')).includes('day1.csv.1'));
  assert.equal(tc2.readings.length, 0);
  await again.stop();
});

test('files source: a file still being written is not read until its size is stable; an unreadable one goes to failed/ with its reason', async (t) => {
  const root = scratch(t);
  const dir = join(root, 'exports');
  mkdirSync(dir);
  const tc = testContext(join(root, 'state'));
  const src = filesSourceType.create(config(dir));
  await src.start(tc.ctx);
  t.after(() => src.stop());
  const path = join(dir, 'growing.csv');
  writeFileSync(path, 'timestamp,pressure\n');
  // 15 appends, 150 ms apart (longer in all than stableFor, each gap shorter): never picked up meanwhile.
  for (let i = 0; i < 15; i++) {
    appendFileSync(path, `2024-05-01 10:00:${String(i).padStart(2, '0')},${i}\n`);
    await new Promise((r) => setTimeout(r, 150));
    assert.ok(existsSync(path), `still in place after append ${i + 1}`);
    assert.equal(tc.readings.length, 0, `nothing emitted after append ${i + 1}`);
  }
  await until('growing.csv in done/', () => existsSync(join(dir, 'done', 'growing.csv')));
  assert.deepEqual(tc.readings.map((r) => r.value), Array.from({ length: 15 }, (_, i) => i));

  writeFileSync(join(dir, 'dup.csv'), 'timestamp,pressure,pressure\n2024-05-01 10:00:00,1,2\n');
  await until('dup.csv in failed/', () => existsSync(join(dir, 'failed', 'dup.csv.reason.txt')));
  assert.ok(existsSync(join(dir, 'failed', 'dup.csv')));
  assert.match(readFileSync(join(dir, 'failed', 'dup.csv.reason.txt'), 'utf8'), /dup\.csv: column "pressure" appears twice in the header/);
  assert.equal(tc.readings.length, 15);
  assert.ok(tc.events.some((e) => e.kind === 'error' && /appears twice/.test(e.message ?? '')));
});

test('files source config: the documented example validates; unknown keys and bad durations are refused', () => {
  const ok = filesSourceType.schema.safeParse({
    name: 'exports',
    type: 'files',
    dir: '/data/exports',
    format: 'wide-csv',
    timestamp: { column: 'timestamp', timezone: 'Europe/Lisbon' },
    asset: 'compressor',
  });
  assert.ok(ok.success);
  const bad = filesSourceType.schema.safeParse({ name: 'x', type: 'files', dir: '/d', pol: '1s' });
  assert.ok(!bad.success);
  const dur = filesSourceType.schema.safeParse({ name: 'x', type: 'files', dir: '/d', poll: 'soon' });
  assert.ok(!dur.success);
  assert.match(JSON.stringify(dur.error.issues), /expected a duration such as 100ms/);
});

test('files source: a gzipped wide NDJSON export in local time goes in with the wide CSV rules; a malformed line and a text key are reported (the last line has no newline)', async (t) => {
  const root = scratch(t);
  const dir = join(root, 'exports');
  mkdirSync(dir);
  const tc = testContext(join(root, 'state'));
  const src = filesSourceType.create(
    filesSourceType.schema.parse({
      name: 'exports',
      type: 'files',
      dir,
      format: 'wide-ndjson',
      timestamp: { column: 'timestamp', timezone: 'Europe/Berlin', ambiguous: 'later' },
      asset: 'compressor',
      poll: '100ms',
      stableFor: '400ms',
    }),
  );
  await src.start(tc.ctx);
  t.after(() => src.stop());
  const lines = [
    '{"timestamp":"2024-10-27 02:30:00","pressure":7.1,"operator":"K. Weber"}',
    '{"timestamp":"2024-10-27 02:40:00","pressure":',
    '{"timestamp":"2024-10-27 03:30:00","pressure":"7.3","operator":"K. Weber"}',
    '{"timestamp":"2024-10-27 03:40:00","pressure":null,"operator":"K. Weber"}',
  ];
  const { gzipSync } = await import('node:zlib');
  writeFileSync(join(dir, 'day.ndjson.gz'), gzipSync(lines.join('\n')));
  await until('day.ndjson.gz in done/ and its log line', () => existsSync(join(dir, 'done', 'day.ndjson.gz')) && tc.logs.some((l) => l.includes('day.ndjson.gz: ')));
  assert.deepEqual(
    tc.readings.map((r) => [new Date(r.ts).toISOString(), r.asset, r.signal, r.value]),
    [
      ['2024-10-27T01:30:00.000Z', 'compressor', 'pressure', 7.1], // 02:30 second occurrence (CET)
      ['2024-10-27T02:30:00.000Z', 'compressor', 'pressure', 7.3],
    ],
  );
  const rejects = tc.events.filter((e) => e.kind === 'reject').map((e) => e.message);
  assert.equal(rejects.length, 2);
  assert.match(rejects[0]!, /^day\.ndjson\.gz line 2: invalid JSON/);
  assert.equal(rejects[1], 'day.ndjson.gz line 4 column "pressure": null value');
  assert.ok(tc.logs.some((l) => /day\.ndjson\.gz: 2 readings, 2 rejected, moved to .*; left out "operator": text field: none of its values in the first 2 lines is a number or a boolean/.test(l)), tc.logs.join('\n'));
});
