import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as aq from 'arquero';
import { stringify } from 'yaml';
import { writePlant } from '../../datasets/plant/write-plant.ts';
import type { PlantTruth } from '../../datasets/plant/plan-plant.ts';
import { learnBands } from '../../lib/algorithms/threshold/model.ts';
import { scanTable } from '../../lib/store/index.ts';

export const DAY = 86_400_000;
export const SPEED_ON = 500;
export const SPEED_OFF = 200;

/** A synthetic plant in a temp store, its asset model and a threshold model trained on its first healthy days. */
export interface PlantFixture {
  dir: string;
  store: string;
  truth: PlantTruth;
  assetsFile: string;
  modelDir: string;
  cleanup: () => Promise<void>;
}

/** The asset model of a plant's machines (motors and gearboxes are ISO 20816-3 group 2, rigid). */
export function assetModel(truth: PlantTruth) {
  const lines = [...new Set(truth.assets.filter((a) => a.line).map((a) => a.line!))].sort();
  return {
    site: truth.options.sites[0],
    areas: [
      {
        name: 'sorting',
        lines: lines.map((l) => ({ name: l, assets: truth.assets.filter((a) => a.line === l).map((a) => ({ name: a.asset, type: a.kind, attributes: { machineGroup: 2, mounting: 'rigid', ratedPower: 45 } })) })),
      },
      { name: 'utilities', lines: [{ name: 'meters', assets: truth.assets.filter((a) => !a.line).map((a) => ({ name: a.asset, type: a.kind })) }] },
    ],
  };
}

/**
 * Learns per-asset, per-state bands (the threshold algorithm's own `learnBands`, sigma k) from
 * [from, to): the state of each reading is its line's motor speed state, replayed in (ts, asset,
 * signal) order exactly as the evaluator's `state: { scope: line }` sees it.
 */
export async function trainBands(store: string, truth: PlantTruth, from: number, to: number, k: number): Promise<object> {
  const t = await scanTable({ root: store, from, to, columns: ['ts', 'asset', 'signal', 'value'] });
  const rows = t.orderby('ts', 'asset', 'signal').objects() as { ts: number; asset: string; signal: string; value: number }[];
  const lineOf = new Map(truth.assets.filter((a) => a.line).map((a) => [a.asset, a.line!]));
  const state = new Map<string, string>();
  const long = { ts: [] as number[], asset: [] as string[], signal: [] as string[], state: [] as string[], value: [] as number[] };
  for (const r of rows) {
    const line = lineOf.get(r.asset);
    if (!line) continue;
    if (r.signal === 'speed' && r.asset.endsWith('-motor')) {
      const was = state.get(line);
      state.set(line, was === 'running' ? (r.value >= SPEED_OFF ? 'running' : 'idle') : r.value >= SPEED_ON ? 'running' : 'idle');
      continue;
    }
    const s = state.get(line);
    if (s === undefined || r.signal === 'speed') continue;
    long.ts.push(r.ts);
    long.asset.push(r.asset);
    long.signal.push(r.signal);
    long.state.push(s);
    long.value.push(r.value);
  }
  const bands = learnBands(aq.table(long), { method: 'sigma', k, quantiles: [0.001, 0.999], state: 'state', minCount: 30 });
  const signals = [...new Set(long.signal)].sort();
  return { format: 'millwright-threshold', version: 1, layout: 'long', signals, state: 'state', perAsset: true, method: 'sigma', bands };
}

/** Generates `days` of the synthetic plant (seed 3: one bearing degrades to failure, one stuck sensor) and trains bands on its first 7 days. */
export async function plantFixture(days = 21, seed = 3): Promise<PlantFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'mw-alarms-'));
  const store = join(dir, 'store');
  const { truth } = await writePlant(store, { days, seed }, { write: { fsync: false } });
  const assetsFile = join(dir, 'assets.yaml');
  await writeFile(assetsFile, stringify(assetModel(truth)));
  const modelDir = join(dir, 'model');
  await mkdir(modelDir, { recursive: true });
  const model = await trainBands(store, truth, truth.options.from, truth.options.from + 7 * DAY, 5);
  await writeFile(join(modelDir, 'bands.json'), JSON.stringify(model));
  return { dir, store, truth, assetsFile, modelDir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The rules the end-to-end tests and the benchmark run on the plant. */
export function plantRules(fx: Pick<PlantFixture, 'assetsFile' | 'modelDir'>) {
  return {
    assets: fx.assetsFile,
    flood: { max: 20, window: '10m' },
    rules: [
      {
        name: 'bands', kind: 'threshold', model: fx.modelDir, assets: 'line*', signals: ['vib_x_rms', 'vib_y_rms', 'vib_z_rms', 'temperature'],
        state: { signal: 'speed', assets: '*-motor', on: SPEED_ON, off: SPEED_OFF, scope: 'line' }, deadband: '10%', minDuration: '30m', severity: 'warning',
      },
      { name: 'stuck', kind: 'stuck', assets: 'line*', signals: ['vib_*_rms', 'temperature'], readings: 60, severity: 'error' },
    ],
  };
}
