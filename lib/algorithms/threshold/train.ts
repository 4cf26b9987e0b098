/**
 * Built-in `threshold`: the statistical alarm bands as a model. Learns a normal band per signal
 * (per asset when the table has an `asset` column, per operating state when `state` names a
 * column): mean ± k·sigma, or quantiles. Predicts `{alarm: 0|1, score, signal}` per row.
 *
 * Input: wide (one column per signal; `signals` lists them, default every numeric column) or long
 * (store readings with `signal` and `value` columns). Rows flagged in the `label` column (known
 * anomalies) are left out of the bands and used to score precision/recall.
 *
 * @example
 * // hyperparameters.json
 * { "signals": "[\"temp\", \"vibration_rms\"]", "method": "sigma", "k": "4", "state": "state" }
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../../errors/index.ts';
import type { HyperparameterSchema, Metrics, TrainFn, TrainOutput } from '../../model/contract.ts';
import { loadChannel, nameList, resolveHyperparameters } from '../hyperparameters.ts';
import { chooseFeatures, numericColumn, toNumber } from '../table.ts';
import { learnBands, requireLayout, scoreRows, toLong, type ThresholdModel } from './model.ts';

export interface ThresholdHyperparameters {
  signals?: string[] | string;
  method: 'sigma' | 'quantile';
  k: number;
  quantiles: [number, number];
  state?: string;
  min_count: number;
  label?: string;
}

export const hyperparameters: HyperparameterSchema = {
  signals: { type: 'json', description: 'Signal columns (wide) or signal names (long). Default: every numeric column / every signal.' },
  method: { type: 'string', default: 'sigma', enum: ['sigma', 'quantile'], description: "'sigma': mean ± k·std; 'quantile': [q_lo, q_hi]." },
  k: { type: 'number', default: 3, min: 0, description: 'Band half-width in standard deviations (sigma method).' },
  quantiles: { type: 'json', default: [0.001, 0.999], description: 'Band as [low, high] quantiles (quantile method).' },
  state: { type: 'string', description: 'Column with the operating state (bands per state).' },
  min_count: { type: 'integer', default: 30, min: 1, description: 'Signals/states with fewer readings get no band (never alarm).' },
  label: { type: 'string', description: 'Column marking known anomalies (1/true): excluded from the bands, used for precision/recall.' },
};

const RESERVED = ['ts', 'asset', 'site', 'quality'];

function isAnomaly(v: unknown): boolean {
  return v === true || toNumber(v) === 1 || v === 'true';
}

function detectionMetrics(model: ThresholdModel, table: ColumnTable, label: string | undefined): Metrics {
  const scored = scoreRows(model, table);
  const alarms = scored.reduce((s, r) => s + r.alarm, 0);
  const m: Metrics = { rows: table.numRows(), alarm_rate: alarms / Math.max(1, table.numRows()) };
  if (label !== undefined && table.columnNames().includes(label)) {
    const y = table.array(label) as ArrayLike<unknown>;
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < scored.length; i++) {
      const a = isAnomaly(y[i]);
      if (scored[i]!.alarm === 1 && a) tp++;
      else if (scored[i]!.alarm === 1) fp++;
      else if (a) fn++;
    }
    m.precision = tp + fp === 0 ? 0 : tp / (tp + fp);
    m.recall = tp + fn === 0 ? 0 : tp / (tp + fn);
    m.f1 = m.precision + m.recall === 0 ? 0 : (2 * m.precision * m.recall) / (m.precision + m.recall);
  }
  return m;
}

export const train: TrainFn<ThresholdHyperparameters> = async (ctx): Promise<TrainOutput> => {
  const hp = resolveHyperparameters<ThresholdHyperparameters>(hyperparameters, ctx.hyperparameters as unknown as Record<string, unknown>);
  const q = hp.quantiles;
  if (!Array.isArray(q) || q.length !== 2 || !q.every((x) => typeof x === 'number' && x >= 0 && x <= 1) || q[0] >= q[1]) {
    throw new MillwrightError('BAD_INPUT', `hyperparameter "quantiles": ${JSON.stringify(q)} is not valid (expected [low, high] with 0 <= low < high <= 1)`);
  }
  const table = await loadChannel(ctx as never, 'train');
  const names = table.columnNames();
  const layout: ThresholdModel['layout'] = names.includes('signal') && names.includes('value') ? 'long' : 'wide';
  let signals = nameList(hp.signals, 'signals');
  if (layout === 'wide') {
    const exclude = [...RESERVED, ...(hp.state !== undefined ? [hp.state] : []), ...(hp.label !== undefined ? [hp.label] : [])];
    signals = chooseFeatures(table, signals, hp.label ?? '\u0000', exclude).map((f) => f.name);
    for (const s of signals) {
      const col = numericColumn(table, s);
      if (!col.some((v) => Number.isFinite(v))) {
        throw new MillwrightError('BAD_INPUT', `threshold: signal column ${JSON.stringify(s)} has no numeric values`);
      }
    }
  } else if (signals === undefined) {
    signals = [...new Set(Array.from(table.array('signal') as ArrayLike<unknown>, String))].sort();
  }
  const shape = { layout, signals, state: hp.state, perAsset: names.includes('asset') };
  requireLayout(table, shape, 'threshold training data');

  let healthy = table;
  if (hp.label !== undefined) {
    if (!names.includes(hp.label)) throw new MillwrightError('BAD_INPUT', `threshold: label column ${JSON.stringify(hp.label)} not found`);
    const y = table.array(hp.label) as ArrayLike<unknown>;
    const keep = new Set<number>();
    for (let i = 0; i < y.length; i++) if (!isAnomaly(y[i])) keep.add(i);
    const cols: Record<string, unknown[]> = {};
    for (const c of names) {
      const a = table.array(c) as ArrayLike<unknown>;
      cols[c] = [...keep].map((i) => a[i]);
    }
    healthy = aq.table(cols);
  }
  const bands = learnBands(toLong(healthy, shape), { method: hp.method, k: hp.k, quantiles: q, state: hp.state, minCount: hp.min_count });
  if (bands.length === 0) {
    throw new MillwrightError('BAD_INPUT', `threshold: no signal has ${hp.min_count} or more numeric readings to learn a band from`);
  }
  const model: ThresholdModel = { format: 'millwright-threshold', version: 1, ...shape, method: hp.method, bands };
  await writeFile(join(ctx.modelDir, 'bands.json'), JSON.stringify(model, null, 2) + '\n');
  const training = detectionMetrics(model, table, hp.label);
  const holdout = ctx.channels.validation !== undefined ? detectionMetrics(model, await loadChannel(ctx as never, 'validation'), hp.label) : undefined;
  ctx.log.info('threshold bands learned', { bands: bands.length, training, holdout });
  const featureCols = layout === 'wide' ? [...signals, ...(hp.state !== undefined ? [hp.state] : [])] : ['signal', 'value', ...(hp.state !== undefined ? [hp.state] : [])];
  return {
    task: 'anomaly',
    features: featureCols.map((name) => ({ name, type: name === hp.state || name === 'signal' ? ('string' as const) : ('number' as const) })),
    metrics: { training, ...(holdout ? { holdout } : {}) },
    trainingTable: healthy.select(featureCols),
    trainingData: { rows: healthy.numRows() },
  };
};
