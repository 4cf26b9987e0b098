import * as arrow from 'apache-arrow';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../errors/index.ts';
import { parseEvery } from './every.ts';
import { DictionaryColumn } from './dictionary-column.ts';

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
  /** A key column: its values per row, or (dictionary-encoded) integer keys into distinct values. */
  keyColumn(name: string): readonly unknown[] | DictionaryColumn;
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
    keyColumn(name) {
      const col = t.column(name) as unknown;
      if (direct && (Array.isArray(col) || col instanceof DictionaryColumn)) return col;
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
    keyColumn: (name) => [...t.getChild(name)!],
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
  const { runStart, runSeries, seriesKeys } = seriesRuns(by.map((c) => src.keyColumn(c)), n);

  const acc = accumulate(runStart, runSeries, ts, value, every, tsName);
  return acc.toTable(by, seriesKeys, aggs);
}

/** One pass over the rows, run by run: every (series, bucket)'s aggregates. */
function accumulate(runStart: Int32Array, runSeries: Int32Array, ts: Float64Array, value: Float64Array, every: number, tsName: string): Accumulators {
  const acc = new Accumulators(slotEstimate(runStart, ts, every));
  const slots = new Slots(acc, every);
  for (let r = 0; r < runSeries.length; r++) {
    const series = runSeries[r];
    const runEnd = runStart[r + 1];
    for (let i = runStart[r]; i < runEnd; ) {
      const v = value[i];
      if (v !== v) {
        i++; // NaN/null: no value, so no bucket (gaps stay gaps)
        continue;
      }
      const t = ts[i];
      if (!Number.isFinite(t)) throw new MillwrightError('BAD_INPUT', `resample: row ${i} has no valid "${tsName}" (expected epoch ms)`);
      const bucket = Math.floor(t / every);
      const s = slots.slot(series, bucket);
      // Its bounds: each following row costs two compares instead of a division (the same test: for
      // integer ms within Date's range, t / every never rounds up to the next bucket).
      const lo = bucket * every;
      const hi = lo + every;
      // Rows of this bucket that follow in the run, accumulated in locals (same order, same
      // arithmetic as one push per row) and stored once.
      let count = acc.count[s];
      let sum = acc.sum[s];
      let min = acc.min[s];
      let max = acc.max[s];
      let first = acc.first[s];
      let firstTs = acc.firstTs[s];
      let last = acc.last[s];
      let lastTs = acc.lastTs[s];
      for (; i < runEnd; i++) {
        const x = value[i];
        if (x !== x) continue;
        const u = ts[i];
        if (!(u >= lo && u < hi)) break; // another bucket (or a bad ts: NaN fails both compares, and is checked above)
        count++;
        sum += x;
        if (x < min) min = x;
        if (x > max) max = x;
        if (u >= lastTs) {
          lastTs = u;
          last = x;
        }
        if (u < firstTs) {
          firstTs = u;
          first = x;
        }
      }
      acc.count[s] = count;
      acc.sum[s] = sum;
      acc.min[s] = min;
      acc.max[s] = max;
      acc.first[s] = first;
      acc.firstTs[s] = firstTs;
      acc.last[s] = last;
      acc.lastTs[s] = lastTs;
    }
  }
  return acc;
}

/**
 * How many (series, bucket) slots the runs need if each run is in time order: the buckets its span
 * can touch (whole buckets in the span, plus one at each end), at most its rows (an upper bound). Sized
 * so, the accumulators are allocated once instead of doubling from a guess (each doubling copied
 * ten arrays into fresh memory: ~0.05 s of a 10M-reading resample); unsorted runs still grow them.
 */
function slotEstimate(runStart: Int32Array, ts: Float64Array, every: number): number {
  let slots = 0;
  for (let r = 0; r + 1 < runStart.length; r++) {
    const a = ts[runStart[r]];
    const b = ts[runStart[r + 1] - 1];
    const span = (b - a) / every;
    // never more than the run's rows (each slot holds at least one)
    slots += Math.min(runStart[r + 1] - runStart[r], span >= 0 ? Math.floor(span) + 2 : 1);
  }
  return slots;
}

/**
 * The accumulator slot of each (series, bucket). Time-sorted series only ever meet their latest
 * bucket or a later one, so no lookup table is kept for them; a series whose rows go back in time
 * gets a Map (bucket → slot) from then on.
 */
class Slots {
  private readonly lastBucket: number[] = [];
  private readonly lastSlot: number[] = [];
  /** Per series, while in time order: its buckets and slots, ascending. */
  private readonly buckets: number[][] = [];
  private readonly slots: number[][] = [];
  private readonly maps: (Map<number, number> | undefined)[] = [];

  constructor(
    private readonly acc: Accumulators,
    private readonly every: number,
  ) {}

  slot(series: number, bucket: number): number {
    const map = this.maps[series];
    if (map) {
      let s = map.get(bucket);
      if (s === undefined) {
        s = this.acc.add(series, bucket * this.every);
        map.set(bucket, s);
      }
      return s;
    }
    const last = this.lastBucket[series];
    if (last === bucket) return this.lastSlot[series];
    if (last === undefined || bucket > last) {
      const s = this.acc.add(series, bucket * this.every);
      if (last === undefined) {
        this.buckets[series] = [];
        this.slots[series] = [];
      }
      this.buckets[series].push(bucket);
      this.slots[series].push(s);
      this.lastBucket[series] = bucket;
      this.lastSlot[series] = s;
      return s;
    }
    // Back in time: a lookup table for this series from now on.
    const m = new Map<number, number>();
    const bs = this.buckets[series];
    const ss = this.slots[series];
    for (let k = 0; k < bs.length; k++) m.set(bs[k], ss[k]);
    this.maps[series] = m;
    return this.slot(series, bucket);
  }
}

/**
 * Runs of consecutive rows of one series: `runStart[r]` is the first row of run r (plus a final
 * entry `n`), `runSeries[r]` its series id (ids in order of first appearance), and each series'
 * key values. Keys are compared row to row and looked up only where they change (input is usually
 * sorted by series); when every key column is dictionary-encoded the compare is on integer keys,
 * no string per row.
 */
function seriesRuns(cols: readonly (readonly unknown[] | DictionaryColumn)[], n: number): { runStart: Int32Array; runSeries: Int32Array; seriesKeys: unknown[][] } {
  const starts: number[] = [];
  const runSeries: number[] = [];
  const ids = new Map<string, number>();
  const seriesKeys: unknown[][] = [];
  const begin = (i: number, key: string, values: () => unknown[]) => {
    let id = ids.get(key);
    if (id === undefined) {
      id = seriesKeys.length;
      ids.set(key, id);
      seriesKeys.push(values());
    }
    if (runSeries.length > 0 && runSeries[runSeries.length - 1] === id) return; // same series again
    starts.push(i);
    runSeries.push(id);
  };
  if (cols.length > 0 && cols.every((c) => c instanceof DictionaryColumn)) {
    const dicts = cols as readonly DictionaryColumn[];
    const keys = dicts.map((c) => c.keys);
    const prev = new Int32Array(keys.length).fill(-1);
    if (keys.length === 3) {
      // site, asset, signal: the common case, unrolled.
      const [k0, k1, k2] = keys;
      let p0 = -1;
      let p1 = -1;
      let p2 = -1;
      for (let i = 0; i < n; i++) {
        const a = k0[i];
        const b = k1[i];
        const c = k2[i];
        if (a !== p0 || b !== p1 || c !== p2) {
          p0 = prev[0] = a;
          p1 = prev[1] = b;
          p2 = prev[2] = c;
          begin(i, prev.join(','), () => dicts.map((d, k) => d.values[prev[k]]));
        }
      }
    } else for (let i = 0; i < n; i++) {
      let changed = false;
      for (let k = 0; k < keys.length; k++) {
        const v = keys[k][i];
        if (v !== prev[k]) {
          prev[k] = v;
          changed = true;
        }
      }
      if (changed) begin(i, prev.join(','), () => dicts.map((c, k) => c.values[prev[k]]));
    }
  } else {
    const keyCols = cols.map((c) => (c instanceof DictionaryColumn ? c.toArray() : c));
    const prev: unknown[] = keyCols.map(() => Symbol('none'));
    for (let i = 0; i < n; i++) {
      let changed = false;
      for (let k = 0; k < keyCols.length; k++) {
        const v = keyCols[k][i];
        if (v !== prev[k]) {
          prev[k] = v;
          changed = true;
        }
      }
      if (changed || i === 0) begin(i, keyCols.length === 1 ? String(prev[0]) : JSON.stringify(prev), () => prev.slice());
    }
  }
  starts.push(n);
  return { runStart: Int32Array.from(starts), runSeries: Int32Array.from(runSeries), seriesKeys };
}

/** Growable per-bucket accumulators in typed arrays. */
class Accumulators {
  size = 0;
  private cap: number;
  series: Int32Array;
  start: Float64Array;
  count: Float64Array;
  sum: Float64Array;
  min: Float64Array;
  max: Float64Array;
  first: Float64Array;
  firstTs: Float64Array;
  last: Float64Array;
  lastTs: Float64Array;

  constructor(capacity: number) {
    const cap = (this.cap = Math.max(1024, capacity));
    this.series = new Int32Array(cap);
    this.start = new Float64Array(cap);
    this.count = new Float64Array(cap);
    this.sum = new Float64Array(cap);
    this.min = new Float64Array(cap);
    this.max = new Float64Array(cap);
    this.first = new Float64Array(cap);
    this.firstTs = new Float64Array(cap);
    this.last = new Float64Array(cap);
    this.lastTs = new Float64Array(cap);
  }

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
    const data: Record<string, unknown[] | Float64Array | DictionaryColumn> = {};
    by.forEach((name, k) => {
      // String keys (every store name) dictionary-encoded, one key per bucket; others as values.
      if (seriesKeys.every((key) => typeof key[k] === 'string')) {
        const values: string[] = [];
        const index = new Map<string, number>();
        const of = Int32Array.from(seriesKeys, (key) => {
          const v = key[k] as string;
          let id = index.get(v);
          if (id === undefined) index.set(v, (id = values.push(v) - 1));
          return id;
        });
        const keys = new Int32Array(m);
        for (let i = 0; i < m; i++) keys[i] = of[this.series[rows[i]]];
        data[name] = new DictionaryColumn(keys, values);
        return;
      }
      const col = new Array<unknown>(m);
      for (let i = 0; i < m; i++) col[i] = seriesKeys[this.series[rows[i]]][k];
      data[name] = col;
    });
    data.ts = gather(this.start, rows);
    for (const agg of aggs) {
      if (agg === 'mean') {
        const out = new Float64Array(m);
        const { sum, count } = this;
        for (let i = 0; i < m; i++) out[i] = sum[rows[i]] / count[rows[i]];
        data[agg] = out;
      } else data[agg] = gather(agg === 'count' ? this.count : agg === 'sum' ? this.sum : agg === 'min' ? this.min : agg === 'max' ? this.max : agg === 'last' ? this.last : this.first, rows);
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
