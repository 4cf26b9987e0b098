/**
 * Row order for each group: by (asset, signal) lexicographically, then ts, ties in input order.
 * Counting sorts (O(n)) on group and series; a comparison sort only for series whose readings
 * arrived out of time order.
 */
export function sortRows(
  groupOf: Int32Array,
  nGroups: number,
  assetRank: Int32Array,
  assetId: Int32Array,
  signalRank: Int32Array,
  signalId: Int32Array,
  nSignals: number,
  ts: Float64Array,
): { groups: Int32Array[] } {
  const n = groupOf.length;
  const nSeries = assetRank.length * nSignals;
  const series = new Float64Array(n);
  for (let i = 0; i < n; i++) series[i] = assetRank[assetId[i]] * nSignals + signalRank[signalId[i]];
  const groups: Int32Array[] = [];
  // Counting sort costs O(series) per group: use it unless that dwarfs the rows.
  const useCounting = nSeries * nGroups <= 8 * n + 4096;
  // Bucket rows by group (stable).
  const gCount = new Int32Array(nGroups + 1);
  for (let i = 0; i < n; i++) gCount[groupOf[i] + 1]++;
  for (let g = 0; g < nGroups; g++) gCount[g + 1] += gCount[g];
  const byGroup = new Int32Array(n);
  const fill = gCount.slice(0, nGroups);
  for (let i = 0; i < n; i++) byGroup[fill[groupOf[i]]++] = i;
  const sCount = useCounting ? new Int32Array(nSeries + 1) : new Int32Array(0);
  for (let g = 0; g < nGroups; g++) {
    const rows = byGroup.subarray(gCount[g], gCount[g + 1]);
    const out = new Int32Array(rows.length);
    if (useCounting) {
      sCount.fill(0);
      for (const r of rows) sCount[series[r] + 1]++;
      for (let s = 0; s < nSeries; s++) sCount[s + 1] += sCount[s];
      const start = sCount.slice(0, nSeries + 1);
      for (const r of rows) out[sCount[series[r]]++] = r;
      for (let s = 0; s < nSeries; s++) {
        const a = start[s];
        const b = start[s + 1];
        for (let k = a + 1; k < b; k++) {
          if (ts[out[k]] < ts[out[k - 1]]) {
            out.subarray(a, b).sort((x, y) => ts[x] - ts[y] || x - y);
            break;
          }
        }
      }
    } else {
      out.set(rows);
      out.sort((x, y) => series[x] - series[y] || ts[x] - ts[y] || x - y);
    }
    groups.push(out);
  }
  return { groups };
}

/** Lexicographic rank of each string (by UTF-16 code units, like Parquet's byte order for ASCII). */
export function rankOf(values: readonly string[]): Int32Array {
  const order = values.map((_, i) => i).sort((a, b) => (values[a] < values[b] ? -1 : values[a] > values[b] ? 1 : 0));
  const rank = new Int32Array(order.length);
  order.forEach((id, r) => (rank[id] = r));
  return rank;
}
