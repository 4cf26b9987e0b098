/**
 * Ingest benchmark (issue 2): a 10M-reading CSV made in a temp dir goes through the real code
 * path (`millwright ingest` as a child process, so its peak RSS is its own: VmHWM from
 * /proc/<pid>/status), plus the parser alone in this process. Reference on the same file in the
 * same run: DuckDB `COPY (SELECT * FROM read_csv(..., store_rejects = true)) TO ... (FORMAT parquet)`,
 * also as a child process (bad rows set aside instead of failing the copy, as millwright does), with
 * its own peak RSS. Targets (issue 15): ingest at least 0.8x DuckDB's rate, peak RSS < 512 MiB.
 * Rows: MILLWRIGHT_BENCH_INGEST_ROWS (default 10,000,000).
 */
import { closeSync, createReadStream, existsSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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
function ingestChild(file: string, store: string, entry: string[] = ['--import', 'tsx', 'cli/main.ts'], extra: string[] = []): Promise<{ seconds: number; peak: number; summary: { rowsAccepted: number; filesWritten: number; seconds: number } }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...entry, 'ingest', file, '--store', store, '--json', ...extra], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
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

/**
 * The reference as a child process, like the ingest, so its peak RSS is its own: DuckDB reads the
 * CSV with the same column types and `store_rejects` (rows it cannot read go to a rejects table,
 * the copy goes on) and writes one zstd Parquet file. Time is measured inside the child around the
 * COPY (start-up excluded, like the ingest's own summary).
 */
function duckdbChild(csv: string, out: string): Promise<{ seconds: number; peak: number; threads: string; rejects: number }> {
  const code = `
    import { DuckDBInstance } from '@duckdb/node-api';
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const threads = String((await conn.runAndReadAll("SELECT current_setting('threads')")).getRows()[0][0]);
    const t = performance.now();
    await conn.run(${JSON.stringify(
      `COPY (SELECT * FROM read_csv('${csv}', header = true, store_rejects = true, ` +
        `columns = {'ts': 'TIMESTAMPTZ', 'site': 'VARCHAR', 'asset': 'VARCHAR', 'signal': 'VARCHAR', 'value': 'DOUBLE'})) ` +
        `TO '${out}' (FORMAT parquet, COMPRESSION zstd)`,
    )});
    const seconds = (performance.now() - t) / 1000;
    const rejects = Number((await conn.runAndReadAll('SELECT count(*) FROM reject_errors')).getRows()[0][0]);
    console.log(JSON.stringify({ seconds, threads, rejects }));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let outText = '';
    let err = '';
    let peak = 0;
    const timer = setInterval(() => (peak = Math.max(peak, vmHWM(child.pid!) ?? 0)), 100);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      outText += d;
      peak = Math.max(peak, vmHWM(child.pid!) ?? 0);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('exit', (code) => {
      clearInterval(timer);
      if (code !== 0) return reject(new Error(`duckdb reference exited ${code}: ${err}`));
      resolve({ ...JSON.parse(outText), peak });
    });
  });
}

const load = () => `load average ${loadavg().map((x) => x.toFixed(2)).join(', ')}`;
const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const rate = (n: number, s: number) => `${(n / s / 1e6).toFixed(2)} M readings/s`;

export default async function (): Promise<void> {
  const rows = Number(process.env.MILLWRIGHT_BENCH_INGEST_ROWS ?? 10_000_000);
  const dir = await mkdtemp(join(tmpdir(), 'mw-bench-ingest-'));
  console.log(`start: ${load()} (the machine may be shared: compare the ratios, measured side by side)`);
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

    // 2b. The same through the built package (`millwright` as installed: no TypeScript loader in
    // the process or its worker), when `npm run build` has made dist/.
    const built = join(repoRoot, 'dist', 'cli', 'main.js');
    let rb: Awaited<ReturnType<typeof ingestChild>> | undefined;
    let r2Seconds: number | undefined;
    if (existsSync(built)) {
      rb = await ingestChild(csv, join(dir, 'store-built'), [built]);
      console.log(
        `millwright ingest (built dist/, ${statSync(built).mtime.toISOString()}): ${rb.summary.seconds.toFixed(2)} s  ${rate(rb.summary.rowsAccepted, rb.summary.seconds)}  peak RSS ${mb(rb.peak)}`,
      );
      // Two parser threads (the default only on 4+ cores): what the split parse gains here.
      const r2 = await ingestChild(csv, join(dir, 'store-built-2'), [built], ['--parsers', '2']);
      console.log(`millwright ingest (built dist/, --parsers 2): ${r2.summary.seconds.toFixed(2)} s  ${rate(r2.summary.rowsAccepted, r2.summary.seconds)}  peak RSS ${mb(r2.peak)}  (DuckDB ratio below)`);
      await rm(join(dir, 'store-built-2'), { recursive: true, force: true });
      r2Seconds = r2.summary.seconds;
    } else console.log('millwright ingest (built dist/): skipped, no dist/ (npm run build)');

    // 3. Reference: DuckDB CSV -> Parquet (zstd) on the same file, as a child process.
    const d = await duckdbChild(csv, join(dir, 'duck.parquet'));
    console.log(`DuckDB COPY read_csv(store_rejects) -> parquet (${d.threads} threads): ${d.seconds.toFixed(2)} s  ${rate(rows, d.seconds)}  (${d.rejects} rejects)  peak RSS ${mb(d.peak)}`);

    const speed = d.seconds / r.summary.seconds;
    console.log(`ratio ingest rate / DuckDB rate: ${speed.toFixed(2)}x (target >= 0.8x; ingest: ${availableParallelism() >= 4 ? 2 : 1} parse worker(s) + the main thread writing; DuckDB: ${d.threads} threads)   parse-only rate / DuckDB: ${(d.seconds / parseS).toFixed(2)}x`);
    const met = (b: number) => (b < 512 * 2 ** 20 ? 'MET' : 'NOT MET');
    console.log(
      `peak RSS (target < 512 MiB): ingest from source (tsx) ${mb(r.peak)} ${met(r.peak)}` +
        `${rb ? `; built ${mb(rb.peak)} ${met(rb.peak)}, rate ratio ${(d.seconds / rb.summary.seconds).toFixed(2)}x` : ''}` +
        `${r2Seconds ? `; built --parsers 2 rate ratio ${(d.seconds / r2Seconds).toFixed(2)}x` : ''}; DuckDB ${mb(d.peak)}`,
    );
    console.log(`end: ${load()}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
