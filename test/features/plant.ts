import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';

/** Deterministic PRNG (mulberry32), the forests' own, so test data is the same on every machine. */
import { mulberry32 as rng } from '../../lib/algorithms/forest/rng.ts';
export { rng };

export interface PlantRun { asset: string; start: number; end: number }

/**
 * A small realistic plant: per asset, speed (rpm) and motor current every 10 s over two days,
 * production runs of known start/end with noisy ramps that wander around the thresholds, a short
 * blip that must not count as a run, and a data outage.
 */
export function smallPlant(seed = 1): { table: ColumnTable; runs: PlantRun[]; t0: number } {
  const r = rng(seed);
  const t0 = Date.UTC(2026, 0, 5);
  const step = 10_000;
  const ts: number[] = [];
  const asset: string[] = [];
  const signal: string[] = [];
  const value: number[] = [];
  const runs: PlantRun[] = [];
  for (const a of ['press-1', 'press-2']) {
    // [start h, end h] of production since t0; press-2 shifted.
    const shift = a === 'press-1' ? 0 : 1.5;
    const plan = [[6, 10], [11, 15.5], [22, 30], [33, 33.05], [35, 44]].map(([s, e]) => [s! + shift, e! + shift] as [number, number]);
    for (const [s, e] of plan) if (e - s > 0.1) runs.push({ asset: a, start: t0 + s * 3.6e6, end: t0 + e * 3.6e6 });
    const outage: [number, number] = [t0 + 40 * 3.6e6, t0 + 40.5 * 3.6e6];
    for (let t = t0; t < t0 + 48 * 3.6e6; t += step) {
      if (t >= outage[0] && t < outage[1]) continue;
      const h = (t - t0) / 3.6e6;
      const on = plan.some(([s, e]) => h >= s && h < e);
      // Noise of ±60 rpm around 1000 when running, around 30 when idle.
      const speed = on ? 1000 + (r() - 0.5) * 120 : 30 + (r() - 0.5) * 60;
      const current = on ? 40 + 0.004 * (speed - 1000) * 10 + (r() - 0.5) * 2 : 2 + r();
      ts.push(t, t);
      asset.push(a, a);
      signal.push('speed', 'current');
      value.push(speed, current);
    }
  }
  // Sort like the store: by (asset, signal, ts).
  const t = aq.table({ ts: Float64Array.from(ts), asset, signal, value: Float64Array.from(value) }).orderby('asset', 'signal', 'ts').reify();
  return { table: t, runs, t0 };
}
