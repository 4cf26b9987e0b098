/**
 * Time order for rows read in stored order: the (ts, asset, signal) order with ties in stored
 * order, the order DuckDB's `ORDER BY ts, asset, signal, file, row` gives, by a few stable
 * counting passes in JS instead of DuckDB's sort (measured on a month of the synthetic plant:
 * that sort was most of `alarms run`).
 */

/**
 * Ranks of dictionary names in UTF-8 byte order (DuckDB's binary collation, which JavaScript's
 * `<` on UTF-16 code units differs from for characters outside the basic plane).
 */
export function byteOrderRanks(names: readonly string[]): Int32Array {
  const bytes = names.map((n) => Buffer.from(n, 'utf8'));
  const order = names.map((_, i) => i).sort((a, b) => Buffer.compare(bytes[a]!, bytes[b]!));
  const rank = new Int32Array(names.length);
  order.forEach((id, r) => (rank[id] = r));
  return rank;
}

/**
 * The permutation that puts rows into (ts, asset rank, signal rank) order, ties in input order:
 * stable counting passes, first on the series rank, then on 16-bit digits of ts - min(ts) from
 * the lowest up (two passes for a week of ms). Falls back to a comparison sort when a time stamp
 * is not a whole number of ms or the range is beyond 2^53.
 */
export function timeOrderPermutation(ts: Float64Array, asset: Int32Array, signal: Int32Array, assetRank: Int32Array, signalRank: Int32Array): Uint32Array {
  const n = ts.length;
  const width = signalRank.length;
  let lo = Infinity;
  let hi = -Infinity;
  let whole = true;
  for (let i = 0; i < n; i++) {
    const t = ts[i]!;
    if (t < lo) lo = t;
    if (t > hi) hi = t;
    if (!Number.isInteger(t)) whole = false;
  }
  const series = new Uint32Array(n);
  for (let i = 0; i < n; i++) series[i] = assetRank[asset[i]!]! * width + signalRank[signal[i]!]!;
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (n < 2) return order;
  if (!whole || !(hi - lo < 2 ** 53)) return order.sort((i, j) => ts[i]! - ts[j]! || series[i]! - series[j]! || i - j);
  let spare = new Uint32Array(n);
  // One stable counting pass on key[i] (the key of row i, not of position k), monomorphic loops.
  const pass = (key: Uint32Array | Uint16Array, buckets: number): void => {
    const counts = new Uint32Array(buckets + 1);
    for (let k = 0; k < n; k++) counts[key[order[k]!]! + 1]!++;
    for (let d = 1; d <= buckets; d++) counts[d]! += counts[d - 1]!;
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      spare[counts[key[i]!]!++] = i;
    }
    [order, spare] = [spare, order];
  };
  pass(series, assetRank.length * width);
  // ts - lo as 16-bit digits, lowest first (division, not bit shifts: the range may pass 2^32)
  const digit = new Uint16Array(n);
  for (let scale = 1; scale <= hi - lo; scale *= 65536) {
    for (let i = 0; i < n; i++) digit[i] = Math.floor((ts[i]! - lo) / scale) % 65536;
    pass(digit, 65536);
  }
  return order;
}
