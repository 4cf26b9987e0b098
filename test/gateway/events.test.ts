import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeEvents, writeReadings, sql } from '../../lib/store/index.ts';
import { appendEvents, flushEvents, listEventFiles } from '../../lib/gateway/index.ts';
import { isErrorCode } from '../../lib/errors/index.ts';
import { tempDir } from './helpers.ts';

const T = Date.UTC(2024, 2, 1, 10, 0);

test('writeEvents: a Hive-partitioned events table beside readings, joinable in sql; invalid rows refused whole', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await writeReadings(dir, { ts: Float64Array.of(T, T + 60_000, T + 120_000), site: ['plant-a', 'plant-a', 'plant-a'], asset: ['press1', 'press1', 'press1'], signal: ['force', 'force', 'force'], value: Float64Array.of(1, 2, 3) });
    const r = await writeEvents(dir, [
      { ts: T + 90_000, site: 'plant-a', source: 'plc7', kind: 'gap', asset: 'press1', signal: 'force', from: T + 60_001, to: T + 119_999, severity: 'warning', message: 'poll came late', id: 'e1' },
      { ts: T + 86_400_000, site: 'plant-a', source: 'alarms', kind: 'limit', severity: 'critical', id: 'e2' },
      { ts: T, site: 'plant-b', source: 'gateway', kind: 'spool-full', severity: 'error', message: 'full', id: 'e3' },
    ]);
    assert.equal(r.rows, 3);
    assert.deepEqual(r.files.map((f) => f.slice(dir.length + 1).replace(/part-.*$/, '')).sort(), [
      'events/site=plant-a/date=2024-03-01/', 'events/site=plant-a/date=2024-03-02/', 'events/site=plant-b/date=2024-03-01/',
    ]);
    // The readings view does not see the events' files.
    assert.equal((await sql('SELECT count(*) AS n FROM readings', { root: dir })).rows[0].n, 3);
    const { rows } = await sql(
      `SELECT e.id, e.kind, e.severity, e.site, CAST(e.date AS VARCHAR) AS date, epoch_ms(e.from_ts) AS f, epoch_ms(e.to_ts) AS t, e.asset, e.message,
              (SELECT count(*) FROM readings r WHERE r.asset = e.asset AND r.ts BETWEEN e.from_ts AND e.to_ts) AS inside
       FROM events e ORDER BY e.id`,
      { root: dir },
    );
    assert.deepEqual(rows, [
      { id: 'e1', kind: 'gap', severity: 'warning', site: 'plant-a', date: '2024-03-01', f: T + 60_001, t: T + 119_999, asset: 'press1', message: 'poll came late', inside: 0 },
      { id: 'e2', kind: 'limit', severity: 'critical', site: 'plant-a', date: '2024-03-02', f: null, t: null, asset: null, message: null, inside: 0 },
      { id: 'e3', kind: 'spool-full', severity: 'error', site: 'plant-b', date: '2024-03-01', f: null, t: null, asset: null, message: 'full', inside: 0 },
    ]);
    await assert.rejects(writeEvents(dir, [{ ts: T, site: 'plant-a', source: 's', kind: 'k', severity: 'loud' as 'info', id: 'x' }]), (err) => isErrorCode(err, 'BAD_INPUT') && /severity "loud" is not one of info, warning, error, critical/.test((err as Error).message));
    await assert.rejects(writeEvents(dir, [{ ts: T, site: '../up', source: 's', kind: 'k', severity: 'info', id: 'x' }]), (err) => isErrorCode(err, 'BAD_INPUT'));
    await assert.rejects(writeEvents(dir, [{ ts: Number.NaN, site: 'a', source: 's', kind: 'k', severity: 'info', id: 'x' }]), /event 0: ts NaN is not epoch milliseconds/);
    // A store without events still has the views, empty, with their columns.
    const { dir: empty, cleanup: c2 } = await tempDir();
    try {
      const e = await sql('SELECT * FROM events', { root: empty });
      assert.deepEqual(e.columns, ['ts', 'source', 'kind', 'asset', 'signal', 'from_ts', 'to_ts', 'severity', 'message', 'id', 'date', 'site']);
      assert.equal((await sql('SELECT count(*) AS n FROM assets', { root: empty })).rows[0].n, 0);
    } finally {
      await c2();
    }
  } finally {
    await cleanup();
  }
});

test('spooled events move into the table once, under the spool lock; a damaged file is set aside, never deleted', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const spool = join(dir, 'spool');
    const store = join(dir, 'store');
    await appendEvents(spool, [{ ts: T, site: 'plant-a', source: 'plc7', kind: 'connected', severity: 'info', id: 'a' }]);
    await appendEvents(spool, [{ ts: T + 1, site: 'plant-a', source: 'plc7', kind: 'disconnected', severity: 'warning', message: 'ECONNRESET', id: 'b' }]);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(spool, 'evt-00000000000001-0000001-00000001-abcdef.events'), '{"rows": [');
    assert.equal((await listEventFiles(spool)).length, 3);
    const r = await flushEvents(spool, store);
    assert.equal(r.rows, 2);
    assert.equal(r.quarantined.length, 1);
    assert.deepEqual((await readdir(spool)).filter((f) => !f.startsWith('.')).sort(), ['evt-00000000000001-0000001-00000001-abcdef.events.corrupt']);
    const { rows } = await sql('SELECT id, kind, message FROM events ORDER BY ts', { root: store });
    assert.deepEqual(rows, [{ id: 'a', kind: 'connected', message: null }, { id: 'b', kind: 'disconnected', message: 'ECONNRESET' }]);
    assert.deepEqual(await flushEvents(spool, store), { files: 0, rows: 0, quarantined: [] });
  } finally {
    await cleanup();
  }
});
