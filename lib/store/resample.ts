import * as arrow from 'apache-arrow';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../errors/index.ts';
import { parseEvery } from './every.ts';

/** Aggregates {@link resample} can compute per bucket. */
export const RESAMPLE_AGGS = ['mean', 'min', 'max', 'count', 'last', 'first', 'sum'] as const;
export type ResampleAgg = (typeof RESAMPLE_AGGS)[number];

/** Options of {@link resample}. */
export interface ResampleOptions {
  /** Bucket width: `'1m'` (default), `'10s'`, `'1h'`, `'1d'`, `'500ms'` or ms. Buckets align to the UTC epoch. */
  every?: string | number;
  /** Aggregates, output in this order (default `['mean', 'min', 'max', 'count', 'last']`). */
  aggs?: readonly ResampleAgg[];
  /** Series key columns (default: whichever of `site`, `asset`, `signal` the table has). */
  by?: readonly string[];
  /** Time column, epoch ms (default `ts`). */
  ts?: string;
  /** Value column (default `value`). */
  value?: string;
}

export const DEFAULT_AGGS: readonly ResampleAgg[] = ['mean', 'min', 'max', 'count', 'last'];

type Columnar = {
  n: number;
  has(name: string): boolean;
  numbers(name: string): Float64Array;
  strings(name: string): readonly unknown[];
};

function fromArquero(t: ColumnTable): Columnar {
  const direct = !t.isFiltered() && !t.isOrdered();
  return {
    n: t.numRows(),
    has: (name) => t.columnNames().includes(name),
    numbers(name) {
      const col = t.column(name) as unknown;
      if (direct && col instanceof Float64Array) return col;
      const raw = direct && Array.isArray(col) ? (col as unknown[]) : t.array(name);
      const out = new Float64Array(raw.length);
      for (let i = 0; i < raw.length; i++) {
        const v = raw[i];
        out[i] = v === null || v === undefined ? NaN : v instanceof Date ? v.getTime() : Number(v);
      }
      return out;
    },
    strings(name) {
      const col = t.column(name) as unknown;
      if (direct && Array.isArray(col)) return col;
      return t.array(name) as unknown[];
    },
  };
}

function fromArrowTable(t: arrow.Table): Columnar {
  return {
    n: t.numRows,
    has: (name) => t.schema.fields.some((f) => f.name === name),
    numbers(name) {
      const out = new Float64Array(t.numRows);
      let i = 0;
      for (const v of t.getChild(name)!) out[i++] = v === null ? NaN : Number(v);
      return out;
    },
    strings: (name) => [...t.getChild(name)!],
  };
}

/**
 * Downsamples readings per series (site/asset/signal) into wall-clock buckets aligned to the UTC
 * epoch. Only buckets that contain values produce a row: gaps stay gaps. Readings whose value is
 * NaN/null carry no value and are skipped (a bucket holding only such readings is a gap too).
 * `last`/`first` are the values at the latest/earliest ts in the
 * bucket (ties: the later/earlier row). Output: key columns, `ts` (bucket start, epoch ms), then
 * the aggregates, sorted by keys then ts. Runs over typed arrays in one pass (no generic groupby).
 *
 * @example
 * const perMinute = resample(await scanTable({ root, assets: 'motor-3' }), { every: '1m', aggs: ['mean', 'max', 'last'] });
 */
export function resample(table: ColumnTable | arrow.Table, opts: ResampleOptions = {}): ColumnTable {
  const every = parseEvery(opts.every ?? '1m');
  const aggs = opts.aggs ?? DEFAULT_AGGS;
  const bad = aggs.filter((a) => !(RESAMPLE_AGGS as readonly string[]).includes(a));
  if (bad.length > 0 || aggs.length === 0) {
    throw new MillwrightError('BAD_INPUT', `unknown aggregate(s) ${JSON.stringify(bad)} (expected some of ${RESAMPLE_AGGS.join(', ')})`);
  }
  const src = table instanceof arrow.Table ? fromArrowTable(table) : fromArquero(table);
  const tsName = opts.ts ?? 'ts';
  const valueName = opts.value ?? 'value';
  for (const c of [tsName, valueName]) {
    if (!src.has(c)) throw new MillwrightError('BAD_INPUT', `resample needs a "${c}" column (the table has none)`);
  }
  const by = opts.by ?? ['site', 'asset', 'signal'].filter((c) => src.has(c));
  for (const c of by) if (!src.has(c)) throw new MillwrightError('BAD_INPUT', `resample: key column "${c}" not in the table`);

  const n = src.n;
  const ts = src.numbers(tsName);
  const value = src.numbers(valueName);
  const keyCols = by.map((c) => src.strings(c));

  // Series ids, looked up only when a key changes (input is usually sorted by series).
  const seriesIds = new Map<string, number>();
  const seriesKeys: unknown[][] = [];
  const prev: unknown[] = keyCols.map(() => Symbol('none'));
  let series = -1;

  const acc = new Accumulators();
  // Per series: bucket number → accumulator slot.
  const slotsOf: Map<number, number>[] = [];
  let slot = -1;
  let slotSeries = -1;
  let slotBucket = NaN;
  for (let i = 0; i < n; i++) {
    let changed = false;
    for (let k = 0; k < keyCols.length; k++) {
      const v = keyCols[k][i];
      if (v !== prev[k]) {
        prev[k] = v;
        changed = true;
      }
    }
    if (changed || series < 0) {
      const key = keyCols.length === 1 ? String(prev[0]) : JSON.stringify(prev);
      let id = seriesIds.get(key);
      if (id === undefined) {
        id = seriesKeys.length;
        seriesIds.set(key, id);
        seriesKeys.push(prev.slice());
      }
      series = id;
    }
    const v = value[i];
    if (v !== v) continue; // NaN/null: no value, so no bucket (gaps stay gaps)
    const t = ts[i];
    if (!Number.isFinite(t)) throw new MillwrightError('BAD_INPUT', `resample: row ${i} has no valid "${tsName}" (expected epoch ms)`);
    const bucket = Math.floor(t / every);
    if (series !== slotSeries || bucket !== slotBucket) {
      let slots = slotsOf[series];
      if (!slots) slotsOf[series] = slots = new Map();
      let s = slots.get(bucket);
      if (s === undefined) {
        s = acc.add(series, bucket * every);
        slots.set(bucket, s);
      }
      slot = s;
      slotSeries = series;
      slotBucket = bucket;
    }
    acc.push(slot, t, v);
  }
  return acc.toTable(by, seriesKeys, aggs);
}

/** Growable per-bucket accumulators in typed arrays. */
class Accumulators {
  size = 0;
  private cap = 1024;
  series = new Int32Array(this.cap);
  start = new Float64Array(this.cap);
  count = new Float64Array(this.cap);
  sum = new Float64Array(this.cap);
  min = new Float64Array(this.cap);
  max = new Float64Array(this.cap);
  first = new Float64Array(this.cap);
  firstTs = new Float64Array(this.cap);
  last = new Float64Array(this.cap);
  lastTs = new Float64Array(this.cap);

  add(series: number, start: number): number {
    if (this.size === this.cap) this.grow();
    const s = this.size++;
    this.series[s] = series;
    this.start[s] = start;
    this.min[s] = Infinity;
    this.max[s] = -Infinity;
    this.first[s] = NaN;
    this.firstTs[s] = Infinity;
    this.last[s] = NaN;
    this.lastTs[s] = -Infinity;
    return s;
  }

  push(s: number, t: number, v: number): void {
    this.count[s]++;
    this.sum[s] += v;
    if (v < this.min[s]) this.min[s] = v;
    if (v > this.max[s]) this.max[s] = v;
    if (t >= this.lastTs[s]) {
      this.lastTs[s] = t;
      this.last[s] = v;
    }
    if (t < this.firstTs[s]) {
      this.firstTs[s] = t;
      this.first[s] = v;
    }
  }

  private grow(): void {
    this.cap *= 2;
    for (const k of ['series', 'start', 'count', 'sum', 'min', 'max', 'first', 'firstTs', 'last', 'lastTs'] as const) {
      const old = this[k];
      const next = new (old.constructor as new (n: number) => typeof old)(this.cap);
      next.set(old as never);
      (this as Record<typeof k, typeof old>)[k] = next;
    }
  }

  toTable(by: readonly string[], seriesKeys: unknown[][], aggs: readonly ResampleAgg[]): ColumnTable {
    const m = this.size;
    // Rank series by their key values so output is sorted by keys, then by bucket start.
    const order = seriesKeys.map((_, i) => i).sort((a, b) => compareKeys(seriesKeys[a], seriesKeys[b]));
    const rank = new Int32Array(seriesKeys.length);
    order.forEach((id, r) => (rank[id] = r));
    // Stable counting sort of slots by series rank; each series' slots are usually already in
    // time order (input sorted by ts within a series), else that segment is sorted.
    const nSeries = seriesKeys.length;
    const bound = new Int32Array(nSeries + 1);
    for (let i = 0; i < m; i++) bound[rank[this.series[i]] + 1]++;
    for (let r = 0; r < nSeries; r++) bound[r + 1] += bound[r];
    const fill = bound.slice(0, nSeries);
    const rows = new Int32Array(m);
    for (let i = 0; i < m; i++) rows[fill[rank[this.series[i]]]++] = i;
    for (let r = 0; r < nSeries; r++) {
      for (let k = bound[r] + 1; k < bound[r + 1]; k++) {
        if (this.start[rows[k]] < this.start[rows[k - 1]]) {
          rows.subarray(bound[r], bound[r + 1]).sort((a, b) => this.start[a] - this.start[b]);
          break;
        }
      }
    }
    const data: Record<string, unknown[] | Float64Array> = {};
    by.forEach((name, k) => {
      const col = new Array<unknown>(m);
      for (let i = 0; i < m; i++) col[i] = seriesKeys[this.series[rows[i]]][k];
      data[name] = col;
    });
    data.ts = gather(this.start, rows);
    for (const agg of aggs) {
      const out = new Float64Array(m);
      for (let i = 0; i < m; i++) {
        const s = rows[i];
        const c = this.count[s];
        out[i] =
          agg === 'count' ? c
          : agg === 'mean' ? this.sum[s] / c
          : agg === 'sum' ? this.sum[s]
          : agg === 'min' ? this.min[s]
          : agg === 'max' ? this.max[s]
          : agg === 'last' ? this.last[s]
          : this.first[s];
      }
      data[agg] = out;
    }
    return aq.table(data);
  }
}

function gather(src: Float64Array, rows: Int32Array): Float64Array {
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = src[rows[i]];
  return out;
}

function compareKeys(a: unknown[], b: unknown[]): number {
  for (let k = 0; k < a.length; k++) {
    const x = String(a[k]);
    const y = String(b[k]);
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
