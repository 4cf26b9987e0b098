import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { resample, resampleStore, writeReadings, scanTable, scan, parseEvery } from '../../lib/store/index.ts';
import { isErrorCode } from '../../lib/errors/index.ts';
import { DictionaryColumn } from '../../lib/store/dictionary-column.ts';
import { batchRows, plantBatch, rng, tempDir } from './fixtures.ts';

const objs = (t: ColumnTable) => t.objects() as Record<string, unknown>[];

type Row = { ts: number; site: string; asset: string; signal: string; value: number };

/** Straightforward reference: group rows by (site, asset, signal, floor(ts / every)) in a Map. */
function reference(rows: Row[], every: number) {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    if (Number.isNaN(r.value)) continue;
    const k = JSON.stringify([r.site, r.asset, r.signal, Math.floor(r.ts / every) * every]);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  return [...groups.entries()]
    .map(([k, g]) => {
      const [site, asset, signal, ts] = JSON.parse(k) as [string, string, string, number];
      const vals = g.filter((r) => !Number.isNaN(r.value));
      const byTs = [...vals].sort((a, b) => a.ts - b.ts);
      return {
        site, asset, signal, ts,
        mean: vals.length ? vals.reduce((s, r) => s + r.value, 0) / vals.length : NaN,
        min: vals.length ? Math.min(...vals.map((r) => r.value)) : NaN,
        max: vals.length ? Math.max(...vals.map((r) => r.value)) : NaN,
        count: vals.length,
        last: vals.length ? byTs[byTs.length - 1].value : NaN,
        first: vals.length ? byTs[0].value : NaN,
      };
    })
    .sort((a, b) => (a.site + a.asset + a.signal < b.site + b.asset + b.signal ? -1 : a.site + a.asset + a.signal > b.site + b.asset + b.signal ? 1 : a.ts - b.ts));
}

function assertClose(actual: Record<string, unknown>[], expected: Record<string, unknown>[]) {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    for (const [k, v] of Object.entries(expected[i])) {
      const a = actual[i][k];
      if (typeof v === 'number' && k === 'mean' && Number.isFinite(v)) assert.ok(Math.abs((a as number) - v) < 1e-9, `row ${i} ${k}: ${a} vs ${v}`);
      else assert.deepEqual(a, v, `row ${i} ${k}`);
    }
  }
}

// Irregular 7 s sampling with a 20-minute outage, NaN readings, and shuffled delivery order.
function irregular() {
  const b = plantBatch({ samples: 900, periodMs: 7_000, start: Date.UTC(2024, 2, 1, 23, 30, 3), gap: [Date.UTC(2024, 2, 1, 23, 50), Date.UTC(2024, 2, 2, 0, 10)] });
  for (let i = 0; i < b.value.length; i += 53) b.value[i] = NaN;
  const rows = batchRows(b);
  const rand = rng(9);
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  return rows;
}

test('resample matches a straightforward reference, gaps stay gaps, NaN skipped, unsorted input', () => {
  const rows = irregular();
  const got = objs(resample(aq.from(rows), { every: '1m', aggs: ['mean', 'min', 'max', 'count', 'last', 'first'] }));
  const expected = reference(rows, 60_000);
  assertClose(got, expected);
  // The outage produces no rows at all (no invented zero-count buckets).
  const inGap = got.filter((r) => (r.ts as number) >= Date.UTC(2024, 2, 1, 23, 50) && (r.ts as number) < Date.UTC(2024, 2, 2, 0, 10));
  assert.equal(inGap.length, 0);
  assert.ok(got.some((r) => r.ts === Date.UTC(2024, 2, 1, 23, 49)) && got.some((r) => r.ts === Date.UTC(2024, 2, 2, 0, 10)));
});

test('resample buckets align to the UTC wall clock for 15m and 1h', () => {
  const rows = irregular();
  for (const [every, ms] of [['15m', 900_000], ['1h', 3_600_000]] as const) {
    const got = objs(resample(aq.from(rows), { every, aggs: ['count', 'sum'] }));
    assert.ok(got.every((r) => (r.ts as number) % ms === 0));
    const ref = reference(rows, ms);
    assert.deepEqual(got.map((r) => r.count), ref.map((r) => r.count));
  }
});

test('resample: a bucket whose readings are all NaN is a gap (no row); custom keys', () => {
  const t = aq.table({ ts: [0, 1000, 61_000, 62_000], machine: ['a', 'a', 'a', 'a'], value: [NaN, null, 5, 7] });
  const got = objs(resample(t, { by: ['machine'], aggs: ['count', 'mean', 'last'] }));
  assert.deepEqual(got, [{ machine: 'a', ts: 60_000, count: 2, mean: 6, last: 7 }]);
});

test('resample accepts an Arrow table from scan, and resampleStore (DuckDB) gives the same result', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const rows = irregular();
    await writeReadings(dir, {
      ts: Float64Array.from(rows, (r) => r.ts), site: rows.map((r) => r.site), asset: rows.map((r) => r.asset),
      signal: rows.map((r) => r.signal), value: Float64Array.from(rows, (r) => r.value),
    });
    const aggs = ['mean', 'min', 'max', 'count', 'last', 'first', 'sum'] as const;
    const fromTable = objs(resample(await scanTable({ root: dir }), { every: '5m', aggs }));
    const fromArrow = objs(resample(await scan({ root: dir }), { every: '5m', aggs }));
    const pushed = objs(await resampleStore({ root: dir, every: '5m', aggs }));
    assertClose(fromArrow, fromTable);
    assertClose(pushed, fromTable);
    assertClose(fromTable, reference(rows, 300_000).map(({ site, asset, signal, ts, mean, min, max, count, last, first }) => ({ site, asset, signal, ts, mean, min, max, count, last, first })));
    const filtered = objs(await resampleStore({ root: dir, sites: 'plant-2', assets: ['motor-2'], from: '2024-03-02', every: '5m', aggs: ['count'] }));
    assert.deepEqual(filtered, fromTable.filter((r) => r.site === 'plant-2' && r.asset === 'motor-2' && (r.ts as number) >= Date.UTC(2024, 2, 2)).map(({ site, asset, signal, ts, count }) => ({ site, asset, signal, ts, count })));
  } finally {
    await cleanup();
  }
});

test('bad every / aggs / columns are refused with what was expected', () => {
  assert.equal(parseEvery('1m'), 60_000);
  assert.equal(parseEvery('250ms'), 250);
  assert.equal(parseEvery('1d'), 86_400_000);
  for (const bad of ['', '1w', 'm', '0s', '-1m', '1.5ms', 0]) {
    assert.throws(() => parseEvery(bad), (e: unknown) => isErrorCode(e, 'BAD_INPUT') && /expected e\.g\. "500ms"/.test(e.message), String(bad));
  }
  const t = aq.table({ ts: [0], value: [1], asset: ['a'] });
  assert.throws(() => resample(t, { aggs: ['median' as never] }), (e: unknown) => isErrorCode(e, 'BAD_INPUT') && /"median"/.test(e.message));
  assert.throws(() => resample(aq.table({ ts: [0] }), {}), (e: unknown) => isErrorCode(e, 'BAD_INPUT') && /"value" column/.test(e.message));
});

test('resample of a scanTable (dictionary-encoded names) equals resample of the same rows with plain string columns, bit for bit, sorted or shuffled', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const rows = irregular();
    await writeReadings(dir, {
      ts: Float64Array.from(rows, (r) => r.ts), site: rows.map((r) => r.site), asset: rows.map((r) => r.asset),
      signal: rows.map((r) => r.signal), value: Float64Array.from(rows, (r) => r.value),
    });
    const aggs = ['mean', 'min', 'max', 'count', 'last', 'first', 'sum'] as const;
    const stored = await scanTable({ root: dir });
    assert.ok(!Array.isArray(stored.column('asset')), 'scanTable names are dictionary-encoded');
    const plain = aq.table(Object.fromEntries(stored.columnNames().map((c) => [c, stored.array(c)])));
    assert.ok(Array.isArray(plain.column('asset')));
    const order = Int32Array.from({ length: plain.numRows() }, (_, i) => i);
    const rand = rng(7);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const shuffledPlain = aq.table(Object.fromEntries(plain.columnNames().map((c) => [c, Array.from(order, (r) => plain.get(c, r))])));
    const shuffledDict = aq.table(Object.fromEntries(stored.columnNames().map((c) => {
      const col = stored.column(c) as unknown;
      return [c, col instanceof DictionaryColumn ? new DictionaryColumn(Int32Array.from(order, (r) => col.keys[r]), col.values) : Float64Array.from(order, (r) => stored.get(c, r) as number)];
    })));
    for (const every of ['1m', '5m', '1h']) {
      const expected = resample(plain, { every, aggs });
      for (const [name, t] of [['dictionary', stored], ['shuffled plain', shuffledPlain], ['shuffled dictionary', shuffledDict]] as const) {
        const got = resample(t, { every, aggs });
        assert.deepEqual(got.columnNames(), expected.columnNames());
        for (const c of expected.columnNames()) {
          const a = got.array(c) as ArrayLike<unknown>;
          const b = expected.array(c) as ArrayLike<unknown>;
          assert.equal(a.length, b.length, `${name} ${every} ${c}`);
          // Shuffled input sums in another order: equal to rounding only; everything else exactly.
          for (let i = 0; i < b.length; i++) {
            if (Object.is(a[i], b[i])) continue;
            if ((c === 'mean' || c === 'sum') && name !== 'dictionary' && Math.abs((a[i] as number) - (b[i] as number)) <= 1e-9 * Math.abs(b[i] as number)) continue;
            assert.fail(`${name} ${every}: ${c}[${i}] ${String(a[i])} vs ${String(b[i])}`);
          }
        }
      }
    }
  } finally {
    await cleanup();
  }
});
