/**
 * Alarm benchmarks (`npm run bench -- alarms`):
 * 1. evaluator throughput: 100 threshold rules with hysteresis over 2M readings, one core
 *    (target >= 2M readings/s);
 * 2. `alarms run` (runAlarms) over a month of the synthetic plant vs the same rules (fixed limit,
 *    stuck sensor) as DuckDB SQL window queries over the same store, same run (target ratio <= 1.0x).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlarmEvaluator, parseAlarmRules, runAlarms } from '../lib/alarms/index.ts';
import { sql } from '../lib/store/index.ts';
import { writePlant } from '../datasets/plant/write-plant.ts';

export default async function alarmsBench(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mw-bench-alarms-'));
  try {
    // 1. 100 threshold rules (one per asset), each with a 10% deadband
    const S = 100;
    const bands = Array.from({ length: S }, (_, i) => ({ asset: `m${i}`, signal: 'temperature', state: 'all', count: 100, mean: 50, std: 5, low: 30, high: 70 }));
    await writeFile(join(dir, 'bands.json'), JSON.stringify({ format: 'millwright-threshold', version: 1, layout: 'long', signals: ['temperature'], perAsset: true, method: 'sigma', bands }));
    const rules = await parseAlarmRules({ rules: Array.from({ length: S }, (_, i) => ({ name: `band${i}`, kind: 'threshold', model: dir, assets: `m${i}`, deadband: '10%' })) }, dir);
    const N = 2_000_000;
    const ts = new Float64Array(N);
    const value = new Float64Array(N);
    const assetNames = Array.from({ length: S }, (_, i) => `m${i}`);
    const asset = new Array<string>(N);
    const signal = new Array<string>(N).fill('temperature');
    for (let i = 0; i < N; i++) {
      ts[i] = 1_704_067_200_000 + Math.floor(i / S) * 1000;
      asset[i] = assetNames[i % S]!;
      value[i] = 50 + 25 * Math.sin(i / 5000 + (i % S)) + (((i * 7919) % 13) - 6) / 6;
    }
    const ev = new AlarmEvaluator(rules, { site: 'bench' });
    const chunk = 65_536;
    const t0 = performance.now();
    let rows = 0;
    for (let i = 0; i < N; i += chunk) {
      const e = Math.min(N, i + chunk);
      rows += ev.process({ ts: ts.subarray(i, e), asset: asset.slice(i, e), signal: signal.slice(i, e), value: value.subarray(i, e) }).length;
    }
    const sec = (performance.now() - t0) / 1000;
    console.log(`alarms evaluator: ${S} threshold rules with hysteresis, ${N.toLocaleString()} readings in ${sec.toFixed(2)} s = ${(N / sec / 1e6).toFixed(2)} M readings/s (target >= 2 M/s), ${rows} alarm rows`);

    // 2. a month of the synthetic plant: runAlarms vs DuckDB window queries
    const store = join(dir, 'store');
    const plant = await writePlant(store, { days: 30, seed: 3 }, { write: { fsync: false } });
    const hi = 45;
    const run = await parseAlarmRules({
      rules: [
        { name: 'hot', kind: 'limit', signals: 'temperature', hi },
        { name: 'stuck', kind: 'stuck', signals: ['vib_x_rms', 'vib_y_rms', 'vib_z_rms', 'temperature'], readings: 60 },
      ],
    }, dir);
    const t1 = performance.now();
    const r = await runAlarms(run, { store, write: false });
    const ours = (performance.now() - t1) / 1000;
    const raisedBy = (rule: string) => r.rows.filter((x) => x.source === rule && x.message?.includes('"unack-active"')).length;
    const q = `
      WITH t AS (SELECT asset, signal, value > ${hi} AS on_, lag(value > ${hi}) OVER (PARTITION BY asset, signal ORDER BY ts) AS prev FROM readings WHERE signal = 'temperature' AND quality = 0),
      a AS (SELECT asset, signal, CASE WHEN value = lag(value) OVER (PARTITION BY asset, signal ORDER BY ts) THEN 0 ELSE 1 END AS chg, ts
            FROM readings WHERE signal IN ('vib_x_rms', 'vib_y_rms', 'vib_z_rms', 'temperature') AND quality = 0),
      b AS (SELECT asset, signal, sum(chg) OVER (PARTITION BY asset, signal ORDER BY ts) AS grp FROM a),
      c AS (SELECT asset, signal, grp, count(*) AS n FROM b GROUP BY ALL)
      SELECT (SELECT count(*) FROM t WHERE on_ AND NOT coalesce(prev, false)) AS hot, (SELECT count(*) FROM c WHERE n >= 60) AS stuck`;
    const t2 = performance.now();
    const { rows: ref } = await sql(q, { root: store });
    const duck = (performance.now() - t2) / 1000;
    console.log(`alarms run, 30 days synthetic plant (${plant.readings.toLocaleString()} readings): ${ours.toFixed(2)} s (${(plant.readings / ours / 1e6).toFixed(2)} M readings/s); raised hot ${raisedBy('hot')}, stuck ${raisedBy('stuck')}`);
    console.log(`  DuckDB SQL window queries, same rules, same store: ${duck.toFixed(2)} s; raised hot ${String(ref[0]!.hot)}, stuck ${String(ref[0]!.stuck)}`);
    console.log(`  ratio alarms run / DuckDB = ${(ours / duck).toFixed(2)}x (target <= 1.0x)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
