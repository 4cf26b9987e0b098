import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeReadings, compact, scan, scanTable, scanStream, planScan, sql } from '../../lib/store/index.ts';
import { isErrorCode } from '../../lib/errors/index.ts';
import { main } from '../../cli/main.ts';
import { captureIO } from '../helpers/io.ts';
import { plantBatch, tempDir, rowKey } from './fixtures.ts';

const partDir = (root: string, site: string, date: string) => join(root, `site=${site}`, `date=${date}`);

async function fileOrderSorted(root: string): Promise<boolean> {
  const { rows } = await sql(
    `SELECT count(*) AS bad FROM (SELECT asset, signal, ts, lag(asset) OVER w AS pa, lag(signal) OVER w AS ps, lag(ts) OVER w AS pt
       FROM read_parquet('${root}/*/*/part-*.parquet', filename = true, file_row_number = true) WINDOW w AS (PARTITION BY filename ORDER BY file_row_number))
     WHERE pa IS NOT NULL AND (asset, signal, ts) <= (pa, ps, pt)`,
    { root },
  );
  return rows[0].bad === 0;
}

test('compact merges files, removes duplicates keeping the newest delivery, keeps sort order and every unique reading', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const base = plantBatch({ sites: ['p1', 'p2'], samples: 400, periodMs: 15_000, start: Date.UTC(2024, 2, 1, 23, 0) });
    await writeReadings(dir, base);
    // Re-delivery of an overlapping window (exact duplicates), then a correction of some values.
    const overlap = plantBatch({ sites: ['p1', 'p2'], samples: 100, periodMs: 15_000, start: Date.UTC(2024, 2, 1, 23, 50) });
    await writeReadings(dir, overlap);
    const correction = plantBatch({ sites: ['p1'], assets: ['motor-2'], signals: ['current'], samples: 10, periodMs: 15_000, start: Date.UTC(2024, 2, 1, 23, 0) });
    correction.value.fill(-1);
    await writeReadings(dir, correction);
    // A duplicate inside a single delivery too: the later row wins.
    await writeReadings(dir, { ts: Float64Array.of(Date.UTC(2024, 2, 2, 5), Date.UTC(2024, 2, 2, 5)), site: ['p2', 'p2'], asset: ['new', 'new'], signal: ['s', 's'], value: Float64Array.of(1, 2) });

    const before = (await scanTable({ root: dir })).objects() as { ts: number; site: string; asset: string; signal: string; value: number }[];
    const unique = new Map<string, number>();
    for (const r of before) unique.set(rowKey(r), r.value); // scan order = file (delivery) order, so the last write wins
    const r = await compact(dir);
    assert.equal(r.rowsBefore, before.length);
    assert.equal(r.rowsAfter, unique.size);
    assert.equal(r.duplicatesRemoved, before.length - unique.size);
    assert.ok(r.duplicatesRemoved >= 100 * 18 + 10 + 1);
    assert.equal(r.filesAfter, 4);

    const after = (await scanTable({ root: dir })).objects() as typeof before;
    assert.equal(after.length, unique.size);
    assert.deepEqual(new Map(after.map((x) => [rowKey(x), x.value])), unique);
    assert.equal(after.find((x) => x.site === 'p1' && x.asset === 'motor-2' && x.signal === 'current' && x.ts === Date.UTC(2024, 2, 1, 23, 0))!.value, -1, 'correction kept');
    assert.equal(after.find((x) => x.asset === 'new')!.value, 2);
    assert.ok(await fileOrderSorted(dir));
    for (const site of ['p1', 'p2']) for (const date of ['2024-03-01', '2024-03-02']) {
      assert.equal((await readdir(partDir(dir, site, date))).length, 1, `${site}/${date} holds one file`);
    }
    const again = await compact(dir);
    assert.equal(again.partitionsRewritten, 0, 'a compacted store is left alone');
    assert.equal(again.duplicatesRemoved, 0);
  } finally {
    await cleanup();
  }
});

test('a compaction interrupted after the merged file was written loses nothing, readers skip the replaced files, a re-run removes them', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await writeReadings(dir, plantBatch({ sites: ['p'], samples: 100, start: Date.UTC(2024, 2, 1, 1) }));
    const second = plantBatch({ sites: ['p'], samples: 100, start: Date.UTC(2024, 2, 1, 1), seed: 5 }); // same keys, new values
    await writeReadings(dir, second);
    const pd = partDir(dir, 'p', '2024-03-01');
    const originals = (await readdir(pd)).sort();
    // Simulate the crash: run compact on a copy of the old files, then put the old files back,
    // which is the state after "merged file renamed into place" but before the deletions.
    const { dir: save, cleanup: cleanSave } = await tempDir();
    for (const f of originals) await copyFile(join(pd, f), join(save, f));
    await compact(dir);
    for (const f of originals) await copyFile(join(save, f), join(pd, f));
    await cleanSave();
    assert.equal((await readdir(pd)).length, 3);
    const raw = await sql(`SELECT count(*) AS n FROM read_parquet('${pd}/part-*.parquet')`, { root: dir });
    assert.equal(raw.rows[0].n, 2700, 'all three files are on disk');
    // The merged file's footer names the files it replaces: millwright's readers see each reading once.
    const expected = new Map<string, number>();
    for (let i = 0; i < second.ts.length; i++) expected.set(rowKey({ site: 'p', asset: second.asset[i], signal: second.signal[i], ts: second.ts[i] }), second.value[i]);
    type Row = { ts: number; site: string; asset: string; signal: string; value: number };
    const during = (await scanTable({ root: dir })).objects() as Row[];
    assert.deepEqual(new Map(during.map((x) => [rowKey(x), x.value])), expected);
    assert.equal(during.length, 900);
    assert.equal((await sql('SELECT count(*) AS n FROM readings', { root: dir })).rows[0].n, 900);
    const r = await compact(dir);
    assert.equal(r.filesAfter, 1);
    const left = await readdir(pd);
    assert.equal(left.length, 1);
    assert.match(left[0], /-compacted-/);
    const after = (await scanTable({ root: dir })).objects() as Row[];
    assert.deepEqual(new Map(after.map((x) => [rowKey(x), x.value])), expected);
  } finally {
    await cleanup();
  }
});

test('scans running during compactions never fail and never miss or double-count a reading', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    let total = 0;
    for (let k = 0; k < 6; k++) {
      const b = plantBatch({ sites: ['p', 'q'], samples: 60, start: Date.UTC(2024, 2, 1, 1) + k * 3_600_000, seed: k });
      total += (await writeReadings(dir, b)).rows;
    }
    for (let round = 0; round < 3; round++) {
      const [, ...counts] = await Promise.all([
        compact(dir),
        scanTable({ root: dir }).then((t) => t.numRows()),
        new Promise((r) => setTimeout(r, 30 * round)).then(() => scanTable({ root: dir })).then((t) => t.numRows()),
        sql('SELECT count(*) AS n FROM readings', { root: dir }).then((r) => r.rows[0].n),
        scanTable({ root: dir, sites: 'q' }).then((t) => t.numRows() * 2),
      ]);
      assert.deepEqual(counts, [total, total, total, total], `round ${round}`);
      await writeReadings(dir, plantBatch({ sites: ['p', 'q'], samples: 30, start: Date.UTC(2024, 2, 1, 12, 10 * round), seed: 100 + round }));
      total += 2 * 9 * 30;
    }
  } finally {
    await cleanup();
  }
});

test('a scan whose planned files a compaction deleted starts over from a fresh plan (both readers); scanStream reports CONFLICT', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const b = plantBatch({ sites: ['p'], samples: 40, start: Date.UTC(2024, 2, 1, 1) });
    await writeReadings(dir, b);
    await writeReadings(dir, b); // duplicates: the compaction removes half of the rows
    const stale = await planScan({ root: dir });
    assert.equal(stale.files.length, 2);
    await compact(dir);
    assert.ok(stale.files.every((f) => !existsSync(f.path)), 'the planned files are gone');
    for (const reader of ['duckdb', 'parquet-wasm'] as const) {
      const t = await scanTable({ root: dir, plan: stale, reader });
      assert.equal(t.numRows(), b.ts.length, reader);
      assert.equal((await scan({ root: dir, plan: stale, reader })).numRows, b.ts.length, reader);
    }
    await assert.rejects(
      (async () => {
        for await (const batch of scanStream({ root: dir, plan: stale })) assert.ok(batch.numRows >= 0);
      })(),
      (e: unknown) => isErrorCode(e, 'CONFLICT') && /disappeared during the scan/.test(e.message),
    );
  } finally {
    await cleanup();
  }
});

test('millwright compact CLI: filters by site/date and prints a summary; bad site is refused', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const b = plantBatch({ sites: ['a', 'b'], samples: 50, start: Date.UTC(2024, 2, 1, 1) });
    await writeReadings(dir, b);
    await writeReadings(dir, b);
    const io = captureIO({ MILLWRIGHT_STORE: dir });
    assert.equal(await main(['compact', '--site', 'a'], io), 0, io.stderr);
    assert.match(io.stdout, /compacted 1 of 1 partitions .* files 2 -> 1, rows 900 -> 450 \(450 duplicates removed\)/);
    assert.equal((await readdir(partDir(dir, 'b', '2024-03-01'))).length, 2, 'site b untouched');
    const bad = captureIO();
    assert.equal(await main(['compact', '--store', dir, '--site', '../x'], bad), 1);
    assert.match(bad.stderr, /invalid site partition value "\.\.\/x"/);
    const missing = captureIO();
    assert.equal(await main(['compact', '--store', join(dir, 'nope')], missing), 1);
    assert.match(missing.stderr, /does not exist/);
  } finally {
    await cleanup();
  }
});
