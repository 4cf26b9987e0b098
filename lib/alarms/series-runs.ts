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
 * (day, asset, signal), its rows in (ts, stored) order. A (day, series) that comes in one stretch
 * of rising time stamps (one file per day partition, the usual store) is that stretch, nothing
 * copied or sorted; one in several stretches (several files in a day) has its rows gathered, in
 * time order, ties in stored order, after the first `n` positions of `order` (the identity).
 * Rows outside the days are dropped.
 */
export function seriesRunsByDay(rows: StoredRows, firstDay: number, days: number): SeriesRuns[] {
  const { ts, assetCode, signalCode } = rows;
  const n = ts.length;
  const width = rows.signals.length;
  const pairs = rows.assets.length * width;
  // stretches of one (day, asset, signal) in row order, by key (day * pairs + pair: doubles, may pass 2^31)
  const byKey = new Map<number, { lo: number; hi: number; sorted: boolean }[]>();
  for (let i = 0; i < n; ) {
    const a = assetCode[i]!;
    const sig = signalCode[i]!;
    const day = Math.floor(ts[i]! / DAY);
    const dayEnd = (day + 1) * DAY;
    const dayStart = day * DAY;
    let prev = ts[i]!;
    let sorted = true;
    let j = i + 1;
    for (; j < n && assetCode[j] === a && signalCode[j] === sig; j++) {
      const t = ts[j]!;
      if (t < dayStart || t >= dayEnd) break;
      if (t < prev) sorted = false;
      prev = t;
    }
    const d = day - firstDay;
    if (d >= 0 && d < days) {
      const k = d * pairs + a * width + sig;
      const list = byKey.get(k);
      if (list) list.push({ lo: i, hi: j, sorted });
      else byKey.set(k, [{ lo: i, hi: j, sorted }]);
    }
    i = j;
  }
  const out: DayRuns[] = Array.from({ length: days }, () => ({ lo: [], hi: [], asset: [], signal: [] }));
  const gathered: number[][] = [];
  let extra = n;
  for (const [k, list] of byKey) {
    const d = out[Math.floor(k / pairs)]!;
    const first = list[0]!;
    d.asset.push(assetCode[first.lo]!);
    d.signal.push(signalCode[first.lo]!);
    if (list.length === 1 && first.sorted) {
      d.lo.push(first.lo);
      d.hi.push(first.hi);
      continue;
    }
    const idx: number[] = [];
    for (const st of list) for (let i = st.lo; i < st.hi; i++) idx.push(i);
    idx.sort((i, j) => ts[i]! - ts[j]! || i - j);
    d.lo.push(extra);
    d.hi.push((extra += idx.length));
    gathered.push(idx);
  }
  let order: Uint32Array | undefined;
  if (gathered.length > 0) {
    order = new Uint32Array(extra);
    for (let i = 0; i < n; i++) order[i] = i;
    let at = n;
    for (const idx of gathered) for (const i of idx) order[at++] = i;
  }
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
