import type { SeriesRuns } from './evaluator.ts';

const DAY = 86_400_000;

/** Store rows in stored order, asset and signal as codes into name lists (a `scanArrays` with `codes`). */
export interface StoredRows {
  ts: Float64Array;
  assetCode: Int32Array;
  signalCode: Int32Array;
  assets: readonly string[];
  signals: readonly string[];
  value: Float64Array;
  quality: Uint8Array;
}

/**
 * Splits rows read in stored order (file by file, each sorted by asset, signal, ts) into UTC days
 * [firstDay, firstDay + days) of series runs for {@link AlarmEvaluator.processSeries}: one run per
 * (day, asset, signal), its rows in (ts, stored) order. When every (day, series) already comes in
 * one stretch of rising time stamps (one file per day partition, the usual store), the runs are
 * those stretches and nothing is copied or sorted; otherwise (several files per day) a stable
 * counting pass groups the rows by (day, series) and only runs not yet in time order are sorted.
 * Rows outside the days are dropped.
 */
export function seriesRunsByDay(rows: StoredRows, firstDay: number, days: number): SeriesRuns[] {
  const { ts, assetCode, signalCode } = rows;
  const n = ts.length;
  const pairs = rows.assets.length * rows.signals.length;
  const width = rows.signals.length;
  // key of a row: its (day, asset, signal), -1 outside the days (doubles: days x pairs may pass 2^31)
  const key = new Float64Array(n);
  let grouped = true;
  let sorted = true;
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const day = Math.floor(ts[i]! / DAY) - firstDay;
    const k = day < 0 || day >= days ? -1 : day * pairs + assetCode[i]! * width + signalCode[i]!;
    key[i] = k;
    if (i > 0 && k === key[i - 1]) {
      if (k >= 0 && ts[i]! < ts[i - 1]!) sorted = false;
      continue;
    }
    // a new stretch: grouped as long as no key comes back after its stretch ended
    if (k >= 0 && seen.size === seen.add(k).size) grouped = false;
  }
  const out: DayRuns[] = Array.from({ length: days }, () => ({ lo: [], hi: [], asset: [], signal: [] }));
  const add = (k: number, lo: number, hi: number, row: number): void => {
    const d = out[Math.floor(k / pairs)]!;
    d.lo.push(lo);
    d.hi.push(hi);
    d.asset.push(assetCode[row]!);
    d.signal.push(signalCode[row]!);
  };
  const order = grouped && sorted ? stretches(key, add) : groupRuns(key, ts, add);
  return out.map((d) => ({
    ts, value: rows.value, quality: rows.quality, assets: rows.assets, signals: rows.signals, order,
    lo: Int32Array.from(d.lo), hi: Int32Array.from(d.hi), asset: Int32Array.from(d.asset), signal: Int32Array.from(d.signal),
  }));
}

interface DayRuns {
  lo: number[];
  hi: number[];
  asset: number[];
  signal: number[];
}

/** Runs as the stretches of equal keys in row order (no copy): each key in one stretch of rising ts. */
function stretches(key: Float64Array, add: (k: number, lo: number, hi: number, row: number) => void): undefined {
  const n = key.length;
  for (let i = 0; i < n; ) {
    const k = key[i]!;
    let j = i + 1;
    while (j < n && key[j] === k) j++;
    if (k >= 0) add(k, i, j, i);
    i = j;
  }
  return undefined;
}

/**
 * Runs by a stable counting pass on the keys (rows of a key in stored order, keys in order of
 * first appearance), then a stable sort by ts of each run not yet in time order: the permutation.
 */
function groupRuns(key: Float64Array, ts: Float64Array, add: (k: number, lo: number, hi: number, row: number) => void): Uint32Array {
  const n = key.length;
  const bucket = new Int32Array(n);
  const codes = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const k = key[i]!;
    let b = k < 0 ? -1 : codes.get(k);
    if (b === undefined) codes.set(k, (b = codes.size));
    bucket[i] = b;
  }
  const counts = new Int32Array(codes.size + 1);
  for (let i = 0; i < n; i++) if (bucket[i]! >= 0) counts[bucket[i]! + 1]!++;
  for (let b = 1; b <= codes.size; b++) counts[b]! += counts[b - 1]!;
  const starts = counts.slice();
  const order = new Uint32Array(counts[codes.size]!);
  for (let i = 0; i < n; i++) if (bucket[i]! >= 0) order[counts[bucket[i]!]!++] = i;
  for (const [k, b] of codes) {
    const lo = starts[b]!;
    const hi = starts[b + 1]!;
    let inOrder = true;
    for (let p = lo + 1; p < hi && inOrder; p++) inOrder = ts[order[p]!]! >= ts[order[p - 1]!]!;
    if (!inOrder) order.subarray(lo, hi).sort((i, j) => ts[i]! - ts[j]! || i - j);
    add(k, lo, hi, order[lo]!);
  }
  return order;
}
