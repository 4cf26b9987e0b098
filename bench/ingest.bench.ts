/**
 * Ingest benchmark (issue 2): a 10M-reading CSV made in a temp dir goes through the real code
 * path (`millwright ingest` as a child process, so its peak RSS is its own: VmHWM from
 * /proc/<pid>/status), plus the parser alone in this process. Reference on the same file in the
 * same run: DuckDB `COPY (SELECT * FROM read_csv(...)) TO ... (FORMAT parquet)`.
 * Targets: >= 1M readings/s end to end, peak RSS < 1 GiB.
 * Rows: MILLWRIGHT_BENCH_INGEST_ROWS (default 10,000,000).
 */
import { closeSync, createReadStream, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { readCsv } from '../lib/ingest/index.ts';
import { writeReadings } from '../lib/store/index.ts';
import type { ReadingBatch } from '../lib/readings/index.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const SIGNALS = ['vibration_x', 'vibration_y', 'vibration_z', 'bearing_temp', 'motor_current'];

/** A plant's long-form export: 20 assets x 5 signals at 10 Hz, one site, spanning several days. */
function makeCsv(path: string, rows: number): void {
  const fd = openSync(path, 'w');
  const t0 = Date.UTC(2024, 2, 1);
  let buf = 'ts,site,asset,signal,value\n';
  for (let i = 0; i < rows; i++) {
    // 100 series interleaved in runs of 1000 readings, as a PLC historian exports them.
    const run = Math.floor(i / 1000);
    const series = run % 100;
    const k = Math.floor(run / 100) * 1000 + (i % 1000);
    const ts = t0 + k * 100 + series;
    buf += `${new Date(ts).toISOString()},plant-1,conveyor-${series % 20},${SIGNALS[Math.floor(series / 20)]},${(Math.sin(i * 0.01) * 50 + 60).toFixed(3)}\n`;
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = '';
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
}

function vmHWM(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `millwright ingest` as a child; samples its VmHWM (monotonic) until it exits. */
function ingestChild(file: string, store: string): Promise<{ seconds: number; peak: number; summary: { rowsAccepted: number; filesWritten: number; seconds: number } }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'ingest', file, '--store', store, '--json'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let peak = 0;
    const timer = setInterval(() => (peak = Math.max(peak, vmHWM(child.pid!) ?? 0)), 100);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      peak = Math.max(peak, vmHWM(child.pid!) ?? 0); // the summary is printed just before exit
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('exit', (code) => {
      clearInterval(timer);
      if (code !== 0) return reject(new Error(`ingest exited ${code}: ${err}`));
      resolve({ seconds: (performance.now() - started) / 1000, peak, summary: JSON.parse(out) });
    });
  });
}

const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const rate = (n: number, s: number) => `${(n / s / 1e6).toFixed(2)} M readings/s`;

export default async function (): Promise<void> {
  const rows = Number(process.env.MILLWRIGHT_BENCH_INGEST_ROWS ?? 10_000_000);
  const dir = await mkdtemp(join(tmpdir(), 'mw-bench-ingest-'));
  try {
    const csv = join(dir, 'readings.csv');
    let t = performance.now();
    makeCsv(csv, rows);
    const bytes = statSync(csv).size;
    console.log(`input: ${rows.toLocaleString('en-US')} readings, ${mb(bytes)} CSV (made in ${((performance.now() - t) / 1000).toFixed(1)} s)`);

    // 1. The parser alone (this process): CSV text -> columnar batches.
    t = performance.now();
    let parsed = 0;
    for await (const b of readCsv(createReadStream(csv, { highWaterMark: 1 << 22 }), { source: csv, onReject: () => {} })) parsed += b.batch.ts.length;
    const parseS = (performance.now() - t) / 1000;
    console.log(`parse only (readCsv, 1 thread):        ${parseS.toFixed(2)} s  ${rate(parsed, parseS)}`);

    // 1b. The store writer alone on already-parsed batches (the first 2M readings), to show
    // where end-to-end time goes: ingest cannot be faster than writeReadings.
    const sample: ReadingBatch[] = [];
    let sampled = 0;
    for await (const b of readCsv(createReadStream(csv, { highWaterMark: 1 << 22 }), { source: csv, onReject: () => {} })) {
      sample.push(b.batch);
      sampled += b.batch.ts.length;
      if (sampled >= 2_000_000) break;
    }
    t = performance.now();
    for (const b of sample) await writeReadings(join(dir, 'store-writer-only'), b);
    const writeS = (performance.now() - t) / 1000;
    sample.length = 0;
    console.log(`store writeReadings alone (${(sampled / 1e6).toFixed(1)}M parsed): ${writeS.toFixed(2)} s  ${rate(sampled, writeS)}`);

    // 2. End to end through the CLI: parse (worker thread) + writeReadings (atomic Parquet, fsync).
    const r = await ingestChild(csv, join(dir, 'store'));
    console.log(
      `millwright ingest (CLI, end to end):   ${r.summary.seconds.toFixed(2)} s  ${rate(r.summary.rowsAccepted, r.summary.seconds)}  ` +
        `(${r.summary.filesWritten} files; process wall incl. start-up ${r.seconds.toFixed(2)} s)  peak RSS ${mb(r.peak)}`,
    );

    // 3. Reference: DuckDB CSV -> Parquet (zstd) on the same file, in this process.
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const threads = (await conn.runAndReadAll("SELECT current_setting('threads')")).getRows()[0][0];
    t = performance.now();
    await conn.run(
      `COPY (SELECT * FROM read_csv('${csv}', header = true, columns = {'ts': 'TIMESTAMPTZ', 'site': 'VARCHAR', 'asset': 'VARCHAR', 'signal': 'VARCHAR', 'value': 'DOUBLE'})) ` +
        `TO '${join(dir, 'duck.parquet')}' (FORMAT parquet, COMPRESSION zstd)`,
    );
    const duckS = (performance.now() - t) / 1000;
    conn.closeSync();
    console.log(`DuckDB COPY read_csv -> parquet (${threads} threads): ${duckS.toFixed(2)} s  ${rate(rows, duckS)}`);

    console.log(`ratio ingest / DuckDB time: ${(r.summary.seconds / duckS).toFixed(2)}x   parse-only / DuckDB: ${(parseS / duckS).toFixed(2)}x`);
    const okRate = r.summary.rowsAccepted / r.summary.seconds >= 1e6;
    const okMem = r.peak < 2 ** 30;
    console.log(`targets: >= 1M readings/s ${okRate ? 'MET' : 'NOT MET'}; peak RSS < 1 GiB ${okMem ? 'MET' : 'NOT MET'} (${mb(r.peak)})`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
