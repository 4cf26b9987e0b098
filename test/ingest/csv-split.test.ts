import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest, type BatchCommit } from '../../lib/ingest/index.ts';
import { planCsvSplit } from '../../lib/ingest/csv-split.ts';
import { readStore } from './store-reader.ts';

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mw-split-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A plant export with every kind of line a split can land on: a byte-order mark and blank lines
 * before the header, CRLF and LF endings, blank lines, quoted fields, non-ASCII names, bad rows of
 * each kind, a row with a quality code, a duplicated reading (the later one wins), two UTC days.
 */
function awkwardCsv(rows: number): string {
  const lines = ['\ufeff', '', 'ts,site,asset,signal,value,quality'];
  const t0 = Date.parse('2024-03-01T20:00:00Z');
  for (let i = 0; i < rows; i++) {
    const ts = new Date(t0 + Math.floor(i / 6) * 5_000).toISOString();
    const asset = ['kiln-1', 'mühle-2', 'pump-3'][i % 3];
    const signal = i % 2 ? 'temp' : 'flow';
    const value = (Math.sin(i) * 100).toFixed(3);
    let line = `${ts},plant-1,${asset},${signal},${value},${i % 101 === 0 ? 3 : ''}`;
    if (i % 997 === 0) line = `${ts},plant-1,${asset},${signal},not-a-number,`;
    else if (i % 1009 === 0) line = `2024-13-01T00:00:00Z,plant-1,${asset},${signal},1,`;
    else if (i % 1013 === 0) line = `${ts},plant-1,${asset},${signal}`;
    else if (i % 211 === 0) line = `"${ts}",plant-1,"${asset}","${signal}",${value},`;
    else if (i % 1500 === 7) line = `${new Date(t0 + Math.floor((i - 1) / 6) * 5_000).toISOString()},plant-1,${asset},${signal},-1,`;
    lines.push(i % 389 === 0 ? `${line}\r` : line);
    if (i % 1777 === 0) lines.push('');
  }
  return lines.join('\n') + '\n';
}

async function run(dir: string, file: string, parsers: number, batchRows: number) {
  const batches: Omit<BatchCommit, 'files'>[] = [];
  const store = join(dir, `store-${parsers}`);
  const rejects = join(dir, `rejects-${parsers}.ndjson`);
  const progress: number[] = [];
  const s = await ingest([file], {
    store,
    rejects,
    batchRows,
    worker: true,
    parsers,
    onBatch: ({ files: _f, ...b }) => batches.push(b),
    onProgress: (p) => progress.push(p.bytesRead),
  });
  const stored = (await readStore(store)).map((r) => `${r.site}|${r.asset}|${r.signal}|${r.ts}|${r.value}|${r.quality}`);
  const files = readdirSync(store, { recursive: true }).filter((f) => String(f).endsWith('.parquet')).length;
  return { s, batches, stored, rejects: readFileSync(rejects, 'utf8'), files, progress };
}

test('a CSV parsed on 2 and 3 threads gives the batches, line ranges, rejects and store of one parser', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'plant.csv');
  writeFileSync(file, awkwardCsv(30_000));
  const size = statSync(file).size;
  // 700-row batches: slices of 64 KiB (the smallest), so about 25 slices, most cut mid-batch.
  const plan = await planCsvSplit(file, size, 700);
  assert.ok(plan && plan.slices.length > 20, `${plan?.slices.length} slices`);
  const one = await run(dir, file, 1, 700);
  assert.ok(one.s.rowsRejected >= 80, `${one.s.rowsRejected} rejects`);
  assert.equal(one.s.rowsAccepted + one.s.rowsRejected, 30_000);
  for (const parsers of [2, 3]) {
    const many = await run(dir, file, parsers, 700);
    assert.deepEqual(many.batches, one.batches, `${parsers} parsers: batches`);
    assert.equal(many.rejects, one.rejects, `${parsers} parsers: rejects file`);
    assert.deepEqual(many.stored, one.stored, `${parsers} parsers: store`);
    assert.equal(many.files, one.files);
    assert.deepEqual({ ...many.s, seconds: 0, rowsPerSecond: 0, rejectsFile: '' }, { ...one.s, seconds: 0, rowsPerSecond: 0, rejectsFile: '', destination: many.s.destination });
    assert.equal(many.progress.at(-1), size, 'progress ends at the file size');
  }
  // the rejects name the file's own line numbers: line 3 is the header, reading 0 is on line 4,
  // reading 997 on line 1002 (one blank line after reading 0)
  const [first, second] = one.rejects.split('\n').map((l) => (l ? (JSON.parse(l) as { line: number; reason: string }) : undefined));
  assert.equal(first!.line, 4);
  assert.equal(second!.line, 4 + 997 + 1);
  assert.match(second!.reason, /not a finite number/);
});

test('planCsvSplit: slices start at line starts and cover the file after the header; no header line in the first MiB gives no plan', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'a.csv');
  const text = awkwardCsv(5_000);
  writeFileSync(file, text);
  const bytes = readFileSync(file);
  const plan = (await planCsvSplit(file, bytes.length, 100))!;
  assert.equal(plan.header, 'ts,site,asset,signal,value,quality');
  assert.equal(plan.headerLines, 3);
  assert.equal(plan.dataStart, Buffer.byteLength('\ufeff\n\nts,site,asset,signal,value,quality\n'));
  assert.equal(plan.slices[0]!.start, plan.dataStart);
  assert.equal(plan.slices.at(-1)!.end, bytes.length);
  for (let k = 1; k < plan.slices.length; k++) {
    assert.equal(plan.slices[k]!.start, plan.slices[k - 1]!.end);
    assert.equal(bytes[plan.slices[k]!.start - 1], 10, 'a slice starts after a newline');
  }
  const long = join(dir, 'long.csv');
  writeFileSync(long, 'x'.repeat((1 << 20) + 10) + '\n1,2\n');
  assert.equal(await planCsvSplit(long, statSync(long).size, 100), undefined);
  const headerOnly = join(dir, 'h.csv');
  writeFileSync(headerOnly, 'ts,site,asset,signal,value\n');
  assert.deepEqual((await planCsvSplit(headerOnly, statSync(headerOnly).size, 100))!.slices, []);
});

test('split parse: a bad header fails the input as with one parser; an over-long line is rejected with its line number; parsers is checked', async (t) => {
  const dir = scratch(t);
  const bad = join(dir, 'bad.csv');
  writeFileSync(bad, 'ts,site,asset,signal,valu\n2024-03-01T00:00:00Z,p,a,s,1\n');
  const results = [];
  for (const parsers of [1, 2]) {
    const s = await ingest([bad], { store: join(dir, `s${parsers}`), worker: true, parsers, rejects: join(dir, `r${parsers}.ndjson`) });
    results.push(s.sources[0]!.error);
  }
  assert.match(results[0]!, /unknown column "valu"/);
  assert.equal(results[1], results[0]);

  const longLine = join(dir, 'long.csv');
  const rows = Array.from({ length: 3000 }, (_, i) => `2024-03-01T00:00:${String(i % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}Z,p,a${i % 7},s,${i}`);
  rows[2000] = `2024-03-01T00:00:00Z,p,a,s,${'9'.repeat((1 << 20) + 5)}`;
  writeFileSync(longLine, `ts,site,asset,signal,value\n${rows.join('\n')}\n`);
  const seen = [];
  for (const parsers of [1, 2]) {
    const s = await ingest([longLine], { store: join(dir, `l${parsers}`), worker: true, parsers, batchRows: 500, rejects: join(dir, `lr${parsers}.ndjson`) });
    assert.equal(s.rowsAccepted, 2999);
    const rej = readFileSync(join(dir, `lr${parsers}.ndjson`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; reason: string });
    seen.push(rej.map((r) => `${r.line} ${r.reason}`));
  }
  assert.deepEqual(seen[0], ['2002 line longer than 1048576 bytes']);
  assert.deepEqual(seen[1], seen[0]);

  for (const parsers of [0, 1.5, 17]) {
    await assert.rejects(ingest([longLine], { store: join(dir, 'x'), parsers }), (e: Error & { code?: string }) => e.code === 'USAGE' && /parsers must be 'auto' or an integer from 1 to 16/.test(e.message));
  }
});
