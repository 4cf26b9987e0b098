import { join } from 'node:path';
import { MillwrightError } from '../errors/index.ts';
import { DAY_MS, dateOfDay, partitionDir, validatePartitionValue } from './partition.ts';
import { encodeParquet, fileTable, type ParquetWriteOptions } from './parquet.ts';
import { mkdirDurable, uniqueId, writeFileAtomic } from '../durable/index.ts';
import { rankOf } from './sort-rows.ts';

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
export interface ReadingChunk {
  ts: Float64Array;
  value: Float64Array;
  /** Missing: every row is 0 (good). */
  quality?: Uint8Array;
  site: Int32Array;
  asset: Int32Array;
  signal: Int32Array;
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

/**
 * Per chunk and kind: chunk id -> store id. Dictionary entries are interned lazily in row order
 * (first use across the chunks, as writeReadings interns strings), so names the rows never use
 * are neither checked nor written, and equal names under different entries become one id.
 */
function mapChunks(chunks: readonly ReadingChunk[], names: StoreNames): Int32Array[][] {
  const maps = chunks.map(() => [new Int32Array(0), new Int32Array(0), new Int32Array(0)]);
  // Kind by kind over all chunks: every site is checked before any asset (writeReadings' order).
  KINDS.forEach((kind, k) => {
    const to = [names.sites, names.assets, names.signals][k];
    let offset = 0;
    chunks.forEach((chunk, c) => {
      const col = chunk[kind];
      const dict = chunk.dict;
      if (!dict) {
        maps[c][k] = Int32Array.from(to.values, (_, i) => i);
        offset += col.length;
        return;
      }
      const map = new Int32Array(dict.length).fill(-1);
      let last = -1;
      for (let i = 0; i < col.length; i++) {
        const e = col[i];
        if (e === last) continue;
        if (!(e >= 0 && e < dict.length)) throw new MillwrightError('BAD_INPUT', `reading ${offset + i}: ${kind} id ${e} is outside the dictionary of ${dict.length} names`);
        if (map[e] < 0) map[e] = to.id(dict[e]);
        last = e;
      }
      maps[c][k] = map;
      offset += col.length;
    });
  });
  return maps;
}

/**
 * The store's one write path (writeReadings, writeEncodedReadings and the spool flush all end
 * here): validates every row, then lays the chunks' rows out in file order with one counting
 * scatter (partition, then asset and signal by name, ties in input order; a comparison sort
 * only for the ranges whose readings arrived out of time order), and writes one Parquet file per
 * (site, UTC date) partition atomically. Reading the chunks in place, not a joined copy, is what
 * lets a flush hand over its segments' bytes without copying them first. Throws BAD_INPUT (and
 * writes nothing) when any reading is invalid.
 */
export async function writeChunks(root: string, chunks: readonly ReadingChunk[], opts: WriteOptions = {}, names: StoreNames = new StoreNames()): Promise<WriteResult> {
  const n = chunks.reduce((s, c) => s + c.ts.length, 0);
  if (n === 0) return { files: [], rows: 0 };
  const maps = mapChunks(chunks, names);
  const { sites, assets, signals } = names;
  const nSignals = signals.values.length;
  const nSeries = assets.values.length * nSignals;
  const assetRank = rankOf(assets.values);
  const signalRank = rankOf(signals.values);

  // Pass 1: validate ts and find each row's partition, (site id, day) interned to a dense group.
  const bucket = new Int32Array(n);
  const groupKeys: { site: number; day: number }[] = [];
  const groupIds = new Map<number, number>();
  let lastKey = NaN;
  let lastGroup = -1;
  let at = 0;
  for (let c = 0; c < chunks.length; c++) {
    const tsIn = chunks[c].ts;
    const siteIn = chunks[c].site;
    const siteMap = maps[c][0];
    for (let i = 0; i < tsIn.length; i++) {
      const t = Math.round(tsIn[i]);
      if (!(t >= MIN_TS && t <= MAX_TS)) {
        throw new MillwrightError('BAD_INPUT', `reading ${at + i}: ts ${tsIn[i]} is not epoch milliseconds between 1900 and 9999`);
      }
      const site = siteMap[siteIn[i]];
      const day = Math.floor(t / DAY_MS);
      const key = site * 4_194_304 + (day + 30_000);
      let g = key === lastKey ? lastGroup : groupIds.get(key);
      if (g === undefined) {
        g = groupKeys.length;
        groupIds.set(key, g);
        groupKeys.push({ site, day });
      }
      lastKey = key;
      lastGroup = g;
      bucket[at + i] = g;
    }
    at += tsIn.length;
  }
  const nGroups = groupKeys.length;

  // Buckets: (group, series) when a counting pass over the series is cheap against the rows,
  // else the group alone and a comparison sort per group. Series key per chunk id, precomposed.
  const bySeries = nSeries * nGroups <= 8 * n + 4096;
  const nBuckets = bySeries ? nSeries * nGroups : nGroups;
  const seriesKeys = chunks.map((_, c) => {
    const [, am, sm] = maps[c];
    // Float64: with many names a series key can pass 2^31 (then only the per-group sort runs).
    return { a: Float64Array.from(am, (id) => (id < 0 ? 0 : assetRank[id] * nSignals)), s: Float64Array.from(sm, (id) => (id < 0 ? 0 : signalRank[id])) };
  });
  const seriesOf = bySeries ? new Float64Array(0) : new Float64Array(n);
  const count = new Int32Array(nBuckets + 1);
  at = 0;
  for (let c = 0; c < chunks.length; c++) {
    const assetIn = chunks[c].asset;
    const signalIn = chunks[c].signal;
    const { a, s } = seriesKeys[c];
    if (bySeries) {
      for (let i = 0; i < assetIn.length; i++) {
        const b = bucket[at + i] * nSeries + a[assetIn[i]] + s[signalIn[i]];
        bucket[at + i] = b;
        count[b + 1]++;
      }
    } else {
      for (let i = 0; i < assetIn.length; i++) {
        seriesOf[at + i] = a[assetIn[i]] + s[signalIn[i]];
        count[bucket[at + i] + 1]++;
      }
    }
    at += assetIn.length;
  }
  for (let b = 0; b < nBuckets; b++) count[b + 1] += count[b];
  const start = count.slice();

  // Pass 2: scatter every row to its place (input order kept inside a bucket).
  const ts = new Float64Array(n);
  const value = new Float64Array(n);
  const quality = new Uint8Array(n);
  const assetIdx = new Int32Array(n);
  const signalIdx = new Int32Array(n);
  const seriesAt = bySeries ? seriesOf : new Float64Array(n);
  at = 0;
  for (let c = 0; c < chunks.length; c++) {
    const { ts: tsIn, value: valueIn, quality: qIn, asset: assetIn, signal: signalIn } = chunks[c];
    const am = maps[c][1];
    const sm = maps[c][2];
    const m = tsIn.length;
    // (Fallback only: buckets are the few groups, so this copy of the cursors is short.)
    if (!bySeries) for (let i = 0, b = count.slice(); i < m; i++) seriesAt[b[bucket[at + i]]++] = seriesOf[at + i];
    for (let i = 0; i < m; i++) {
      const d = count[bucket[at + i]]++;
      ts[d] = Math.round(tsIn[i]);
      value[d] = valueIn[i];
      assetIdx[d] = am[assetIn[i]];
      signalIdx[d] = sm[signalIn[i]];
      if (qIn) quality[d] = qIn[i];
    }
    at += m;
  }

  // Ranges out of order: a series with readings out of time order (bySeries), or a group not
  // in (series, ts) order; sorted stably, ties in input order (= their order in the range).
  const cols = [ts, value, quality, assetIdx, signalIdx];
  for (let b = 0; b < nBuckets; b++) {
    const lo = start[b];
    const hi = start[b + 1];
    if (hi - lo < 2) continue;
    let sorted = true;
    for (let k = lo + 1; k < hi && sorted; k++) {
      sorted = bySeries ? ts[k] >= ts[k - 1] : seriesAt[k] > seriesAt[k - 1] || (seriesAt[k] === seriesAt[k - 1] && ts[k] >= ts[k - 1]);
    }
    if (sorted) continue;
    const idx = Int32Array.from({ length: hi - lo }, (_, k) => lo + k);
    idx.sort(bySeries ? (x, y) => ts[x] - ts[y] || x - y : (x, y) => seriesAt[x] - seriesAt[y] || ts[x] - ts[y] || x - y);
    for (const col of cols) {
      const copy = col.slice(lo, hi);
      for (let k = 0; k < idx.length; k++) col[lo + k] = copy[idx[k] - lo];
    }
  }

  const files: string[] = [];
  for (let g = 0; g < nGroups; g++) {
    const lo = start[bySeries ? g * nSeries : g];
    const hi = start[bySeries ? (g + 1) * nSeries : g + 1];
    const part = {
      ts: ts.subarray(lo, hi),
      assetIdx: assetIdx.subarray(lo, hi),
      assets: assets.values,
      signalIdx: signalIdx.subarray(lo, hi),
      signals: signals.values,
      value: value.subarray(lo, hi),
      quality: quality.subarray(lo, hi),
    };
    const { site, day } = groupKeys[g];
    const dir = partitionDir(root, sites.values[site], dateOfDay(day));
    const bytes = encodeParquet(fileTable(part), opts);
    await mkdirDurable(dir);
    const file = join(dir, `part-${uniqueId()}.parquet`);
    await writeFileAtomic(file, bytes, { fsync: opts.fsync });
    files.push(file);
  }
  return { files, rows: n };
}
