/**
 * Landing benchmark, wide half (issue 11): a historian-style wide CSV (one row per second, 10
 * signal columns, 1M rows = 10M readings, made in a temp dir) ingested into the store with
 * `ingest` (format wide-csv, local time in Europe/Berlin), against DuckDB reading the same file
 * and unpivoting it into the same Hive layout (`COPY (UNPIVOT ...) TO ... (FORMAT parquet,
 * PARTITION_BY (site, date))`, zstd) in the same run. Target: >= 0.8x DuckDB's readings/s.
 * Then the same rows as wide NDJSON (one object per line) through `ingest --format wide-ndjson`,
 * against DuckDB's `read_json` + the same UNPIVOT, same run (no target set; printed).
 * Rows: MILLWRIGHT_BENCH_WIDE_ROWS (default 1,000,000); MILLWRIGHT_BENCH_WIDE_NDJSON=0 skips NDJSON.
 */
import { closeSync, openSync, statSync, writeSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ingest } from '../lib/ingest/index.ts';

const SIGNALS = ['suction_pressure', 'discharge_pressure', 'suction_temp', 'discharge_temp', 'motor_current', 'motor_power', 'vibration_de', 'vibration_nde', 'oil_pressure', 'flow'];

/** A compressor export: naive local timestamps (Europe/Berlin winter, +01:00), 1 s rows, 10 signals. */
function makeWideCsv(path: string, rows: number): void {
  const fd = openSync(path, 'w');
  const t0 = Date.UTC(2024, 0, 8); // local wall clock
  let buf = `timestamp,${SIGNALS.join(',')}\n`;
  for (let i = 0; i < rows; i++) {
    const wall = new Date(t0 + i * 1000).toISOString();
    buf += `${wall.slice(0, 10)} ${wall.slice(11, 19)}`;
    for (let k = 0; k < SIGNALS.length; k++) buf += `,${(Math.sin(i * 0.001 + k) * 20 + 50 + k).toFixed(3)}`;
    buf += '\n';
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = '';
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
}

/** The same rows as {@link makeWideCsv}, one JSON object per line. */
function makeWideNdjson(path: string, rows: number): void {
  const fd = openSync(path, 'w');
  const t0 = Date.UTC(2024, 0, 8);
  let buf = '';
  for (let i = 0; i < rows; i++) {
    const wall = new Date(t0 + i * 1000).toISOString();
    buf += `{"timestamp":"${wall.slice(0, 10)} ${wall.slice(11, 19)}"`;
    for (let k = 0; k < SIGNALS.length; k++) buf += `,"${SIGNALS[k]}":${(Math.sin(i * 0.001 + k) * 20 + 50 + k).toFixed(3)}`;
    buf += '}\n';
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = '';
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
}

const rate = (n: number, s: number) => `${(n / s / 1e6).toFixed(2)} M readings/s`;
const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

function countFiles(dir: string): number {
  let n = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.parquet')) n++;
    }
  };
  walk(dir);
  return n;
}

export default async function (): Promise<void> {
  const rows = Number(process.env.MILLWRIGHT_BENCH_WIDE_ROWS ?? 1_000_000);
  const readings = rows * SIGNALS.length;
  const dir = await mkdtemp(join(tmpdir(), 'mw-bench-wide-'));
  try {
    const csv = join(dir, 'compressor.csv');
    let t = performance.now();
    makeWideCsv(csv, rows);
    console.log(`input: ${rows.toLocaleString('en-US')} rows x ${SIGNALS.length} signals = ${readings.toLocaleString('en-US')} readings, ${mb(statSync(csv).size)} wide CSV (made in ${((performance.now() - t) / 1000).toFixed(1)} s)`);

    const wide = { asset: 'compressor-1' };
    const ours: { label: string; seconds: number; accepted: number; files: number }[] = [];
    for (const writers of [0, 2]) {
      const s = await ingest([csv], { store: join(dir, `store-w${writers}`), site: 'plant-1', timezone: 'Europe/Berlin', wide, writers });
      if (s.rowsAccepted !== readings || s.rowsRejected !== 0) throw new Error(`ingest accepted ${s.rowsAccepted}, rejected ${s.rowsRejected}`);
      ours.push({ label: `ingest wide-csv (parse worker + ${writers} extra writers)`, seconds: s.seconds, accepted: s.rowsAccepted, files: s.filesWritten });
    }

    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await conn.run("SET TimeZone = 'Europe/Berlin'");
    const threads = (await conn.runAndReadAll("SELECT current_setting('threads')")).getRows()[0][0];
    const cols = `{'timestamp': 'TIMESTAMP', ${SIGNALS.map((s) => `'${s}': 'DOUBLE'`).join(', ')}}`;
    t = performance.now();
    await conn.run(
      `COPY (
         SELECT timezone('UTC', timestamp::TIMESTAMPTZ) AS ts, 'compressor-1' AS asset, signal, value, 'plant-1' AS site,
                CAST(timezone('UTC', timestamp::TIMESTAMPTZ) AS DATE) AS date
         FROM (UNPIVOT (SELECT * FROM read_csv('${csv}', header = true, columns = ${cols})) ON ${SIGNALS.join(', ')} INTO NAME signal VALUE value)
       ) TO '${join(dir, 'duck')}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (site, date))`,
    );
    const duckS = (performance.now() - t) / 1000;
    const duckRows = Number((await conn.runAndReadAll(`SELECT count(*) FROM read_parquet('${join(dir, 'duck')}/**/*.parquet')`)).getRows()[0][0]);
    conn.closeSync();
    if (duckRows !== readings) throw new Error(`DuckDB wrote ${duckRows} readings`);
    console.log(`DuckDB COPY (UNPIVOT read_csv) -> Hive parquet (${threads} threads): ${duckS.toFixed(2)} s  ${rate(readings, duckS)}  (${countFiles(join(dir, 'duck'))} files)`);
    for (const o of ours) {
      console.log(`${o.label}: ${o.seconds.toFixed(2)} s  ${rate(o.accepted, o.seconds)}  (${o.files} files)  ratio vs DuckDB ${(duckS / o.seconds).toFixed(2)}x`);
    }
    const best = Math.min(...ours.map((o) => o.seconds));
    console.log(`target >= 0.8x DuckDB readings/s: ${duckS / best >= 0.8 ? 'MET' : 'NOT MET'} (best ${(duckS / best).toFixed(2)}x)`);

    if (process.env.MILLWRIGHT_BENCH_WIDE_NDJSON !== '0') {
      const nd = join(dir, 'compressor.ndjson');
      makeWideNdjson(nd, rows);
      console.log(`wide NDJSON input: ${mb(statSync(nd).size)}`);
      const s = await ingest([nd], { store: join(dir, 'store-nd'), site: 'plant-1', timezone: 'Europe/Berlin', wide, format: 'wide-ndjson' });
      if (s.rowsAccepted !== readings || s.rowsRejected !== 0) throw new Error(`wide NDJSON ingest accepted ${s.rowsAccepted}, rejected ${s.rowsRejected}`);
      const c2 = await db.connect();
      await c2.run("SET TimeZone = 'Europe/Berlin'");
      t = performance.now();
      await c2.run(
        `COPY (
           SELECT timezone('UTC', timestamp::TIMESTAMPTZ) AS ts, 'compressor-1' AS asset, signal, value, 'plant-1' AS site,
                  CAST(timezone('UTC', timestamp::TIMESTAMPTZ) AS DATE) AS date
           FROM (UNPIVOT (SELECT * FROM read_json('${nd}', format = 'newline_delimited', columns = ${cols})) ON ${SIGNALS.join(', ')} INTO NAME signal VALUE value)
         ) TO '${join(dir, 'duck-nd')}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (site, date))`,
      );
      const duckNd = (performance.now() - t) / 1000;
      c2.closeSync();
      console.log(`DuckDB COPY (UNPIVOT read_json) -> Hive parquet: ${duckNd.toFixed(2)} s  ${rate(readings, duckNd)}`);
      console.log(`ingest wide-ndjson (parse worker): ${s.seconds.toFixed(2)} s  ${rate(s.rowsAccepted, s.seconds)}  (${s.filesWritten} files)  ratio vs DuckDB ${(duckNd / s.seconds).toFixed(2)}x; vs our wide CSV ${(best / s.seconds).toFixed(2)}x`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
