/**
 * A store with a synthetic hourly plant (two shifts on weekdays, production volume per hour, energy
 * = base load + per-tonne energy + waste) as readings of asset `line1`, and an `energy-load-curve`
 * model trained on its first weeks, registered and approved as group `line-energy`.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as aq from 'arquero';
import { approveVersion, registerModel, trainPackage, type ModelManifest } from '../../../lib/model/index.ts';
import { writeReadings } from '../../../lib/store/index.ts';
import { mulberry32 } from '../../../lib/algorithms/forest/rng.ts';

export const HOUR = 3_600_000;
export const START = Date.UTC(2026, 0, 5); // a Monday
export const DAYS = 28;
export const GROUP = 'line-energy';

export interface EnergyFixture {
  dir: string;
  store: string;
  registry: string;
  manifest: ModelManifest;
  cleanup(): Promise<void>;
}

export function plant(days: number, seed: number): { ts: number[]; production: number[]; kwh: number[] } {
  const rng = mulberry32(seed);
  const out = { ts: [] as number[], production: [] as number[], kwh: [] as number[] };
  for (let i = 0; i < days * 24; i++) {
    const t = START + i * HOUR;
    const h = new Date(t).getUTCHours();
    const wd = (new Date(t).getUTCDay() + 6) % 7;
    const working = wd < 5 && h >= 6 && h < 22;
    const tonnes = working ? 10 * (0.8 + 0.4 * rng()) : 0;
    out.ts.push(t);
    out.production.push(Math.round(tonnes * 100) / 100);
    out.kwh.push(120 + 55 * tonnes + (working ? 30 * rng() : 5 * rng()));
  }
  return out;
}

export async function energyFixture(): Promise<EnergyFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'millwright-predict-'));
  const store = join(dir, 'store');
  const registry = join(dir, 'registry');
  const data = plant(DAYS, 7);
  // Readings every 15 min (the hour's value repeated), so the window's bucket means are real aggregates.
  const ts: number[] = [];
  const signal: string[] = [];
  const value: number[] = [];
  data.ts.forEach((t, i) => {
    for (let q = 0; q < 4; q++) {
      ts.push(t + q * 900_000, t + q * 900_000);
      signal.push('production_t', 'kwh');
      value.push(data.production[i]!, data.kwh[i]! / 4);
    }
  });
  await writeReadings(store, { ts: Float64Array.from(ts), site: ts.map(() => 'plant-a'), asset: ts.map(() => 'line1'), signal, value: Float64Array.from(value) });
  const channel = join(dir, 'channel');
  await mkdir(channel, { recursive: true });
  const cut = 14 * 24;
  await writeFile(join(channel, 'data.csv'), aq.table({ ts: data.ts.slice(0, cut), production_t: data.production.slice(0, cut), kwh: data.kwh.slice(0, cut) }).toCSV());
  const { modelDir, manifest } = await trainPackage({
    package: 'energy-load-curve', base: join(dir, 'ml'), name: GROUP, channels: { train: channel },
    hyperparameters: { target: 'kwh', drivers: '["production_t"]', n_estimators: '20', holdout_fraction: '0' },
  });
  const { record } = await registerModel(modelDir, { group: GROUP, registry });
  await approveVersion(GROUP, record.version, { registry });
  return { dir, store, registry, manifest, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
