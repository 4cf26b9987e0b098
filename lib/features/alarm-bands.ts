import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../errors/index.ts';
import { quantileSorted } from '../stats/index.ts';
import { floatColumn, groupRows, valueColumn } from './columns.ts';
import { findRuns, labelRuns } from './runs.ts';

/** Options of {@link learnAlarmBands}. */
export interface AlarmBandOptions {
  /**
   * `'sigma'`: band = mean ± k·std (default); `'quantile'`: band = [q_lo, q_hi] of the
   * training readings, robust to skewed signals.
   */
  method?: 'sigma' | 'quantile';
  /** Width in standard deviations for `'sigma'` (default 3). */
  k?: number;
  /** Quantiles for `'quantile'` (default `[0.001, 0.999]`). */
  quantiles?: [number, number];
  /**
   * Column holding the operating state of each reading (e.g. `'state'` with running/idle, see
   * {@link operatingState}); bands are learned per state. Default: none (one band per series).
   */
  state?: string;
  /** Series with fewer readings than this get no band (default 30). */
  minCount?: number;
}

/**
 * Statistical alarm bands: per asset/signal(/state) normal band. What a plant runs before
 * it has a trained model. Learn it on a period known to be healthy, then {@link flagReadings}.
 * Returns a table with `asset`, `signal`, `state` (`'all'` without a state column), `count`,
 * `mean`, `std`, `low`, `high`.
 *
 * @example
 * const withState = operatingState(history, { signal: 'speed', on: 800, off: 600 });
 * const base = learnAlarmBands(withState, { method: 'sigma', k: 4, state: 'state' });
 * const flagged = flagReadings(operatingState(today, { signal: 'speed', on: 800, off: 600 }), base);
 * flagged.filter((d) => d.alarm).print();
 */
export function learnAlarmBands(table: ColumnTable, options: AlarmBandOptions = {}): ColumnTable {
  const method = options.method ?? 'sigma';
  const k = options.k ?? 3;
  const [qlo, qhi] = options.quantiles ?? [0.001, 0.999];
  const minCount = options.minCount ?? 30;
  if (method !== 'sigma' && method !== 'quantile') throw new MillwrightError('BAD_INPUT', `learnAlarmBands: method "${String(method)}" unknown (expected 'sigma' or 'quantile')`);
  if (!(qlo >= 0 && qhi <= 1 && qlo < qhi)) throw new MillwrightError('BAD_INPUT', `learnAlarmBands: quantiles [${qlo}, ${qhi}] invalid (expected 0 <= lo < hi <= 1)`);
  const ts = floatColumn(table, 'ts');
  const value = floatColumn(table, 'value');
  const by = options.state ? ['asset', 'signal', options.state] : ['asset', 'signal'];
  const out = { asset: [] as unknown[], signal: [] as unknown[], state: [] as unknown[], count: [] as number[], mean: [] as number[], std: [] as number[], low: [] as number[], high: [] as number[] };
  for (const g of groupRows(table, by, ts)) {
    const vals = Float64Array.from(g.rows, (r) => value[r]!).filter((v) => !Number.isNaN(v));
    if (vals.length < minCount) continue;
    let sum = 0;
    for (const v of vals) sum += v;
    const mean = sum / vals.length;
    let ss = 0;
    for (const v of vals) ss += (v - mean) ** 2;
    const std = Math.sqrt(ss / (vals.length - 1));
    let low: number;
    let high: number;
    if (method === 'sigma') {
      low = mean - k * std;
      high = mean + k * std;
    } else {
      vals.sort();
      low = quantileSorted(vals, qlo);
      high = quantileSorted(vals, qhi);
    }
    out.asset.push(g.key[0]);
    out.signal.push(g.key[1]);
    out.state.push(options.state ? g.key[2] : 'all');
    out.count.push(vals.length);
    out.mean.push(mean);
    out.std.push(std);
    out.low.push(low);
    out.high.push(high);
  }
  return aq.table(out).orderby('asset', 'signal', 'state').reify();
}

/** Options of {@link flagReadings}. */
export interface FlagOptions {
  /** State column used when the bands were learned (default: the bands', `'state'` when it has states other than 'all'). */
  state?: string;
}

/**
 * Flags readings outside their alarm band: adds `low`, `high` and `alarm` (true when value <
 * low or > high). Readings of a series/state without a band get NaN bounds and `alarm` false.
 *
 * @example
 * flagReadings(readings, learnAlarmBands(history)).filter((d) => d.alarm).numRows();
 */
export function flagReadings(table: ColumnTable, alarmBands: ColumnTable, options: FlagOptions = {}): ColumnTable {
  const bStates = valueColumn(alarmBands, 'state');
  const perState = Array.from(bStates).some((s) => s !== 'all');
  const stateCol = options.state ?? (perState ? 'state' : undefined);
  const bands = new Map<string, [number, number]>();
  const ba = valueColumn(alarmBands, 'asset');
  const bs = valueColumn(alarmBands, 'signal');
  const bl = floatColumn(alarmBands, 'low');
  const bh = floatColumn(alarmBands, 'high');
  for (let i = 0; i < alarmBands.numRows(); i++) bands.set(`${String(ba[i])}\u0000${String(bs[i])}\u0000${String(bStates[i])}`, [bl[i]!, bh[i]!]);
  const asset = valueColumn(table, 'asset');
  const signal = valueColumn(table, 'signal');
  const state = stateCol ? valueColumn(table, stateCol) : undefined;
  const value = floatColumn(table, 'value');
  const n = table.numRows();
  const low = new Float64Array(n);
  const high = new Float64Array(n);
  const alarm: boolean[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const b = bands.get(`${String(asset[i])}\u0000${String(signal[i])}\u0000${state ? String(state[i]) : 'all'}`);
    low[i] = b ? b[0] : NaN;
    high[i] = b ? b[1] : NaN;
    alarm[i] = b !== undefined && (value[i]! < b[0] || value[i]! > b[1]);
  }
  return table.assign({ low, high, alarm });
}

/** Options of {@link operatingState}. */
export interface OperatingStateOptions {
  /** Signal whose level says running vs idle, e.g. `'speed'` (required). */
  signal: string;
  /** Running from >= on (required). */
  on: number;
  /** Back to idle below off (default on). */
  off?: number;
  /** Runs shorter than this count as idle (default 0). */
  minDuration?: number | string;
  /** A gap longer than this ends a run (default unlimited). */
  maxGap?: number | string;
}

/**
 * Labels every reading of an asset `'running'` or `'idle'` from its production runs
 * (hysteresis on `signal`, see {@link segmentRuns}): adds a `state` column.
 *
 * @example
 * operatingState(readings, { signal: 'speed', on: 800, off: 600 }).groupby('state').count();
 */
export function operatingState(table: ColumnTable, options: OperatingStateOptions): ColumnTable {
  const labelled = labelRuns(table, findRuns(table, options));
  const ids = floatColumn(labelled, 'run_id');
  const state = Array.from(ids, (r) => (r >= 0 ? 'running' : 'idle'));
  return table.assign({ state });
}

