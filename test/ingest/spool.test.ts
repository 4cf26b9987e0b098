import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { spawn } from 'node:child_process';
import { main } from '../../cli/main.ts';
import { appendToSpool, decodeSegment, encodeSegment, flushSpool, listSegments, openSegment, segmentChunk, spoolStatus } from '../../lib/spool/index.ts';
import type { ReadingBatch } from '../../lib/readings/index.ts';
import { isErrorCode } from '../../lib/errors/index.ts';
import { scanArrays, writeReadings } from '../../lib/store/index.ts';
import { captureIO } from '../helpers/io.ts';
import { repoRoot } from '../helpers/data.ts';
import { readStore } from './store-reader.ts';
import { cliArgs } from '../helpers/cli.ts';

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mw-spool-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** n readings of one gateway poll: asset/signal cycle, ts from `start`, values tagged by `tag`. */
function poll(n: number, start: number, tag: number, withQuality = false): ReadingBatch {
  const b: ReadingBatch = { ts: new Float64Array(n), site: [], asset: [], signal: [], value: new Float64Array(n) };
  if (withQuality) b.quality = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    b.ts[i] = start + i * 1000;
    b.site.push('Werk-Süd');
    b.asset.push(`sorter-${i % 2}`);
    b.signal.push(i % 3 ? 'vibration_rms' : 'temperature');
    b.value[i] = tag * 1000 + i + 0.25;
    if (b.quality) b.quality[i] = i % 5 === 0 ? 1 : 0;
  }
  return b;
}

const T0 = Date.parse('2024-05-01T08:00:00Z');
const key = (r: { asset: string; signal: string; ts: number }) => `${r.asset}|${r.signal}|${r.ts}`;
function keysOf(b: ReadingBatch): string[] {
  return Array.from(b.ts, (ts, i) => key({ ts, asset: b.asset[i], signal: b.signal[i] }));
}

test('segments round-trip every column; a truncated, bit-flipped or foreign segment is detected', () => {
  const b = poll(37, T0, 1, true);
  const buf = encodeSegment(b, { source: 'plc.csv', firstLine: 2, lastLine: 38 });
  const back = decodeSegment(buf);
  assert.ok(!('torn' in back));
  assert.deepEqual(back.batch, b);
  assert.equal(back.meta.source, 'plc.csv');
  assert.match((decodeSegment(buf.subarray(0, buf.length - 3)) as { torn: string }).torn, /torn write/);
  assert.match((decodeSegment(buf.subarray(0, 9)) as { torn: string }).torn, /only 9 bytes/);
  const flipped = Buffer.from(buf);
  flipped[flipped.length - 20] ^= 0x10;
  assert.match((decodeSegment(flipped) as { torn: string }).torn, /CRC-32 mismatch/);
  assert.match((decodeSegment(Buffer.from('ts,site\n1,2\n'.repeat(3))) as { torn: string }).torn, /wrong magic/);
});

test('torn-tail recovery: flush moves every acknowledged segment, sets damaged ones aside and drops dead writers\' temp files', async (t) => {
  const dir = scratch(t);
  const spool = join(dir, 'spool');
  const store = join(dir, 'store');
  const acked: string[] = [];
  for (let k = 0; k < 4; k++) {
    const b = poll(50, T0 + k * 50_000, k);
    await appendToSpool(spool, b);
    acked.push(...keysOf(b));
  }
  // A writer killed mid-write leaves a partial temp file (never acknowledged): pid 999999999 is dead.
  const whole = encodeSegment(poll(50, T0 + 10_000_000, 9));
  writeFileSync(join(spool, '.tmp-999999999-1-deadbeef.part'), whole.subarray(0, whole.length >> 1));
  // A live writer's temp file must be left alone.
  writeFileSync(join(spool, `.tmp-${process.pid}-77-cafebabe.part`), whole.subarray(0, 100));
  // Segments damaged after the fact (a torn copy, a flipped bit) are detected, never flushed.
  const segs = await listSegments(spool);
  const torn = join(spool, 'seg-99999999999998-0000001-00000001.spool');
  copyFileSync(segs[0], torn);
  truncateSync(torn, 200);
  const flipped = join(spool, 'seg-99999999999999-0000001-00000002.spool');
  const fb = readFileSync(segs[1]);
  fb[fb.length - 1] ^= 1;
  writeFileSync(flipped, fb);
  assert.deepEqual(await spoolStatus(spool), { segments: 6, rows: 300, bytes: (await spoolStatus(spool)).bytes });

  const log: string[] = [];
  const r = await flushSpool({ spool, store, log: (l) => log.push(l) });
  assert.equal(r.segments, 4);
  assert.equal(r.rows, 200);
  assert.equal(r.recovered, 1);
  assert.deepEqual(r.quarantined.map((q) => basename(q)).sort(), [`${basename(torn)}.corrupt`, `${basename(flipped)}.corrupt`]);
  assert.equal(log.length, 2);
  assert.match(log.join('\n'), /damaged \(length 184 bytes, header says \d+ \(torn write\)\)/);
  assert.match(log.join('\n'), /CRC-32 mismatch/);
  assert.deepEqual(readdirSync(spool).sort(), [`.tmp-${process.pid}-77-cafebabe.part`, `${basename(torn)}.corrupt`, `${basename(flipped)}.corrupt`].sort());
  const stored = await readStore(store);
  assert.deepEqual(stored.map(key).sort(), acked.sort());
  assert.equal(stored.find((s) => s.value === 3045.25)?.site, 'Werk-Süd');
});

test('flush with an unwritable store keeps the whole spool and fails with UNAVAILABLE; the next flush delivers', async (t) => {
  const dir = scratch(t);
  const spool = join(dir, 'spool');
  const store = join(dir, 'store');
  writeFileSync(store, 'not a directory'); // e.g. a mount point gone wrong
  const b = poll(30, T0, 5);
  await appendToSpool(spool, b);
  await assert.rejects(flushSpool({ spool, store }), (err: unknown) => {
    assert.ok(isErrorCode(err, 'UNAVAILABLE'));
    assert.match((err as Error).message, /is not writable .*the spool keeps every reading/);
    return true;
  });
  assert.equal((await spoolStatus(spool)).rows, 30);
  const io = captureIO();
  assert.equal(await main(['flush', '--spool', spool, '--store', store], io), 1);
  assert.match(io.stderr, /not writable/);
  rmSync(store);
  const io2 = captureIO();
  assert.equal(await main(['flush', '--spool', spool, '--store', store], io2), 0, io2.stderr);
  assert.match(io2.stdout, /^flushed 30 readings from 1 segment\(s\) into 1 file\(s\)/);
  assert.equal((await spoolStatus(spool)).segments, 0);
  assert.deepEqual((await readStore(store)).map(key).sort(), keysOf(b).sort());
});

test('spool CLI acknowledges each batch only once durable; flush merges small segments into one write', async (t) => {
  const dir = scratch(t);
  const lines = ['ts,site,asset,signal,value'];
  for (let i = 0; i < 25; i++) lines.push(`${new Date(T0 + i * 1000).toISOString()},plant-1,m1,temp,${i}`);
  lines.splice(5, 0, '2024-05-01T08:00:04Z,plant-1,m1,temp,oops');
  writeFileSync(join(dir, 'poll.csv'), lines.join('\n'));
  const spool = join(dir, 'spool');
  const io = captureIO();
  assert.equal(await main(['spool', join(dir, 'poll.csv'), '--spool', spool, '--batch-rows', '10', '--verbose'], io), 0, io.stderr);
  const acks = io.stdout.split('\n').filter((l) => l.startsWith('ack '));
  assert.equal(acks.length, 3);
  assert.match(acks[0], /^ack \S+seg-\S+\.spool \S+poll\.csv lines 2-12 rows 10$/);
  assert.match(io.stdout, /25 rows accepted, 1 rejected, 3 segment\(s\) spooled and acknowledged/);
  for (const a of acks) assert.ok(existsSync(a.split(' ')[1]));
  const written: number[] = [];
  const r = await flushSpool({ spool, store: join(dir, 'store'), onWrite: (w) => written.push(w.rows) });
  assert.deepEqual(written, [25], 'three segments, one store write');
  assert.equal(r.files, 1);
  assert.equal((await readStore(join(dir, 'store'))).length, 25);
  const io2 = captureIO();
  assert.equal(await main(['spool', join(dir, 'poll.csv'), '--store', 'x'], io2), 2);
});

test('flush writes byte for byte the files writeReadings writes for the same rows (dictionaries passed through)', async (t) => {
  const dir = scratch(t);
  // Segments with different dictionaries: names shared between segments under other ids, a name
  // used as both asset and signal, two sites and two UTC dates, quality in only some segments,
  // rows out of time order inside a series.
  const segs: ReadingBatch[] = [];
  for (let k = 0; k < 5; k++) {
    const n = 40 + k * 7;
    const b: ReadingBatch = { ts: new Float64Array(n), site: [], asset: [], signal: [], value: new Float64Array(n) };
    if (k % 2 === 0) b.quality = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      b.ts[i] = Date.parse('2024-05-01T23:59:00Z') + ((i * 7919 + k * 31) % 120) * 1000;
      b.site.push(i % 4 === 3 ? 'plant-2' : 'Werk-Süd');
      b.asset.push(k === 3 && i % 5 === 0 ? 'temperature' : `sorter-${(i + k) % 3}`);
      b.signal.push(i % 3 ? 'vibration_rms' : 'temperature');
      b.value[i] = k * 1000 + i + 0.5;
      if (b.quality) b.quality[i] = i % 6 === 0 ? 2 : 0;
    }
    segs.push(b);
  }
  const spool = join(dir, 'spool');
  for (const b of segs) await appendToSpool(spool, b);
  const all: ReadingBatch = { ts: new Float64Array(segs.flatMap((b) => [...b.ts])), site: segs.flatMap((b) => b.site), asset: segs.flatMap((b) => b.asset),
    signal: segs.flatMap((b) => b.signal), value: new Float64Array(segs.flatMap((b) => [...b.value])),
    quality: new Uint8Array(segs.flatMap((b) => (b.quality ? [...b.quality] : new Array<number>(b.ts.length).fill(0)))) };
  const ref = await writeReadings(join(dir, 'ref'), all);
  const got = await flushSpool({ spool, store: join(dir, 'store') });
  assert.equal(got.rows, all.ts.length);
  const byPartition = (root: string, files: string[]) => new Map(files.map((f) => [f.slice(root.length).replace(/part-.*$/, ''), readFileSync(f)]));
  const want = byPartition(join(dir, 'ref'), ref.files);
  assert.deepEqual(await listSegments(spool), []);
  const stored = readdirSync(join(dir, 'store'), { recursive: true }).map(String).filter((f) => f.endsWith('.parquet'));
  const have = byPartition(join(dir, 'store'), stored.map((f) => join(dir, 'store', f)));
  assert.equal(want.size, 4, 'two sites x two dates');
  assert.deepEqual([...have.keys()].sort(), [...want.keys()].sort());
  for (const [part, bytes] of want) assert.ok(bytes.equals(have.get(part)!), `${part}: flushed file differs from writeReadings' file`);
});

test('flush reads segments into one reused buffer: several groups a flush, a second flush, and two spools flushed at once keep every reading', async (t) => {
  const dir = scratch(t);
  const spools = ['a', 'b'].map((x) => join(dir, `spool-${x}`));
  const want: string[][] = [[], []];
  // Segments of different sizes (so offsets and the buffer's growth vary), in two spools with other values.
  for (let k = 0; k < 12; k++) {
    for (let s = 0; s < 2; s++) {
      const b = poll(50 + ((k * 37) % 200), T0 + k * 3_600_000, s * 100 + k, k % 3 === 0);
      await appendToSpool(spools[s], b);
      want[s].push(...Array.from(b.ts, (ts, i) => `${key({ ts, asset: b.asset[i], signal: b.signal[i] })}|${b.value[i]}`));
    }
  }
  const stores = ['a', 'b'].map((x) => join(dir, `store-${x}`));
  // maxRows 300: several groups per flush, each group's reads reusing the buffer the last one used.
  const results = await Promise.all(spools.map((spool, s) => flushSpool({ spool, store: stores[s], maxRows: 300 })));
  for (let s = 0; s < 2; s++) {
    assert.equal(results[s].rows, want[s].length);
    assert.deepEqual(await listSegments(spools[s]), []);
    const got = await scanArrays({ root: stores[s] });
    const have = Array.from(got.ts!, (ts, i) => `${key({ ts, asset: got.asset![i]!, signal: got.signal![i]! })}|${got.value![i]}`);
    assert.deepEqual(have.sort(), [...want[s]].sort(), `spool ${s}`);
  }
  // A later flush into the same store reuses the buffer again; its readings arrive whole.
  const late = poll(400, T0 + 40 * 3_600_000, 7);
  await appendToSpool(spools[0], late);
  assert.equal((await flushSpool({ spool: spools[0], store: stores[0] })).rows, 400);
  const again = await scanArrays({ root: stores[0] });
  const all = [...want[0], ...Array.from(late.ts, (ts, i) => `${key({ ts, asset: late.asset[i], signal: late.signal[i] })}|${late.value[i]}`)];
  assert.deepEqual(Array.from(again.ts!, (ts, i) => `${key({ ts, asset: again.asset![i]!, signal: again.signal![i]! })}|${again.value![i]}`).sort(), all.sort());
});

test('flush gives the store writeReadings gives: long unicode names, many series, segments out of time order, quality codes', async (t) => {
  const dir = scratch(t);
  const longAsset = (k: number) => `Förderband-Antriebsstation-Süd-${k}-🚀`; // > 12 bytes, multi-byte UTF-8
  const longSignal = (k: number) => `Lagertemperatur/Wälzlager-${k}-Ω`;
  // Dense: 30 x 20 = 600 series (the counting pass); sparse: 400 x 300 names for a few thousand
  // rows (the per-partition sort); both across two sites and a UTC midnight.
  for (const [label, nAssets, nSignals, rowsPerSeg] of [['dense', 30, 20, 3000], ['sparse', 400, 300, 700]] as const) {
    const segs: ReadingBatch[] = [];
    for (let k = 0; k < 8; k++) {
      const b: ReadingBatch = { ts: new Float64Array(rowsPerSeg), site: [], asset: [], signal: [], value: new Float64Array(rowsPerSeg) };
      if (k % 3 !== 1) b.quality = new Uint8Array(rowsPerSeg);
      for (let i = 0; i < rowsPerSeg; i++) {
        // Segment k holds the k-th slice of time, appended newest first (out of time order);
        // inside a segment rows are time-major with a few swapped.
        const step = i % 50 === 7 ? i + 1 : i % 50 === 8 ? i - 1 : i;
        b.ts[i] = Date.parse('2024-05-01T23:50:00Z') + (7 - k) * 90_000 + step * 97;
        b.site.push(i % 5 === 4 ? 'Werk-Süd' : 'plant-1');
        b.asset.push(longAsset((i * 7 + k) % nAssets));
        b.signal.push(longSignal((i * 13 + k * 3) % nSignals));
        b.value[i] = i % 97 === 0 ? Number.NaN : k * 1e5 + i + 0.125;
        if (b.quality) b.quality[i] = i % 11 === 0 ? 3 : i % 7 === 0 ? 1 : 0;
      }
      segs.push(b);
    }
    const spool = join(dir, `spool-${label}`);
    for (const b of segs) await appendToSpool(spool, b);
    const all: ReadingBatch = {
      ts: new Float64Array(segs.flatMap((b) => [...b.ts])), site: segs.flatMap((b) => b.site), asset: segs.flatMap((b) => b.asset),
      signal: segs.flatMap((b) => b.signal), value: new Float64Array(segs.flatMap((b) => [...b.value])),
      quality: new Uint8Array(segs.flatMap((b) => (b.quality ? [...b.quality] : new Array<number>(b.ts.length).fill(0)))),
    };
    const refRoot = join(dir, `ref-${label}`);
    const storeRoot = join(dir, `store-${label}`);
    const ref = await writeReadings(refRoot, all);
    const got = await flushSpool({ spool, store: storeRoot });
    assert.equal(got.rows, all.ts.length, label);
    assert.deepEqual(await listSegments(spool), [], `${label}: every segment moved`);
    // Same partitions, byte-identical files (hence the same schema and row order) ...
    const byPartition = (root: string) => new Map(readdirSync(root, { recursive: true }).map(String).filter((f) => f.endsWith('.parquet')).map((f) => [f.replace(/part-.*$/, ''), readFileSync(join(root, f))]));
    const want = byPartition(refRoot);
    const have = byPartition(storeRoot);
    assert.equal(want.size, ref.files.length);
    assert.equal(want.size, 4, `${label}: two sites x two dates`);
    assert.deepEqual([...have.keys()].sort(), [...want.keys()].sort(), label);
    for (const [part, bytes] of want) assert.ok(bytes.equals(have.get(part)!), `${label} ${part}: flushed file differs from writeReadings' file`);
    // ... and read back by DuckDB and by the store's own scan, every reading with its name and quality.
    const stored = await readStore(storeRoot);
    // Each file sorted by (asset, signal, ts): checked here, not only against writeReadings' file.
    for (let i = 1; i < stored.length; i++) {
      const [p, q] = [stored[i - 1], stored[i]];
      if (p.file !== q.file) continue;
      const order = p.asset < q.asset ? -1 : p.asset > q.asset ? 1 : p.signal < q.signal ? -1 : p.signal > q.signal ? 1 : Math.sign(p.ts - q.ts);
      assert.ok(order <= 0, `${label}: ${q.file} row ${i} is out of (asset, signal, ts) order`);
    }
    const duck = stored.map((r) => `${r.site}|${r.asset}|${r.signal}|${r.ts}|${r.value}|${r.quality}`).sort();
    const expected = Array.from(all.ts, (ts, i) => `${all.site[i]}|${all.asset[i]}|${all.signal[i]}|${ts}|${all.value[i]}|${all.quality![i]}`).sort();
    assert.deepEqual(duck, expected, `${label}: DuckDB reads back every reading`);
    const scanned = await scanArrays({ root: storeRoot });
    const viaScan = Array.from(scanned.ts!, (ts, i) => `${scanned.site![i]}|${scanned.asset![i]}|${scanned.signal![i]}|${ts}|${scanned.value![i]}|${scanned.quality![i]}`).sort();
    assert.deepEqual(viaScan, expected, `${label}: scan reads back every reading`);
  }
  // A segment buffer that is not 8-byte aligned is copied, not viewed, with the same rows.
  const seg = encodeSegment(poll(5, T0, 1, true));
  const shifted = Buffer.concat([Buffer.alloc(3), seg]).subarray(3);
  const [a, b] = [seg, shifted].map((buf) => openSegment(buf)).map((o) => ('torn' in o ? assert.fail(o.torn) : segmentChunk(o)));
  assert.equal(b.ts.byteOffset % 8, 0);
  assert.deepEqual([...b.ts, ...b.value, ...b.site, ...b.asset, ...b.signal, ...b.quality!], [...a.ts, ...a.value, ...a.site, ...a.asset, ...a.signal, ...a.quality!]);
});

/** Runs the real gateway binary; resolves helpers to wait for log lines. */
function startGateway(spool: string, store: string) {
  const child = spawn(process.execPath, cliArgs('gateway', '--spool', spool, '--store', store, '--every', '150ms', '--max-backoff', '600ms'), {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    log += d;
    for (const w of waiters.splice(0)) (w.re.test(log) ? w.resolve : () => waiters.push(w))();
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    child,
    exited,
    log: () => log,
    waitFor(re: RegExp, ms = 30_000): Promise<void> {
      if (re.test(log)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in gateway log:\n${log}`)), ms);
        waiters.push({ re, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
  };
}

test('gateway: store unwritable → keeps spooling and retries with backoff; survives SIGKILL; resumes and delivers when the store is back', async (t) => {
  const dir = scratch(t);
  const spool = join(dir, 'spool');
  const store = join(dir, 'store');
  writeFileSync(store, 'a file where the store directory should be');
  const acked: string[] = [];
  const b1 = poll(40, T0, 1);
  await appendToSpool(spool, b1);
  acked.push(...keysOf(b1));

  const g1 = startGateway(spool, store);
  t.after(() => g1.child.kill('SIGKILL'));
  await g1.waitFor(/flush failed \(attempt 3\)/);
  assert.match(g1.log(), /not writable.*40 readings in 1 segment\(s\) kept in the spool; retrying in 0\.3 s/);
  assert.match(g1.log(), /attempt 3\).*retrying in 0\.6 s/, 'backoff doubles up to --max-backoff');
  // More readings arrive while the store is down: the spool grows, nothing is dropped.
  const b2 = poll(25, T0 + 3_600_000, 2);
  await appendToSpool(spool, b2);
  acked.push(...keysOf(b2));
  await g1.waitFor(/65 readings in 2 segment\(s\) kept/);
  g1.child.kill('SIGKILL');
  await g1.exited;
  assert.equal((await spoolStatus(spool)).rows, 65);

  // Restart: it resumes from the spool and delivers as soon as the store is writable.
  rmSync(store);
  const g2 = startGateway(spool, store);
  t.after(() => g2.child.kill('SIGKILL'));
  await g2.waitFor(/flushed 65 readings from 2 segment\(s\)/);
  g2.child.kill('SIGTERM');
  assert.equal(await g2.exited, 0);
  assert.match(g2.log(), /gateway: stopped/);
  assert.equal((await spoolStatus(spool)).segments, 0);
  assert.deepEqual((await readStore(store)).map(key).sort(), acked.sort());
});
