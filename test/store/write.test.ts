import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile, mkdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeReadings, writeEncodedReadings, scanTable, sql, compact } from '../../lib/store/index.ts';
import { isErrorCode } from '../../lib/errors/index.ts';
import type { ReadingBatch } from '../../lib/readings/index.ts';
import { plantBatch, tempDir } from './fixtures.ts';

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

test('writeReadings writes one sorted part file per (site, UTC date) and no temp files', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    // 22:00 → 00:46 next day at 10 s: crosses UTC midnight; time-major order (as a gateway delivers).
    const batch = plantBatch({ samples: 1000, timeMajor: true });
    const r = await writeReadings(dir, batch);
    assert.equal(r.rows, batch.ts.length);
    const files = (await walk(dir)).map((f) => relative(dir, f)).sort();
    assert.equal(files.length, 4);
    assert.deepEqual(
      files.map((f) => f.replace(/part-[^/]+\.parquet$/, 'part')),
      ['site=plant-1/date=2024-03-01/part', 'site=plant-1/date=2024-03-02/part', 'site=plant-2/date=2024-03-01/part', 'site=plant-2/date=2024-03-02/part'],
    );
    assert.ok(files.every((f) => /\/part-\d{13}-\d+-\d{6}-[0-9a-f]{8}\.parquet$/.test(f)), 'no temp or other files remain');
    assert.deepEqual(r.files.map((f) => relative(dir, f)).sort(), files);
    // Rows inside each file are in (asset, signal, ts) order.
    const { rows } = await sql(
      `SELECT count(*) AS bad FROM (SELECT asset, signal, ts, lag(asset) OVER w AS pa, lag(signal) OVER w AS ps, lag(ts) OVER w AS pt
         FROM read_parquet('${dir}/*/*/*.parquet', filename = true, file_row_number = true) WINDOW w AS (PARTITION BY filename ORDER BY file_row_number))
       WHERE pa IS NOT NULL AND (asset, signal, ts) < (pa, ps, pt)`,
      { root: dir },
    );
    assert.equal(rows[0].bad, 0);
    // Midnight split is by UTC.
    const { rows: days } = await sql(`SELECT date, min(ts) AS lo, max(ts) AS hi FROM readings GROUP BY date ORDER BY date`, { root: dir });
    assert.equal(days[0].hi, Date.UTC(2024, 2, 1, 23, 59, 50));
    assert.equal(days[1].lo, Date.UTC(2024, 2, 2, 0, 0, 0));
  } finally {
    await cleanup();
  }
});

test('writeEncodedReadings: a dictionary with repeated and unused names writes the bytes writeReadings writes; a bad id or name is refused', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const batch = plantBatch({ samples: 200, timeMajor: true });
    // Every name twice (rows alternate between the copies) plus unused entries, one of them invalid.
    const dict = ['', 'spare'];
    const ids = new Map<string, number[]>();
    const idOf = (v: string, i: number) => {
      if (!ids.has(v)) ids.set(v, [dict.push(v) - 1, dict.push(v) - 1]);
      return ids.get(v)![i % 2];
    };
    const n = batch.ts.length;
    const enc = { ts: batch.ts, value: batch.value, quality: batch.quality, site: new Int32Array(n), asset: new Int32Array(n), signal: new Int32Array(n) };
    for (let i = 0; i < n; i++) {
      enc.site[i] = idOf(batch.site[i], i);
      enc.asset[i] = idOf(batch.asset[i], i);
      enc.signal[i] = idOf(batch.signal[i], i);
    }
    const ref = await writeReadings(join(dir, 'ref'), batch);
    const got = await writeEncodedReadings(join(dir, 'enc'), enc, dict);
    assert.equal(got.rows, n);
    const rel = (root: string, files: string[]) => files.map((f) => relative(root, f).replace(/part-.*$/, '')).sort();
    assert.deepEqual(rel(join(dir, 'enc'), got.files), rel(join(dir, 'ref'), ref.files));
    for (const f of ref.files) {
      const twin = got.files.find((g) => relative(join(dir, 'enc'), g).replace(/part-.*$/, '') === relative(join(dir, 'ref'), f).replace(/part-.*$/, ''))!;
      assert.ok((await readFile(f)).equals(await readFile(twin)), `${relative(dir, twin)} differs from writeReadings' file`);
    }
    const bad = { ...enc, asset: Int32Array.from(enc.asset) };
    bad.asset[7] = dict.length;
    await assert.rejects(writeEncodedReadings(join(dir, 'bad'), bad, dict), (e) => isErrorCode(e, 'BAD_INPUT') && /reading 7: asset id \d+ is outside the dictionary/.test((e as Error).message));
    bad.asset[7] = 0; // the empty name
    await assert.rejects(writeEncodedReadings(join(dir, 'bad'), bad, dict), (e) => isErrorCode(e, 'BAD_INPUT') && /asset must be a non-empty string/.test((e as Error).message));
    await assert.rejects(readdir(join(dir, 'bad')), /ENOENT/, 'nothing written');
  } finally {
    await cleanup();
  }
});

test('a leftover temp file from a crashed writer is invisible to scan and sql, and compact removes it once stale', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const batch = plantBatch({ sites: ['p'], samples: 100 });
    await writeReadings(dir, batch);
    const part = join(dir, 'site=p', 'date=2024-03-01');
    // What a writer killed mid-write leaves: a truncated hidden temp file.
    await writeFile(join(part, '.part-1700000000000-1-000001-deadbeef.parquet.0badf00d.tmp'), 'PAR1 truncated');
    const t = await scanTable({ root: dir });
    assert.equal(t.numRows(), batch.ts.length);
    const { rows } = await sql('SELECT count(*) AS n FROM readings', { root: dir });
    assert.equal(rows[0].n, batch.ts.length);
    const young = await compact(dir, { tempMaxAgeMs: 3_600_000 });
    assert.equal(young.tempFilesRemoved, 0, 'a young temp file may belong to a live writer');
    const old = await compact(dir, { tempMaxAgeMs: 0 });
    assert.equal(old.tempFilesRemoved, 1);
    assert.ok((await readdir(part)).every((n) => !n.startsWith('.')));
  } finally {
    await cleanup();
  }
});

test('stray non-part files and malformed partition dirs are ignored', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await writeReadings(dir, plantBatch({ sites: ['p'], samples: 10 }));
    await writeFile(join(dir, 'site=p', 'date=2024-03-01', 'notes.txt'), 'hello');
    await mkdir(join(dir, 'site=p', 'date=garbage'));
    await writeFile(join(dir, 'site=p', 'date=garbage', 'part-x.parquet'), 'not parquet');
    assert.equal((await scanTable({ root: dir })).numRows(), 90);
    assert.equal((await sql('SELECT count(*) AS n FROM readings', { root: dir })).rows[0].n, 90);
  } finally {
    await cleanup();
  }
});

test('SIGKILL during writes leaves every visible part file whole and readable', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const child = fileURLToPath(new URL('./writer-child.ts', import.meta.url));
    const rand = (() => {
      let s = 7;
      return () => ((s = (s * 48271) % 2147483647) / 2147483647);
    })();
    for (let trial = 0; trial < 4; trial++) {
      const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, String(trial)], { stdio: ['ignore', 'pipe', 'inherit'] });
      // Wait until the child has started writing, then kill it at a random moment.
      await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, Math.floor(rand() * 300)));
      proc.kill('SIGKILL');
      await new Promise((r) => proc.once('exit', r));
    }
    // Each writeReadings call in the child writes 5000 readings to one partition: whole files only.
    const { rows } = await sql(
      `SELECT filename, count(*) AS n FROM read_parquet('${dir}/*/*/part-*.parquet', filename = true) GROUP BY filename`,
      { root: dir },
    );
    assert.ok(rows.length > 0, 'the children wrote something before being killed');
    for (const r of rows) assert.equal(r.n, 5000, String(r.filename));
    assert.equal((await scanTable({ root: dir })).numRows(), 5000 * rows.length);
  } finally {
    await cleanup();
  }
});

test('writeEncodedReadings (names as dictionary ids) writes byte-identical files to writeReadings, and refuses bad readings with the same error', async () => {
  const a = await tempDir();
  const b = await tempDir();
  try {
    // Two sites, across midnight, shuffled rows, quality flags; the dictionary also holds unused names, in another order.
    const batch = plantBatch({ samples: 1000, timeMajor: true, sites: ['plant-1', 'plant-2'] });
    const n = batch.ts.length;
    const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => ((x * 7919) % n) - ((y * 7919) % n));
    const shuffled: ReadingBatch = {
      ts: Float64Array.from(order, (i) => batch.ts[i]), site: order.map((i) => batch.site[i]), asset: order.map((i) => batch.asset[i]),
      signal: order.map((i) => batch.signal[i]), value: Float64Array.from(order, (i) => batch.value[i]), quality: Uint8Array.from(order, (i) => i % 5 === 0 ? 2 : 0),
    };
    const names = ['unused-1', ...new Set([...shuffled.signal, ...shuffled.asset, ...shuffled.site])].reverse().concat('unused-2');
    const id = new Map(names.map((s, i) => [s, i]));
    const enc = (x: ReadingBatch) => ({
      ts: x.ts, value: x.value, quality: x.quality, site: Int32Array.from(x.site, (s) => id.get(s) ?? names.length + 5),
      asset: Int32Array.from(x.asset, (s) => id.get(s) ?? names.length + 5), signal: Int32Array.from(x.signal, (s) => id.get(s) ?? names.length + 5),
    });
    const ra = await writeReadings(a.dir, shuffled);
    const rb = await writeEncodedReadings(b.dir, enc(shuffled), names);
    assert.equal(rb.rows, ra.rows);
    const contents = async (root: string, files: string[]) =>
      Object.fromEntries(await Promise.all(files.map(async (f) => [relative(root, f).replace(/part-[^/]+$/, ''), (await readFile(f)).toString('base64')] as const)));
    const ca = await contents(a.dir, ra.files);
    assert.equal(Object.keys(ca).length, 4);
    assert.deepEqual(await contents(b.dir, rb.files), ca);

    const bad: [string, (x: ReadingBatch) => void][] = [
      ['ts', (x) => (x.ts[30] = 1e15)],
      ['site', (x) => (x.site[12] = 'bad/site')],
      ['asset', (x) => (x.asset[3] = '')],
      ['ts before a bad site', (x) => ((x.ts[2] = Number.NaN), (x.site[9] = 'a b'))],
    ];
    for (const [what, spoil] of bad) {
      const x: ReadingBatch = { ...shuffled, ts: shuffled.ts.slice(), site: shuffled.site.slice(), asset: shuffled.asset.slice() };
      spoil(x);
      for (const s of [...x.site, ...x.asset]) if (!id.has(s)) id.set(s, names.push(s) - 1);
      const e1 = await writeReadings(a.dir, x).then(() => undefined, (e: Error) => e.message);
      const e2 = await writeEncodedReadings(b.dir, enc(x), names).then(() => undefined, (e: Error) => e.message);
      assert.ok(e1, `${what}: writeReadings refuses`);
      assert.equal(e2, e1, what);
    }
  } finally {
    await a.cleanup();
    await b.cleanup();
  }
});
