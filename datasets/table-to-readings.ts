import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../lib/errors/index.ts';
import type { ReadingBatch } from '../lib/readings/index.ts';

/** Options of {@link tableToReadings}. */
export interface TableToReadingsOptions {
  /** Site of every reading. */
  site: string;
  /** Asset of every reading, or a function of the row index (e.g. reading an `experiment` column). */
  asset: string | ((row: number) => string);
  /** Columns to emit: an array (signal = column name) or a map column → signal name. */
  signals: string[] | Record<string, string>;
  /** Time column, epoch ms UTC (default `'ts'`). */
  ts?: string;
}

/**
 * Turns a wide table (one row per instant, one column per signal) into long-form readings.
 * NaN/null values are skipped: a gap stays a gap rather than becoming a fake reading.
 *
 * @example
 * tableToReadings(loadSteel(), { site: 'daewoo-steel', asset: 'plant', signals: ['usage_kwh'] });
 */
export function tableToReadings(table: ColumnTable, options: TableToReadingsOptions): ReadingBatch {
  const tsName = options.ts ?? 'ts';
  const mapping = Array.isArray(options.signals) ? Object.fromEntries(options.signals.map((s) => [s, s])) : options.signals;
  for (const col of [tsName, ...Object.keys(mapping)]) {
    if (!table.columnNames().includes(col)) {
      throw new MillwrightError('BAD_INPUT', `column "${col}" not in table (has ${table.columnNames().join(', ')})`);
    }
  }
  const n = table.numRows();
  const ts = table.array(tsName) as ArrayLike<number>;
  const assetOf = typeof options.asset === 'string' ? () => options.asset as string : options.asset;
  const cols = Object.entries(mapping).map(([col, signal]) => ({ values: table.array(col) as ArrayLike<number | null>, signal }));
  const cap = n * cols.length;
  const out = { ts: new Float64Array(cap), site: new Array<string>(), asset: new Array<string>(), signal: new Array<string>(), value: new Float64Array(cap) };
  let k = 0;
  for (let i = 0; i < n; i++) {
    const t = Number(ts[i]);
    if (!Number.isFinite(t)) throw new MillwrightError('BAD_INPUT', `row ${i}: ${tsName} is not a finite epoch-ms number`);
    const asset = assetOf(i);
    for (const { values, signal } of cols) {
      const v = values[i];
      if (v === null || v === undefined || Number.isNaN(v)) continue;
      out.ts[k] = t;
      out.value[k] = Number(v);
      out.site.push(options.site);
      out.asset.push(asset);
      out.signal.push(signal);
      k++;
    }
  }
  return { ts: out.ts.slice(0, k), site: out.site, asset: out.asset, signal: out.signal, value: out.value.slice(0, k) };
}

/** Concatenates reading batches into one. */
export function concatBatches(batches: ReadingBatch[]): ReadingBatch {
  const n = batches.reduce((s, b) => s + b.ts.length, 0);
  const out: ReadingBatch = { ts: new Float64Array(n), site: [], asset: [], signal: [], value: new Float64Array(n) };
  let k = 0;
  for (const b of batches) {
    out.ts.set(b.ts, k);
    out.value.set(b.value, k);
    for (let i = 0; i < b.ts.length; i++) {
      out.site.push(b.site[i]!);
      out.asset.push(b.asset[i]!);
      out.signal.push(b.signal[i]!);
    }
    k += b.ts.length;
  }
  return out;
}
