import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addMaintenanceRecord, addMaintenanceRecords, failureLabels, importCmmsCsv, listMaintenanceRecords, MillwrightError, sql } from '../../lib/index.ts';
import { createApp } from '../../serve/app.ts';
import { createMetrics } from '../../serve/metrics.ts';
import { main } from '../../cli/main.ts';
import { captureIO } from '../helpers/io.ts';

const HOUR = 3_600_000;
const T0 = Date.parse('2024-01-08T00:00:00Z');

async function withStore(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'mw-maint-'));
  try {
    await fn(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function eventFiles(root: string): Promise<number> {
  const { rows } = await sql('SELECT count(*)::INTEGER AS n FROM events', { root });
  return rows[0]!.n as number;
}

const code = (c: string) => (e: unknown) => e instanceof MillwrightError && e.code === c;

test('bad records are refused with nothing written: end before start, unknown kind, duplicates', async () => {
  await withStore(async (root) => {
    const ok = { site: 'plant-a', asset: 'line01-bearing', kind: 'failure' as const, from: T0, mode: 'bearing-outer-race' };
    await assert.rejects(addMaintenanceRecords(root, [ok, { ...ok, kind: 'repair', from: T0 + HOUR, to: T0 }]), (e: unknown) => code('BAD_INPUT')(e) && /record 1: ends .* before it starts/.test((e as Error).message));
    await assert.rejects(addMaintenanceRecords(root, [ok, { ...ok, kind: 'breakdown' as never }]), (e: unknown) => code('BAD_INPUT')(e) && /record 1: kind "breakdown" is not one of failure, repair, inspection/.test((e as Error).message));
    assert.equal(await eventFiles(root), 0, 'nothing written by a refused batch');
    await addMaintenanceRecord(root, ok);
    await assert.rejects(addMaintenanceRecords(root, [{ ...ok, asset: 'line02-bearing' }, { ...ok, note: 'again' }]), (e: unknown) => code('CONFLICT')(e) && /record 1: a failure of line01-bearing from 2024-01-08T00:00:00.000Z is already recorded/.test((e as Error).message));
    await assert.rejects(addMaintenanceRecords(root, [{ ...ok, asset: 'x1' }, { ...ok, asset: 'x1' }]), code('CONFLICT'));
    assert.equal(await eventFiles(root), 1);
    const listed = await listMaintenanceRecords(root);
    assert.equal(listed.length, 1);
    assert.deepEqual({ ...listed[0], id: undefined }, { ...ok, source: 'cli', id: undefined });
  });
});

test('CMMS CSV import: a bad row refuses the file naming the row; --skip-bad imports the rest and writes rejects', async () => {
  await withStore(async (root) => {
    const csv = join(root, 'orders.csv');
    await writeFile(csv, [
      'Order;Equipment;Type;Start;End;Cause;Text',
      '4711;line01-bearing;Breakdown;09.01.2024 15:20;;bearing-outer-race;"seized; noisy"',
      '4712;line01-bearing;Corrective;09.01.2024 16:00;10.01.2024 09:30;;replaced bearing',
      '4713;line02-motor;Inspection;31.03.2024 02:30;;;DST gap: no such local time',
      '4714;line02-motor;Corrective;12.01.2024 10:00;11.01.2024 10:00;;ends first',
      '4715;line02-motor;Overhaul;13.01.2024 10:00;;;unknown type',
    ].join('\n'));
    const mapping = {
      columns: { asset: 'Equipment', kind: 'Type', from: 'Start', to: 'End', mode: 'Cause', note: 'Text' },
      kinds: { Breakdown: 'failure', Corrective: 'repair', Inspection: 'inspection' } as const,
      site: 'plant-a', dateFormat: 'DD.MM.YYYY HH:mm', timeZone: 'Europe/Berlin', delimiter: ';',
    };
    await assert.rejects(importCmmsCsv(root, csv, mapping), (e: unknown) => {
      const m = (e as Error).message;
      return code('BAD_INPUT')(e) && /3 bad row\(s\), nothing imported/.test(m) && /row 4: from "31.03.2024 02:30"/.test(m) && /row 5: ends/.test(m) && /row 6: kind "Overhaul"/.test(m);
    });
    assert.equal(await eventFiles(root), 0);
    const s = await importCmmsCsv(root, csv, mapping, { skipBad: true });
    assert.deepEqual([s.rows, s.imported, s.rejected.map((r) => r.row)], [5, 2, [4, 5, 6]]);
    const rejects = await readFile(s.rejectsFile!, 'utf8');
    assert.equal(rejects.trim().split('\n').length, 4);
    const recs = await listMaintenanceRecords(root, { asset: 'line01-bearing' });
    // 15:20 CET is 14:20Z.
    assert.deepEqual(recs.map((r) => [r.kind, new Date(r.from).toISOString(), r.to && new Date(r.to).toISOString(), r.mode, r.note]), [
      ['failure', '2024-01-09T14:20:00.000Z', undefined, 'bearing-outer-race', 'seized; noisy'],
      ['repair', '2024-01-09T15:00:00.000Z', '2024-01-10T08:30:00.000Z', undefined, 'replaced bearing'],
    ]);
    assert.equal(recs[0]!.source, 'cmms:orders.csv');
    // Importing the same file again: duplicates, refused whole.
    await assert.rejects(importCmmsCsv(root, csv, mapping, { skipBad: true }), code('CONFLICT'));
    assert.equal(await eventFiles(root), 2);
  });
});

test('labels: failure within 24 h and hours to next failure against a hand-computed table, repair window excluded', () => {
  const records = [
    { asset: 'm1', kind: 'failure' as const, from: T0 + 30 * HOUR },
    { asset: 'm1', kind: 'repair' as const, from: T0 + 30 * HOUR, to: T0 + 40 * HOUR },
    { asset: 'm1', kind: 'failure' as const, from: T0 + 100 * HOUR },
    { asset: 'm2', kind: 'inspection' as const, from: T0 + 5 * HOUR },
  ];
  const rows = [0, 6, 29, 30, 35, 40, 41, 76, 99].map((h) => ({ asset: 'm1', ts: T0 + h * HOUR })).concat([{ asset: 'm2', ts: T0 }]);
  const l = failureLabels(rows, records, { horizonMs: 24 * HOUR });
  //             h:   0   6   29  30    35    40    41  76  99  | m2
  assert.deepEqual(l.failureWithin, [0, 1, 1, null, null, null, 0, 1, 1, 0]);
  assert.deepEqual(l.hoursToFailure, [30, 24, 1, null, null, null, 59, 24, 1, null]);
  assert.deepEqual(l.inRepair, [false, false, false, true, true, true, false, false, false, false]);
  assert.throws(() => failureLabels(rows, records, { horizonMs: 0 }), code('BAD_INPUT'));
});

test('POST /events over HTTP: 401 without the token, 400 with the reason, 201 and rows with it', async () => {
  await withStore(async (root) => {
    const TOKEN = 'maint-secret-token';
    const app = createApp({
      pool: () => undefined, shuttingDown: () => false, timeoutMs: 5000, maxBodyBytes: 1 << 20, workers: 1, adminToken: TOKEN, eventsStore: root,
      metrics: createMetrics(), log: () => {}, reload: () => Promise.reject(new Error('no model')),
    });
    const server: Server = createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
    const post = (body: unknown, token?: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    try {
      const rec = { site: 'plant-a', asset: 'line01-bearing', kind: 'failure', from: '2024-01-09T14:20:00Z', mode: 'bearing-outer-race' };
      assert.equal((await post(rec)).status, 401);
      assert.equal((await post(rec, 'wrong')).status, 401);
      const bad = await post([rec, { ...rec, kind: 'repair', from: '2024-01-10T00:00:00Z', to: '2024-01-09T00:00:00Z' }], TOKEN);
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /record 1: ends \(2024-01-09T00:00:00.000Z\) before it starts/);
      assert.equal(await eventFiles(root), 0);
      const ok = await post([rec, { ...rec, kind: 'repair', from: '2024-01-09T15:00:00Z', to: '2024-01-10T09:00:00Z' }], TOKEN);
      assert.equal(ok.status, 201);
      assert.equal(((await ok.json()) as { rows: number }).rows, 2);
      assert.equal((await post(rec, TOKEN)).status, 409);
      const recs = await listMaintenanceRecords(root);
      assert.deepEqual(recs.map((r) => [r.kind, r.source, new Date(r.from).toISOString()]), [['failure', 'http', '2024-01-09T14:20:00.000Z'], ['repair', 'http', '2024-01-09T15:00:00.000Z']]);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

test('CLI: events add, list, import, and features labels', async () => {
  await withStore(async (root) => {
    const run = async (args: string[]) => {
      const io = captureIO({ MILLWRIGHT_STORE: root });
      const rc = await main(args, io);
      return { rc, out: io.stdout, err: io.stderr };
    };
    let r = await run(['events', 'add', '--site', 'plant-a', '--asset', 'line01-bearing', '--kind', 'failure', '--from', '2024-01-09T14:20:00Z', '--mode', 'bearing-outer-race', '--note', 'seized']);
    assert.equal(r.rc, 0, r.err);
    r = await run(['events', 'add', '--asset', 'line01-bearing', '--kind', 'repair', '--from', '2024-01-09T15:00:00Z', '--to', '2024-01-09T12:00:00Z']);
    assert.notEqual(r.rc, 0);
    assert.match(r.err, /before it starts/);
    r = await run(['events', 'add', '--asset', 'line01-bearing', '--kind', 'overhaul', '--from', '2024-01-09T15:00:00Z']);
    assert.equal(r.rc, 2);
    const csv = join(root, 'wo.csv');
    await writeFile(csv, 'Equipment,Start,End\nline02-motor,2024-01-11 08:00,2024-01-11 12:00\nline02-motor,someday,\n');
    r = await run(['events', 'import', csv, '--map', 'asset=Equipment,from=Start,to=End', '--kind', 'repair', '--site', 'plant-a', '--date-format', 'YYYY-MM-DD HH:mm']);
    assert.notEqual(r.rc, 0);
    assert.match(r.err, /row 3: from "someday"/);
    r = await run(['events', 'import', csv, '--map', 'asset=Equipment,from=Start,to=End', '--kind', 'repair', '--site', 'plant-a', '--date-format', 'YYYY-MM-DD HH:mm', '--skip-bad']);
    assert.equal(r.rc, 0, r.err);
    assert.match(r.out, /imported 1 of 2 rows/);
    r = await run(['events', 'list', '--format', 'json']);
    const listed = JSON.parse(r.out) as { kind: string; asset: string; from: string }[];
    assert.deepEqual(listed.map((x) => [x.kind, x.asset, x.from]), [['failure', 'line01-bearing', '2024-01-09T14:20:00.000Z'], ['repair', 'line02-motor', '2024-01-11T08:00:00.000Z']]);
    r = await run(['events', 'list', '--kind', 'failure']);
    assert.match(r.out, /1 record\(s\)/);

    const rows = join(root, 'rows.csv');
    await writeFile(rows, 'ts,asset,temp\n2024-01-09T00:00:00Z,line01-bearing,50\n2024-01-08T00:00:00Z,line01-bearing,48\n2024-01-11T09:00:00Z,line02-motor,40\n');
    const out = join(root, 'labelled.csv');
    r = await run(['features', 'labels', rows, '--horizon', '24h', '--out', out]);
    assert.equal(r.rc, 0, r.err);
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    assert.deepEqual(lines, [
      'ts,asset,temp,failure_within_24h,hours_to_failure',
      '2024-01-09T00:00:00Z,line01-bearing,50,1,14.333333333333334',
      '2024-01-08T00:00:00Z,line01-bearing,48,0,38.333333333333336',
    ]);
    assert.deepEqual((await readdir(root)).filter((f) => f.endsWith('.tmp')), []);
  });
});
