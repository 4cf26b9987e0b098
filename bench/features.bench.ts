/**
 * Feature benchmarks (`npm run bench -- features`):
 * 1. vibration features over 20 kHz data, one core: time domain (target >= 100M samples/s) and
 *    Welch spectrum (target >= 10M samples/s);
 * 2. rolling-window features over 10M readings vs the same windows in DuckDB SQL in the same
 *    process on the same data (target: ours no slower than 1.5x DuckDB).
 */
import * as aq from 'arquero';
import { DuckDBInstance } from '@duckdb/node-api';
import { timeDomainFeatures, spectrumFeatures, rollingFeatures } from '../lib/features/index.ts';

/** CPU seconds of this process (user + system) since `since`: on a shared, oversubscribed machine
 * this is closer to "time on one core" than wall time, for single-threaded code. */
function cpuSeconds(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

/** Best wall time and best CPU time of several repeats, seconds. */
function best(runs: number, fn: () => void): { wall: number; cpu: number } {
  let wall = Infinity;
  let cpu = Infinity;
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    const c = process.cpuUsage();
    fn();
    cpu = Math.min(cpu, cpuSeconds(c));
    wall = Math.min(wall, (performance.now() - t) / 1000);
  }
  return { wall, cpu };
}

function vibration(seconds: number): Float64Array {
  const fs = 20_000;
  const x = new Float64Array(seconds * fs);
  let s = 12345;
  for (let i = 0; i < x.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    x[i] = 0.3 * Math.sin((2 * Math.PI * 30 * i) / fs) + 0.05 * (s / 0x7fffffff - 0.5) + (i % 400 === 0 ? 1.5 : 0);
  }
  return x;
}

export default async function (): Promise<void> {
  const fs = 20_000;
  const snapshot = 20_480; // one IMS-style 1 s snapshot per window
  const x = vibration(60);
  const windows = Math.floor(x.length / snapshot);
  let sink = 0;
  // Best of several repeats: the figure is the machine's, not the neighbours' (shared cores).
  const td = best(9, () => {
    for (let w = 0; w < windows; w++) sink += timeDomainFeatures(x, { start: w * snapshot, end: (w + 1) * snapshot }).kurtosis;
  });
  const tdRate = (windows * snapshot) / td.wall;
  const sp = best(7, () => {
    for (let w = 0; w < windows; w++) sink += spectrumFeatures(x.subarray(w * snapshot, (w + 1) * snapshot), { sampleRate: fs, segment: 4096, runningSpeedHz: 30, bands: [[0, 1000], [1000, 5000], [5000, 10000]] }).centroid;
  });
  const spRate = (windows * snapshot) / sp.wall;
  console.log(`vibration, 20 kHz, ${windows} windows of ${snapshot} samples (${(windows * snapshot / 1e6).toFixed(1)}M samples), one core:`);
  console.log(`  time domain (rms, peak, p2p, crest, kurtosis, skewness, shape, impulse): ${(tdRate / 1e6).toFixed(0)}M samples/s  = ${(tdRate / 100e6).toFixed(2)}x the 100M/s target (per CPU-second: ${((windows * snapshot) / td.cpu / 1e6).toFixed(0)}M)`);
  console.log(`  spectrum (Welch 4096, Hann, 50% overlap; bands, 1x/2x/3x, centroid, peak): ${(spRate / 1e6).toFixed(1)}M samples/s  = ${(spRate / 10e6).toFixed(2)}x the 10M/s target (per CPU-second: ${((windows * snapshot) / sp.cpu / 1e6).toFixed(1)}M)`);

  // Rolling: 10M readings = 20 series x 500k at 1 s with gaps, generated in DuckDB and read back.
  const series = 20;
  const per = 500_000;
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  await con.run(`CREATE TABLE r AS
    SELECT 'asset-' || (s // 2) AS asset, CASE WHEN s % 2 = 0 THEN 'temp' ELSE 'current' END AS signal,
           (1767225600000 + i * 1000 + CASE WHEN i > 200000 THEN 3600000 ELSE 0 END)::BIGINT AS ts,
           50 + 10 * sin(i / 500.0) + (hash(s * 1000003 + i) % 1000) / 1000.0 AS value
    FROM range(${series}) t(s), range(${per}) u(i)
    WHERE (hash(i * 7 + s) % 100) <> 0`); // ~1% of readings missing: irregular series
  const cnt = Number((await con.runAndReadAll('SELECT count(*) FROM r')).getRows()[0]![0]);
  const ts = new Float64Array(cnt);
  const value = new Float64Array(cnt);
  const asset: string[] = new Array(cnt);
  const signal: string[] = new Array(cnt);
  let k = 0;
  const result = await con.stream('SELECT asset, signal, ts, value FROM r ORDER BY asset, signal, ts');
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const cols = chunk.getColumns();
    for (let i = 0; i < chunk.rowCount; i++, k++) {
      asset[k] = cols[0]![i] as string;
      signal[k] = cols[1]![i] as string;
      ts[k] = Number(cols[2]![i] as bigint);
      value[k] = cols[3]![i] as number;
    }
  }
  const table = aq.table({ ts, asset, signal, value });
  const stats = ['count', 'mean', 'std', 'min', 'max', 'slope'] as const;
  let ours = Infinity;
  let oursCpu = Infinity;
  for (let r = 0; r < 2; r++) {
    const t = performance.now();
    const c = process.cpuUsage();
    const f = rollingFeatures(table, { window: '10m', stats });
    oursCpu = Math.min(oursCpu, cpuSeconds(c));
    ours = Math.min(ours, performance.now() - t);
    sink += f.numRows();
  }
  const sql = (threads: number) => `SET threads = ${threads};
    CREATE OR REPLACE TABLE out AS SELECT count(*) OVER w AS c, avg(value) OVER w AS m, stddev_samp(value) OVER w AS s,
      min(value) OVER w AS lo, max(value) OVER w AS hi, regr_slope(value, ts / 1000.0) OVER w AS sl
    FROM r WINDOW w AS (PARTITION BY asset, signal ORDER BY ts RANGE BETWEEN 599999 PRECEDING AND CURRENT ROW)`;
  const duck = async (threads: number) => {
    const t = performance.now();
    const c = process.cpuUsage();
    await con.run(sql(threads));
    return { wall: performance.now() - t, cpu: cpuSeconds(c) };
  };
  const duck1 = await duck(1);
  const duckAll = await duck(2);
  con.closeSync();
  console.log(`rolling 10m windows (count, mean, std, min, max, slope) over ${(cnt / 1e6).toFixed(2)}M readings, ${series} series with gaps:`);
  console.log(`  millwright rollingFeatures (one core): ${(ours / 1000).toFixed(2)} s wall, ${oursCpu.toFixed(2)} CPU-s (${(cnt / ours / 1e3).toFixed(1)}M readings/s)`);
  console.log(`  DuckDB SQL window, 1 thread:  ${(duck1.wall / 1000).toFixed(2)} s wall, ${duck1.cpu.toFixed(2)} CPU-s  -> ours / DuckDB = ${(ours / duck1.wall).toFixed(2)}x wall, ${(oursCpu / duck1.cpu).toFixed(2)}x CPU (target <= 1.5x)`);
  console.log(`  DuckDB SQL window, 2 threads: ${(duckAll.wall / 1000).toFixed(2)} s wall, ${duckAll.cpu.toFixed(2)} CPU-s  -> ours / DuckDB = ${(ours / duckAll.wall).toFixed(2)}x wall`);
  if (Number.isNaN(sink)) console.log('');
}
