/**
 * The statistical alarm bands as a model. Bands are learned with the feature library's
 * `learnAlarmBands` (lib/features) and readings are flagged with its `flagReadings`, so the model and
 * the notebooks apply exactly the same rule; this file adds the row layout (wide: one column per
 * signal; long: asset/signal/value rows) and a score.
 */
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { flagReadings, learnAlarmBands } from '../../features/index.ts';
import { MillwrightError } from '../../errors/index.ts';
import { numericColumn, toNumber } from '../table.ts';

export interface Band {
  asset: string;
  signal: string;
  state: string;
  count: number;
  mean: number;
  std: number;
  low: number;
  high: number;
}

/** Contents of bands.json. */
export interface ThresholdModel {
  format: 'millwright-threshold';
  version: 1;
  /** 'wide': one column per signal; 'long': `signal` + `value` columns (store readings). */
  layout: 'wide' | 'long';
  signals: string[];
  /** Operating-state column, when bands are per state. */
  state?: string;
  /** Whether the training table had an `asset` column (bands per asset). */
  perAsset: boolean;
  method: 'sigma' | 'quantile';
  bands: Band[];
}

const ALL = 'all';

/** A long table (asset, signal, state?, value, ts, __row) from either layout. */
export function toLong(table: ColumnTable, model: Pick<ThresholdModel, 'layout' | 'signals' | 'state' | 'perAsset'>): ColumnTable {
  const n = table.numRows();
  const names = table.columnNames();
  const assetCol = model.perAsset && names.includes('asset') ? (table.array('asset') as ArrayLike<unknown>) : undefined;
  const stateCol = model.state !== undefined ? (table.array(model.state) as ArrayLike<unknown>) : undefined;
  if (model.layout === 'long') {
    const signal = table.array('signal') as ArrayLike<unknown>;
    const value = numericColumn(table, 'value');
    const keep = new Set(model.signals);
    const rows: number[] = [];
    for (let r = 0; r < n; r++) if (keep.has(String(signal[r]))) rows.push(r);
    return aq.table({
      asset: rows.map((r) => (assetCol ? String(assetCol[r]) : ALL)),
      signal: rows.map((r) => String(signal[r])),
      ...(stateCol ? { [model.state!]: rows.map((r) => String(stateCol[r])) } : {}),
      value: Float64Array.from(rows, (r) => value[r]!),
      ts: Float64Array.from(rows, (_r, i) => i),
      __row: Int32Array.from(rows),
    });
  }
  const S = model.signals.length;
  const cols = model.signals.map((s) => table.array(s) as ArrayLike<unknown>);
  const m = n * S;
  const asset = new Array<string>(m);
  const signal = new Array<string>(m);
  const state = stateCol ? new Array<string>(m) : undefined;
  const value = new Float64Array(m);
  const row = new Int32Array(m);
  // signal-major so each (asset, signal) group is contiguous
  for (let s = 0; s < S; s++) {
    for (let r = 0; r < n; r++) {
      const i = s * n + r;
      asset[i] = assetCol ? String(assetCol[r]) : ALL;
      signal[i] = model.signals[s]!;
      if (state) state[i] = String(stateCol![r]);
      value[i] = toNumber(cols[s]![r]);
      row[i] = r;
    }
  }
  return aq.table({ asset, signal, ...(state ? { [model.state!]: state } : {}), value, ts: Float64Array.from(row), __row: row });
}

/** Learns the bands (see `learnAlarmBands` for methods). */
export function learnBands(
  long: ColumnTable,
  options: { method: 'sigma' | 'quantile'; k: number; quantiles: [number, number]; state?: string; minCount: number },
): Band[] {
  const base = learnAlarmBands(long, { method: options.method, k: options.k, quantiles: options.quantiles, state: options.state, minCount: options.minCount });
  return base.objects().map((o) => {
    const b = o as Record<string, unknown>;
    return {
      asset: String(b.asset),
      signal: String(b.signal),
      state: String(b.state),
      count: Number(b.count),
      mean: Number(b.mean),
      std: Number(b.std),
      low: Number(b.low),
      high: Number(b.high),
    };
  });
}

/** Per input row: alarm (0/1), score (max over signals of |v - band centre| / half-width: > 1 is outside) and the worst signal. */
export function scoreRows(
  model: ThresholdModel,
  table: ColumnTable,
): { alarm: number; score: number | null; signal: string | null }[] {
  const n = table.numRows();
  const long = toLong(table, model);
  const alarmBands = aq.table({
    asset: model.bands.map((b) => b.asset),
    signal: model.bands.map((b) => b.signal),
    state: model.bands.map((b) => b.state),
    low: model.bands.map((b) => b.low),
    high: model.bands.map((b) => b.high),
  });
  const flagged = flagReadings(long, alarmBands, model.state !== undefined ? { state: model.state } : {});
  const low = flagged.array('low') as Float64Array;
  const high = flagged.array('high') as Float64Array;
  const alarmCol = flagged.array('alarm') as ArrayLike<boolean>;
  const value = flagged.array('value') as Float64Array;
  const rowCol = flagged.array('__row') as Int32Array;
  const signalCol = flagged.array('signal') as ArrayLike<string>;
  const out = Array.from({ length: n }, () => ({ alarm: 0, score: null as number | null, signal: null as string | null }));
  for (let i = 0; i < long.numRows(); i++) {
    const lo = low[i]!;
    const hi = high[i]!;
    const v = value[i]!;
    if (Number.isNaN(lo) || Number.isNaN(v)) continue;
    const half = Math.max((hi - lo) / 2, 1e-12);
    const score = Math.abs(v - (lo + hi) / 2) / half;
    const o = out[rowCol[i]!]!;
    if (alarmCol[i]) o.alarm = 1;
    if (o.score === null || score > o.score) {
      o.score = score;
      o.signal = signalCol[i]!;
    }
  }
  return out;
}

/** Checks the table has what the layout needs. */
export function requireLayout(table: ColumnTable, model: Pick<ThresholdModel, 'layout' | 'signals' | 'state'>, what: string): void {
  const names = new Set(table.columnNames());
  const need = model.layout === 'long' ? ['signal', 'value'] : model.signals;
  const missing = [...need, ...(model.state !== undefined ? [model.state] : [])].filter((c) => !names.has(c));
  if (missing.length > 0) {
    throw new MillwrightError('BAD_INPUT', `${what}: missing column(s) ${missing.join(', ')} (table has: ${[...names].join(', ')})`);
  }
}
