import { join } from 'node:path';
import { MillwrightError } from '../errors/index.ts';
import { DAY_MS, dateOfDay, partitionDir, validatePartitionValue } from './partition.ts';
import type { ParquetWriteOptions } from './parquet.ts';
import { encodeReadingsFile } from './encode-readings-file.ts';
import { loadZstd } from './parquet-pages.ts';
import { mkdirDurable, uniqueId, writeFileAtomic } from '../durable/index.ts';
import { rankOf } from './sort-rows.ts';
import type { EncodedReadings } from './write-readings.ts';

/** Options of `writeReadings` and the writers built on {@link writeChunks}. */
export interface WriteOptions extends ParquetWriteOptions {
  /**
   * fsync each file and its directory (default true). Only turn off for throwaway stores
   * (benchmarks of the encoder); without it a crash can lose acknowledged readings.
   */
  fsync?: boolean;
}

/** What `writeReadings` wrote. */
export interface WriteResult {
  /** Absolute paths of the new files, one per touched (site, date) partition. */
  files: string[];
  /** Readings written. */
  rows: number;
}

/**
 * Rows handed to {@link writeChunks}: name columns as ids, either into the chunk's own `dict`
 * (spool segments, parsed ingest chunks) or, without `dict`, ids the caller took from the
 * writer's {@link StoreNames} (writeReadings). The arrays are read, never modified, so they may
 * be views of a file's bytes.
 */
export interface ReadingChunk extends EncodedReadings {
  /** The names the ids refer to (site, asset and signal share it); may repeat names or hold unused ones. */
  dict?: readonly string[];
}

// Readings outside 1900..9999 are almost certainly unit mistakes (seconds vs ms, µs).
const MIN_TS = Date.UTC(1900, 0, 1);
const MAX_TS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Interns strings to dense ids in first-use order, checking each new one. */
export class Interner {
  readonly values: string[] = [];
  private readonly ids = new Map<string, number>();
  constructor(private readonly check: (v: unknown) => void) {}
  id(v: string): number {
    let id = this.ids.get(v);
    if (id === undefined) {
      this.check(v);
      id = this.values.length;
      this.ids.set(v, id);
      this.values.push(v);
    }
    return id;
  }
}

function checkName(kind: string) {
  return (v: unknown): void => {
    if (typeof v !== 'string' || v.length === 0) {
      throw new MillwrightError('BAD_INPUT', `${kind} must be a non-empty string, got ${JSON.stringify(v)}`);
    }
  };
}

/** The names of one write: the ids of the files' dictionaries, in first-use order. */
export class StoreNames {
  readonly sites = new Interner((v) => validatePartitionValue('site', v));
  readonly assets = new Interner(checkName('asset'));
  readonly signals = new Interner(checkName('signal'));
}

/** Rows of a batch whose columns all have the length of `ts`; else a BAD_INPUT naming the column. */
export function checkColumns(batch: { ts: ArrayLike<number>; site: ArrayLike<unknown>; asset: ArrayLike<unknown>; signal: ArrayLike<unknown>; value: ArrayLike<number>; quality?: Uint8Array }): number {
  const n = batch.ts.length;
  for (const key of ['site', 'asset', 'signal', 'value'] as const) {
    if (batch[key].length !== n) {
      throw new MillwrightError('BAD_INPUT', `batch column "${key}" has ${batch[key].length} entries, expected ${n} (the length of "ts")`);
    }
  }
  if (batch.quality !== undefined && batch.quality.length !== n) {
    throw new MillwrightError('BAD_INPUT', `batch column "quality" has ${batch.quality.length} entries, expected ${n}`);
  }
  return n;
}

const KINDS = ['site', 'asset', 'signal'] as const;

// Each hot loop below is its own small function over typed arrays, called once per write with
// all the chunks: inline in one long function the loops were compiled on-stack and thrown away
// again (deopts, measured at 5-8x the loop's cost), and called once per 10,000-row segment most
// calls ran before V8 had optimised code (2x the time of one 1M-row chunk).

/**
 * Checks one column's ids and names in row order, as writeReadings checks strings, and throws
 * BAD_INPUT for the first bad one. Only run when the passes over the rows found something
 * wrong, to name it.
 */
function checkColumn(col: Int32Array, dict: readonly string[], to: Interner, kind: string, offset: number): void {
  const seen = new Uint8Array(dict.length);
  // One load and compare per row: an id outside the array reads undefined, so it fails the
  // same test as a first use and takes the slow branch, which tells them apart.
  for (let i = 0; i < col.length; i++) {
    if (seen[col[i]] === 1) continue;
    const e = col[i];
    if (!(e >= 0 && e < dict.length)) throw new MillwrightError('BAD_INPUT', `reading ${offset + i}: ${kind} id ${e} is outside the dictionary of ${dict.length} names`);
    to.id(dict[e]);
    seen[e] = 1;
  }
}

/** Throws BAD_INPUT for the first bad name or id, kind by kind (every site before any asset). */
function checkChunks(chunks: readonly ReadingChunk[]): void {
  const names = new StoreNames();
  KINDS.forEach((kind, k) => {
    const to = [names.sites, names.assets, names.signals][k];
    let offset = 0;
    for (const chunk of chunks) {
      if (chunk.dict) checkColumn(chunk[kind], chunk.dict, to, kind, offset);
      offset += chunk.ts.length;
    }
  });
}

/**
 * Per chunk: [site, asset, signal] maps from chunk ids to store ids, built from the
 * dictionaries alone (a few dozen names per chunk, nothing per row). An entry whose name is
 * invalid maps to -1; the passes over the rows notice when a row uses one (or an id outside
 * the dictionary) and then let {@link checkChunks} name it, so unused entries are never
 * refused. Names enter the store's dictionaries in dictionary order: a file's bytes do not
 * depend on that order (Parquet's dictionary pages follow the rows), only on the names' ranks.
 */
function mapChunks(chunks: readonly ReadingChunk[], names: StoreNames): Int32Array[][] {
  const tos = [names.sites, names.assets, names.signals];
  return chunks.map((chunk) => {
    const dict = chunk.dict;
    return tos.map((to) => {
      if (!dict) return Int32Array.from(to.values, (_, i) => i);
      return Int32Array.from(dict, (name) => {
        try {
          return to.id(name);
        } catch {
          return -1;
        }
      });
    });
  });
}

/** Partitions seen so far: (site id, UTC day) interned to dense group ids, in first-use order. */
class Groups {
  readonly keys: { site: number; day: number }[] = [];
  private readonly ids = new Map<number, number>();

  /**
   * The per-partition path (see {@link assignBuckets}): writes each row's group to
   * `out[at + i]`; stops at the first row whose ts is out of range or whose site id is bad, and
   * returns its index in the chunk (else -1). A row inside the previous row's day and site
   * costs two compares; the rest goes through {@link group}.
   */
  assign(tsIn: Float64Array, siteIn: Int32Array, siteMap: Int32Array, out: Int32Array, at: number): number {
    // The day [lo, hi) of the current group: every ms in a day between MIN_TS's and MAX_TS's
    // is valid, so a row inside it needs no range check (NaN fails `t >= lo`).
    let lo = 0;
    let hi = 0;
    let lastSite = -1;
    let g = -1;
    for (let i = 0; i < tsIn.length; i++) {
      const t = Math.round(tsIn[i]);
      const s = siteIn[i];
      if (!(t >= lo && t < hi && s === lastSite)) {
        const site = siteMap[s];
        if (!(t >= MIN_TS && t <= MAX_TS && site >= 0)) return i;
        const day = Math.floor(t / DAY_MS);
        g = this.group(site, day);
        lo = day * DAY_MS;
        hi = lo + DAY_MS;
        lastSite = s;
      }
      out[at + i] = g;
    }
    return -1;
  }

  /** NaN once a row given to {@link assignBuckets} had a bad asset or signal id. */
  keySum = 0;

  /**
   * {@link assign} fused with the series key, one pass over all the chunks' rows (one call, for
   * the reason given at {@link scatterChunks}): writes `group * nSeries + series` per row.
   * Returns -1, the index (over all chunks) of the first row with a bad ts or site, or -2 when
   * the rows reach more than `maxGroups` partitions (too many buckets to count: the caller
   * starts over and sorts per partition).
   */
  assignBuckets(chunks: readonly ReadingChunk[], maps: Int32Array[][], keys: readonly { a: Float64Array; s: Float64Array }[], nSeries: number, maxGroups: number, out: Int32Array): number {
    let sum = 0;
    for (let c = 0, at = 0; c < chunks.length; at += chunks[c].ts.length, c++) {
      const { ts: tsIn, site: siteIn, asset: assetIn, signal: signalIn } = chunks[c];
      const siteMap = maps[c][0];
      const aKey = keys[c].a;
      const sKey = keys[c].s;
      let lo = 0;
      let hi = 0;
      let lastSite = -1;
      let base = 0;
      for (let i = 0; i < tsIn.length; i++) {
        const t = Math.round(tsIn[i]);
        const s = siteIn[i];
        if (!(t >= lo && t < hi && s === lastSite)) {
          const site = siteMap[s];
          if (!(t >= MIN_TS && t <= MAX_TS && site >= 0)) return at + i;
          const day = Math.floor(t / DAY_MS);
          const g = this.group(site, day, maxGroups);
          if (g < 0) return -2;
          base = g * nSeries;
          lo = day * DAY_MS;
          hi = lo + DAY_MS;
          lastSite = s;
        }
        const series = aKey[assetIn[i]] + sKey[signalIn[i]];
        sum += series;
        out[at + i] = base + series;
      }
    }
    this.keySum = sum;
    return -1;
  }

  /** The group of (site, day), new ones in first-use order; -1 when a new one would be past `maxGroups`. */
  private group(site: number, day: number, maxGroups = Infinity): number {
    const key = site * 4_194_304 + (day + 30_000);
    let g = this.ids.get(key);
    if (g === undefined) {
      if (this.keys.length >= maxGroups) return -1;
      g = this.keys.length;
      this.ids.set(key, g);
      this.keys.push({ site, day });
    }
    return g;
  }
}

/** Rows per bucket (one tight pass over the bucket column). */
function countBuckets(bucket: Int32Array, count: Int32Array): void {
  for (let i = 0; i < bucket.length; i++) count[bucket[i] + 1]++;
}

/**
 * Too many series for a counting pass: bucket stays the group; the series key goes aside.
 * Returns NaN when a row's asset or signal id is bad (its key is NaN).
 */
function countByGroup(bucket: Int32Array, at: number, assetIn: Int32Array, signalIn: Int32Array, aKey: Float64Array, sKey: Float64Array, seriesOf: Float64Array, count: Int32Array): number {
  let sum = 0;
  for (let i = 0; i < assetIn.length; i++) {
    const series = aKey[assetIn[i]] + sKey[signalIn[i]];
    seriesOf[at + i] = series;
    sum += series;
    count[bucket[at + i] + 1]++;
  }
  return sum;
}

/** The output columns, all partitions end to end in file order. */
interface Laid {
  ts: Float64Array;
  value: Float64Array;
  quality: Uint8Array;
  assetIdx: Int32Array;
  signalIdx: Int32Array;
}

/**
 * Moves every chunk's rows to their places (`next` = each bucket's next free row). One call for
 * all chunks, not one per chunk: a flush passes a hundred 10,000-row segments, and a call per
 * segment ran most of them before V8 had optimised code for the function (measured 2x the
 * time of one 1M-row chunk); here the loop is compiled once, on the stack, and reused.
 */
function scatterChunks(chunks: readonly ReadingChunk[], maps: Int32Array[][], bucket: Int32Array, next: Int32Array, out: Laid): void {
  const { ts, value, quality, assetIdx, signalIdx } = out;
  for (let c = 0, at = 0; c < chunks.length; at += chunks[c].ts.length, c++) {
    const { ts: tsIn, value: valueIn, quality: qIn, asset: assetIn, signal: signalIn } = chunks[c];
    const am = maps[c][1];
    const sm = maps[c][2];
    const m = tsIn.length;
    // Two copies of the loop, with and without quality codes, rather than a branch per row.
    if (qIn) {
      for (let i = 0; i < m; i++) {
        const d = next[bucket[at + i]]++;
        ts[d] = Math.round(tsIn[i]);
        value[d] = valueIn[i];
        quality[d] = qIn[i];
        assetIdx[d] = am[assetIn[i]];
        signalIdx[d] = sm[signalIn[i]];
      }
    } else {
      for (let i = 0; i < m; i++) {
        const d = next[bucket[at + i]]++;
        ts[d] = Math.round(tsIn[i]);
        value[d] = valueIn[i];
        assetIdx[d] = am[assetIn[i]];
        signalIdx[d] = sm[signalIn[i]];
      }
    }
  }
}

/** The per-partition fallback's series keys, scattered like the rows (the buckets are the few partitions). */
function scatterSeries(seriesOf: Float64Array, at: number, m: number, bucket: Int32Array, next: Int32Array, seriesAt: Float64Array): void {
  for (let i = at; i < at + m; i++) seriesAt[next[bucket[i]]++] = seriesOf[i];
}

/**
 * Sorts the buckets whose rows are out of order, stably (ties keep their input order, which is
 * their order in the bucket): by ts inside a series, or by (series, ts) inside a partition.
 */
function sortRanges(start: Int32Array, laid: Laid, seriesAt: Float64Array | undefined): void {
  const { ts } = laid;
  const cols = [laid.ts, laid.value, laid.quality, laid.assetIdx, laid.signalIdx];
  for (let b = 0; b + 1 < start.length; b++) {
    const lo = start[b];
    const hi = start[b + 1];
    if (hi - lo < 2 || inOrder(ts, seriesAt, lo, hi)) continue;
    const idx = Int32Array.from({ length: hi - lo }, (_, k) => lo + k);
    idx.sort(seriesAt ? (x, y) => seriesAt[x] - seriesAt[y] || ts[x] - ts[y] || x - y : (x, y) => ts[x] - ts[y] || x - y);
    for (const col of cols) {
      const copy = col.slice(lo, hi);
      for (let k = 0; k < idx.length; k++) col[lo + k] = copy[idx[k] - lo];
    }
  }
}

function inOrder(ts: Float64Array, seriesAt: Float64Array | undefined, lo: number, hi: number): boolean {
  if (!seriesAt) {
    for (let k = lo + 1; k < hi; k++) if (ts[k] < ts[k - 1]) return false;
    return true;
  }
  for (let k = lo + 1; k < hi; k++) {
    if (seriesAt[k] < seriesAt[k - 1] || (seriesAt[k] === seriesAt[k - 1] && ts[k] < ts[k - 1])) return false;
  }
  return true;
}

/**
 * Lays the chunks' rows out in file order: partitions in first-use order, inside each by asset
 * and signal name, then ts, ties in input order. One counting scatter when counting over the
 * series is cheap against the rows; else by partition and a comparison sort per partition.
 * Returns the columns and where each partition starts and ends.
 */
function layOut(chunks: readonly ReadingChunk[], names: StoreNames, maps: Int32Array[][], n: number): { laid: Laid; groups: { site: number; day: number }[]; bounds: Int32Array } {
  const nSignals = names.signals.values.length;
  const nSeries = names.assets.values.length * nSignals;
  const assetRank = rankOf(names.assets.values);
  const signalRank = rankOf(names.signals.values);
  // Series key per chunk id, precomposed (Float64: with many names it can pass 2^31, and then
  // only the per-partition sort runs). A bad name's key is NaN.
  const keys = maps.map(([, am, sm]) => ({
    a: Float64Array.from(am, (id) => (id < 0 ? NaN : assetRank[id] * nSignals)),
    s: Float64Array.from(sm, (id) => (id < 0 ? NaN : signalRank[id])),
  }));
  const badTs = (c: number, at: number, i: number): never => {
    checkChunks(chunks); // a bad name or id is reported first, as writeReadings does
    throw new MillwrightError('BAD_INPUT', `reading ${at + i}: ts ${chunks[c].ts[i]} is not epoch milliseconds between 1900 and 9999`);
  };
  const bucket = new Int32Array(n);
  // Counting over (partition, series) when the buckets are not many more than the rows.
  const maxGroups = nSeries === 0 ? Infinity : Math.floor((8 * n + 4096) / nSeries);
  let groups = new Groups();
  const r = groups.assignBuckets(chunks, maps, keys, nSeries, maxGroups, bucket);
  if (r >= 0) {
    let c = 0;
    let at = 0;
    while (r >= at + chunks[c].ts.length) at += chunks[c++].ts.length;
    badTs(c, at, r - at);
  }
  const bySeries = r === -1;
  let keySum = groups.keySum;
  let seriesOf: Float64Array | undefined;
  let count: Int32Array;
  if (bySeries) {
    count = new Int32Array(groups.keys.length * nSeries + 1);
    countBuckets(bucket, count);
  } else {
    groups = new Groups();
    for (let c = 0, at = 0; c < chunks.length; at += chunks[c].ts.length, c++) {
      const r = groups.assign(chunks[c].ts, chunks[c].site, maps[c][0], bucket, at);
      if (r >= 0) badTs(c, at, r);
    }
    seriesOf = new Float64Array(n);
    count = new Int32Array(groups.keys.length + 1);
    for (let c = 0, at = 0; c < chunks.length; at += chunks[c].ts.length, c++) {
      keySum += countByGroup(bucket, at, chunks[c].asset, chunks[c].signal, keys[c].a, keys[c].s, seriesOf, count);
    }
  }
  const nGroups = groups.keys.length;
  const nBuckets = count.length - 1;
  for (let b = 0; b < nBuckets; b++) count[b + 1] += count[b];
  if (count[nBuckets] !== n || Number.isNaN(keySum)) {
    checkChunks(chunks);
    throw new MillwrightError('INTERNAL', `store writer: a row without a bucket, yet every name checks out (a bug)`);
  }
  const start = count.slice();
  const laid: Laid = { ts: new Float64Array(n), value: new Float64Array(n), quality: new Uint8Array(n), assetIdx: new Int32Array(n), signalIdx: new Int32Array(n) };
  const seriesAt = seriesOf ? new Float64Array(n) : undefined;
  // Series keys first, from a copy of the cursors the row scatter then moves.
  if (seriesOf && seriesAt) scatterSeries(seriesOf, 0, n, bucket, count.slice(), seriesAt);
  scatterChunks(chunks, maps, bucket, count, laid);
  sortRanges(start, laid, seriesAt);
  const bounds = new Int32Array(nGroups + 1);
  for (let g = 0; g <= nGroups; g++) bounds[g] = start[bySeries ? g * nSeries : g];
  return { laid, groups: groups.keys, bounds };
}

/**
 * The store's one write path (writeReadings, writeEncodedReadings and the spool flush all end
 * here): validates every row, lays the chunks' rows out in file order (see `layOut`), and
 * writes one Parquet file per (site, UTC date) partition atomically. Reading the chunks in
 * place, not a joined copy, is what lets a flush hand over its segments' bytes without copying
 * them first. Throws BAD_INPUT (and writes nothing) when any reading is invalid.
 */
export async function writeChunks(root: string, chunks: readonly ReadingChunk[], opts: WriteOptions = {}, names: StoreNames = new StoreNames()): Promise<WriteResult> {
  const n = chunks.reduce((s, c) => s + c.ts.length, 0);
  if (n === 0) return { files: [], rows: 0 };
  const maps = mapChunks(chunks, names);
  await loadZstd();
  const { laid, groups, bounds } = layOut(chunks, names, maps, n);
  const files: string[] = [];
  for (let g = 0; g < groups.length; g++) {
    const lo = bounds[g];
    const hi = bounds[g + 1];
    const part = {
      ts: laid.ts.subarray(lo, hi),
      assetIdx: laid.assetIdx.subarray(lo, hi),
      assets: names.assets.values,
      signalIdx: laid.signalIdx.subarray(lo, hi),
      signals: names.signals.values,
      value: laid.value.subarray(lo, hi),
      quality: laid.quality.subarray(lo, hi),
    };
    const dir = partitionDir(root, names.sites.values[groups[g].site], dateOfDay(groups[g].day));
    const bytes = encodeReadingsFile(part, opts);
    await mkdirDurable(dir);
    const file = join(dir, `part-${uniqueId()}.parquet`);
    await writeFileAtomic(file, bytes, { fsync: opts.fsync });
    files.push(file);
  }
  return { files, rows: n };
}
