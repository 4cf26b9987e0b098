/**
 * Crash safety (issue 2): SIGKILL `ingest`, `spool` and `flush` child processes at random points,
 * then check that the store opens (every Parquet file readable by DuckDB), holds only whole
 * batches, and that spool + store together hold every acknowledged reading, exactly once after
 * compaction. Seeded: MILLWRIGHT_CRASH_SEED=<n> replays the same kill delays (process timing
 * still varies from run to run).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { compact, scan } from '../../lib/store/index.ts';
import { mulberry32 } from '../../lib/algorithms/forest/rng.ts';
import { decodeSegment, flushSpool, listSegments } from '../../lib/spool/index.ts';
import { repoRoot } from '../helpers/data.ts';
import { partFiles, readStore, type StoredReading } from './store-reader.ts';
import { cliArgs } from '../helpers/cli.ts';

const BATCH = 50;
const BASE = Date.parse('2024-06-01T23:00:00Z');


/** Line L (2-based, after the header) of the input: two sites, crossing midnight, value = L. */
function expected(line: number) {
  return {
    site: line % 2 ? 'north' : 'south',
    asset: `m${line % 3}`,
    signal: line % 4 < 2 ? 'temp' : 'current',
    ts: BASE + (line - 2) * 10_000,
    value: line,
  };
}

function writeInput(path: string, rows: number): void {
  let text = 'ts,site,asset,signal,value\n';
  for (let line = 2; line < rows + 2; line++) {
    const e = expected(line);
    text += `${new Date(e.ts).toISOString()},${e.site},${e.asset},${e.signal},${e.value}\n`;
  }
  writeFileSync(path, text);
}

const batchOf = (line: number) => Math.floor((line - 2) / BATCH);
const partitionOf = (r: { site: string; ts: number }) => `${r.site}/${new Date(r.ts).toISOString().slice(0, 10)}`;

/** Lines of each (batch, partition) group of the input. */
function groups(rows: number): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (let line = 2; line < rows + 2; line++) {
    const k = `${batchOf(line)}|${partitionOf(expected(line))}`;
    out.set(k, [...(out.get(k) ?? []), line]);
  }
  return out;
}

/** Every stored reading is an input line, intact; each file holds whole (batch, partition) groups. */
function checkWhole(stored: StoredReading[], rows: number, what: string): void {
  const g = groups(rows);
  const byFile = new Map<string, StoredReading[]>();
  for (const r of stored) {
    const e = expected(r.value);
    assert.ok(Number.isInteger(r.value) && r.value >= 2 && r.value < rows + 2, `${what}: unexpected reading ${JSON.stringify(r)}`);
    assert.deepEqual([r.site, r.asset, r.signal, r.ts], [e.site, e.asset, e.signal, e.ts], `${what}: reading of line ${r.value} intact`);
    byFile.set(r.file, [...(byFile.get(r.file) ?? []), r]);
  }
  for (const [file, rs] of byFile) {
    const perGroup = new Map<string, number[]>();
    for (const r of rs) {
      const k = `${batchOf(r.value)}|${partitionOf(r)}`;
      perGroup.set(k, [...(perGroup.get(k) ?? []), r.value]);
    }
    for (const [k, lines] of perGroup) {
      assert.deepEqual(lines.sort((a, b) => a - b), g.get(k), `${what}: ${file} holds all of batch/partition ${k}, not part of it`);
    }
  }
}

/** The store opens through its own reader too, and sees exactly what DuckDB sees file by file. */
async function checkOpens(root: string, stored: StoredReading[], what: string): Promise<void> {
  if (partFiles(root).length === 0) return; // killed before the first write: nothing to open
  const table = await scan({ root });
  assert.equal(table.numRows, stored.length, `${what}: scan() reads every stored reading`);
}

/** Lines named by "committed ... lines A-B" / "ack ... lines A-B" output lines. */
function ackedLines(stdout: string): number[] {
  const out: number[] = [];
  for (const m of stdout.matchAll(/ lines (\d+)-(\d+) rows (\d+)/g)) {
    const [a, b, n] = [Number(m[1]), Number(m[2]), Number(m[3])];
    assert.equal(b - a + 1, n, 'no rejects in this input: a batch is a contiguous line range');
    for (let l = a; l <= b; l++) out.push(l);
  }
  return out;
}

/**
 * Runs the CLI and SIGKILLs it `delay` ms after its first stdout line matching `ready` (or after
 * `delay` ms from spawn when `ready` is undefined). Resolves with its stdout and whether the
 * kill landed before it finished by itself.
 */
function runAndKill(args: string[], ready: RegExp | undefined, delay: number): Promise<{ stdout: string; killed: boolean; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cliArgs(...args), { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let armed = false;
    const arm = () => {
      if (armed) return;
      armed = true;
      setTimeout(() => child.kill('SIGKILL'), delay);
    };
    if (!ready) arm();
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (ready && ready.test(stdout)) arm();
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL' && code !== 0) reject(new Error(`${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve({ stdout, killed: signal === 'SIGKILL', code });
    });
  });
}

const keyOf = (r: StoredReading) => `${r.site}|${r.asset}|${r.signal}|${r.ts}`;

test('crash safety: SIGKILL ingest, spool and flush at random points; store stays readable, whole, and loses no acknowledged reading', { timeout: 240_000 }, async (t) => {
  const seed = Number(process.env.MILLWRIGHT_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.diagnostic(`crash seed ${seed} (replay kill delays with MILLWRIGHT_CRASH_SEED=${seed})`);
  console.log(`# crash seed ${seed}`);
  const rand = mulberry32(seed);
  const dir = mkdtempSync(join(tmpdir(), 'mw-crash-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ROWS = 1200;
  const input = join(dir, 'in.csv');
  writeInput(input, ROWS);
  let kills = 0;
  let crashes = 0;

  /** Ingest twice into one store, killing both runs; duplicates across runs are compact's job. */
  const ingestTrial = async (trial: number, d1: number, d2: number) => {
    const store = join(dir, `ingest-${trial}`);
    const committed = new Set<number>();
    for (const delay of [d1, d2]) {
      const r = await runAndKill(['ingest', input, '--store', store, '--batch-rows', String(BATCH), '--verbose'], /committed/, delay);
      kills++;
      if (r.killed) crashes++;
      for (const l of ackedLines(r.stdout)) committed.add(l);
      const stored = await readStore(store);
      checkWhole(stored, ROWS, `ingest trial ${trial} after kill`);
      await checkOpens(store, stored, `ingest trial ${trial} after kill`);
    }
    await compact(store, { tempMaxAgeMs: 0 });
    const after = await readStore(store);
    checkWhole(after, ROWS, `ingest trial ${trial} after compact`);
    const keys = after.map(keyOf);
    assert.equal(new Set(keys).size, keys.length, `ingest trial ${trial}: no duplicates after compaction`);
    const present = new Set(after.map((r) => r.value));
    for (const l of committed) assert.ok(present.has(l), `ingest trial ${trial}: committed line ${l} is in the store`);
  };

  /** Spool (killed), then flush (killed); spool + store must hold every acknowledged reading. */
  const spoolTrial = async (trial: number, d1: number, d2: number, waitForWrite: boolean) => {
    const spool = join(dir, `spool-${trial}`);
    const store = join(dir, `store-${trial}`);
    const s = await runAndKill(['spool', input, '--spool', spool, '--batch-rows', String(BATCH), '--verbose'], /^ack /m, d1);
    kills++;
    if (s.killed) crashes++;
    const acked = ackedLines(s.stdout);
    const f = await runAndKill(['flush', '--spool', spool, '--store', store, '--max-rows', String(2 * BATCH), '--verbose'], waitForWrite ? /^wrote /m : undefined, d2);
    kills++;
    if (f.killed) crashes++;
    const stored = await readStore(store);
    checkWhole(stored, ROWS, `spool trial ${trial} after killed flush`);
    await checkOpens(store, stored, `spool trial ${trial} after killed flush`);
    const inSpool = new Set<number>();
    for (const seg of await listSegments(spool)) {
      const decoded = decodeSegment(readFileSync(seg));
      assert.ok(!('torn' in decoded), `acknowledged-or-renamed segment ${seg} is whole`);
      for (const v of decoded.batch.value) inSpool.add(v);
    }
    const inStore = new Set(stored.map((r) => r.value));
    for (const l of acked) assert.ok(inStore.has(l) || inSpool.has(l), `spool trial ${trial}: acknowledged line ${l} is in the spool or the store`);
    // Recovery: flush to the end, compact: every acknowledged reading exactly once.
    await flushSpool({ spool, store });
    assert.deepEqual((await listSegments(spool)).length, 0);
    assert.deepEqual(readdirSync(spool).filter((f) => f.startsWith('.tmp-')), [], 'dead writers\' temp files removed');
    await compact(store, { tempMaxAgeMs: 0 });
    const final = await readStore(store);
    checkWhole(final, ROWS, `spool trial ${trial} after recovery`);
    const keys = final.map(keyOf);
    assert.equal(new Set(keys).size, keys.length, `spool trial ${trial}: no duplicates after compaction`);
    const present = new Set(final.map((r) => r.value));
    for (const l of acked) assert.ok(present.has(l), `spool trial ${trial}: acknowledged line ${l} delivered`);
  };

  const TRIALS = 6; // 6 x (2 ingest + 1 spool + 1 flush) = 24 kills
  const plan = Array.from({ length: TRIALS }, (_, i) => ({
    i,
    d: [rand() * 600, rand() * 600, rand() * 400, rand() * 1500],
    waitForWrite: rand() < 0.6,
  }));
  // All trials at once, each running its ingest and spool/flush branches side by side: child
  // start-up (loading the whole CLI) dominates, so overlap it.
  for (let k = 0; k < plan.length; k += 6) {
    await Promise.all(
      plan.slice(k, k + 6).flatMap((p) => [ingestTrial(p.i, p.d[0], p.d[1]), spoolTrial(p.i, p.d[2], p.d[3] + (p.waitForWrite ? 0 : 2500), p.waitForWrite)]),
    );
  }
  t.diagnostic(`${kills} SIGKILLs sent, ${crashes} landed mid-run (the rest hit a process that had just finished)`);
  console.log(`# ${kills} SIGKILLs sent, ${crashes} landed mid-run`);
  assert.ok(kills >= 20);
  assert.ok(crashes >= 12, `at least half of the kills interrupt a running process (got ${crashes})`);
});
