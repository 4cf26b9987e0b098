import { join } from 'node:path';
import type { ReadingBatch } from '../readings/index.ts';
import { MillwrightError } from '../errors/index.ts';
import { DAY_MS, dateOfDay, partitionDir, validatePartitionValue } from './partition.ts';
import { encodeParquet, fileTable, type ParquetWriteOptions } from './parquet.ts';
import { mkdirDurable, uniqueId, writeFileAtomic } from '../durable/index.ts';
import { rankOf, sortRows } from './sort-rows.ts';

/** Options of {@link writeReadings}. */
export interface WriteOptions extends ParquetWriteOptions {
  /**
   * fsync each file and its directory (default true). Only turn off for throwaway stores
   * (benchmarks of the encoder); without it a crash can lose acknowledged readings.
   */
  fsync?: boolean;
}

/** What {@link writeReadings} wrote. */
export interface WriteResult {
  /** Absolute paths of the new files, one per touched (site, date) partition. */
  files: string[];
  /** Readings written. */
  rows: number;
}

// Readings outside 1900..9999 are almost certainly unit mistakes (seconds vs ms, µs).
const MIN_TS = Date.UTC(1900, 0, 1);
const MAX_TS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Interns strings to dense ids; `sortedRank` gives each id its lexicographic rank. */
class Interner {
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
  sortedRank(): Int32Array {
    return rankOf(this.values);
  }
}

function checkName(kind: string) {
  return (v: unknown): void => {
    if (typeof v !== 'string' || v.length === 0) {
      throw new MillwrightError('BAD_INPUT', `${kind} must be a non-empty string, got ${JSON.stringify(v)}`);
    }
  };
}

/**
 * Writes a batch of readings into the store: one new Parquet file per touched (site, UTC date)
 * partition, rows sorted by (asset, signal, ts), zstd, row-group statistics. Each file is written
 * atomically (hidden temp file in the partition directory, fsync, rename to
 * `part-<id>.parquet`, fsync the directory), so a crash leaves each file whole or absent.
 * Timestamps are rounded to whole milliseconds; a missing `quality` is stored as 0 (good).
 * Throws BAD_INPUT (and writes nothing) when any reading is invalid.
 *
 * @example
 * await writeReadings('./.millwright/store', {
 *   ts: Float64Array.of(Date.parse('2024-03-01T00:00:00Z')), site: ['plant-1'], asset: ['motor-3'],
 *   signal: ['temperature'], value: Float64Array.of(41.5),
 * }); // → { files: ['/…/site=plant-1/date=2024-03-01/part-….parquet'], rows: 1 }
 */
export async function writeReadings(root: string, batch: ReadingBatch, opts: WriteOptions = {}): Promise<WriteResult> {
  const n = batch.ts.length;
  for (const key of ['site', 'asset', 'signal', 'value'] as const) {
    if (batch[key].length !== n) {
      throw new MillwrightError('BAD_INPUT', `batch column "${key}" has ${batch[key].length} entries, expected ${n} (the length of "ts")`);
    }
  }
  if (batch.quality !== undefined && batch.quality.length !== n) {
    throw new MillwrightError('BAD_INPUT', `batch column "quality" has ${batch.quality.length} entries, expected ${n}`);
  }
  if (n === 0) return { files: [], rows: 0 };

  const sites = new Interner((v) => validatePartitionValue('site', v));
  const assets = new Interner(checkName('asset'));
  const signals = new Interner(checkName('signal'));
  const assetId = new Int32Array(n);
  const signalId = new Int32Array(n);
  const ts = new Float64Array(n);
  // Partition of each row: (site id, day) interned to a dense group id.
  const groupOf = new Int32Array(n);
  const groupKeys: { site: number; day: number }[] = [];
  const groupIds = new Map<number, number>();
  let lastSite = '';
  let lastSiteId = -1;
  let lastKey = NaN;
  let lastGroup = -1;
  for (let i = 0; i < n; i++) {
    const t = Math.round(batch.ts[i]);
    if (!(t >= MIN_TS && t <= MAX_TS)) {
      throw new MillwrightError('BAD_INPUT', `reading ${i}: ts ${batch.ts[i]} is not epoch milliseconds between 1900 and 9999`);
    }
    ts[i] = t;
    const s = batch.site[i];
    const siteId = s === lastSite && lastSiteId >= 0 ? lastSiteId : sites.id(s);
    lastSite = s;
    lastSiteId = siteId;
    // Consecutive rows usually share asset (series-major input) or at least site: skip the Map then.
    const a = batch.asset[i];
    assetId[i] = i > 0 && a === batch.asset[i - 1] ? assetId[i - 1] : assets.id(a);
    const sig = batch.signal[i];
    signalId[i] = i > 0 && sig === batch.signal[i - 1] ? signalId[i - 1] : signals.id(sig);
    const day = Math.floor(t / DAY_MS);
    const key = siteId * 4_194_304 + (day + 30_000);
    let g = key === lastKey ? lastGroup : groupIds.get(key);
    if (g === undefined) {
      g = groupKeys.length;
      groupIds.set(key, g);
      groupKeys.push({ site: siteId, day });
    }
    lastKey = key;
    lastGroup = g;
    groupOf[i] = g;
  }

  return writeInterned(root, { n, ts, value: batch.value, quality: batch.quality, assets, assetId, signals, signalId, sites, groupOf, groupKeys }, opts);
}

/**
 * {@link writeReadings} for readings whose names are already ids into one dictionary (what the
 * CSV and NDJSON parsers produce): no string per row is made or compared. The same rows give the
 * same files as `writeReadings` of the decoded batch (names are interned in the same order, every
 * name used is validated the same way, the first bad reading throws the same error).
 *
 * @example
 * // ids 0..2 into one dictionary of names
 * await writeEncodedReadings('./.millwright/store', {
 *   ts: Float64Array.of(Date.parse('2024-03-01T00:00:00Z')), site: Int32Array.of(0), asset: Int32Array.of(1),
 *   signal: Int32Array.of(2), value: Float64Array.of(41.5),
 * }, ['plant-1', 'motor-3', 'temperature']);
 */
export async function writeEncodedReadings(
  root: string,
  batch: { ts: Float64Array; value: Float64Array; quality?: Uint8Array; site: Int32Array; asset: Int32Array; signal: Int32Array },
  names: readonly string[],
  opts: WriteOptions = {},
): Promise<WriteResult> {
  const n = batch.ts.length;
  for (const key of ['site', 'asset', 'signal', 'value'] as const) {
    if (batch[key].length !== n) {
      throw new MillwrightError('BAD_INPUT', `batch column "${key}" has ${batch[key].length} entries, expected ${n} (the length of "ts")`);
    }
  }
  if (batch.quality !== undefined && batch.quality.length !== n) {
    throw new MillwrightError('BAD_INPUT', `batch column "quality" has ${batch.quality.length} entries, expected ${n}`);
  }
  if (n === 0) return { files: [], rows: 0 };

  const sites = new Interner((v) => validatePartitionValue('site', v));
  const assets = new Interner(checkName('asset'));
  const signals = new Interner(checkName('signal'));
  // Dictionary id -> this batch's id (-1: not seen yet), per name column.
  const siteOf = new Int32Array(names.length).fill(-1);
  const assetOf = new Int32Array(names.length).fill(-1);
  const signalOf = new Int32Array(names.length).fill(-1);
  const assetId = new Int32Array(n);
  const signalId = new Int32Array(n);
  const ts = new Float64Array(n);
  const groupOf = new Int32Array(n);
  const groupKeys: { site: number; day: number }[] = [];
  const groupIds = new Map<number, number>();
  let lastKey = NaN;
  let lastGroup = -1;
  for (let i = 0; i < n; i++) {
    const t = Math.round(batch.ts[i]);
    if (!(t >= MIN_TS && t <= MAX_TS)) {
      throw new MillwrightError('BAD_INPUT', `reading ${i}: ts ${batch.ts[i]} is not epoch milliseconds between 1900 and 9999`);
    }
    ts[i] = t;
    const s = batch.site[i];
    let siteId = siteOf[s];
    if (siteId < 0) siteId = siteOf[s] = sites.id(names[s]);
    const a = batch.asset[i];
    let aid = assetOf[a];
    if (aid < 0) aid = assetOf[a] = assets.id(names[a]);
    assetId[i] = aid;
    const g = batch.signal[i];
    let gid = signalOf[g];
    if (gid < 0) gid = signalOf[g] = signals.id(names[g]);
    signalId[i] = gid;
    const day = Math.floor(t / DAY_MS);
    const key = siteId * 4_194_304 + (day + 30_000);
    let grp = key === lastKey ? lastGroup : groupIds.get(key);
    if (grp === undefined) {
      grp = groupKeys.length;
      groupIds.set(key, grp);
      groupKeys.push({ site: siteId, day });
    }
    lastKey = key;
    lastGroup = grp;
    groupOf[i] = grp;
  }
  return writeInterned(root, { n, ts, value: batch.value, quality: batch.quality, assets, assetId, signals, signalId, sites, groupOf, groupKeys }, opts);
}

/** Interned readings of one batch, ready to sort and write. */
interface Interned {
  n: number;
  ts: Float64Array;
  value: Float64Array;
  quality?: Uint8Array;
  assets: Interner;
  assetId: Int32Array;
  signals: Interner;
  signalId: Int32Array;
  sites: Interner;
  groupOf: Int32Array;
  groupKeys: { site: number; day: number }[];
}

/** Sorts each (site, date) group by (asset, signal, ts) and writes it as one atomic file. */
async function writeInterned(root: string, it: Interned, opts: WriteOptions): Promise<WriteResult> {
  const { n, ts, assets, assetId, signals, signalId, sites, groupOf, groupKeys } = it;
  const batch = { value: it.value };
  const order = sortRows(groupOf, groupKeys.length, assets.sortedRank(), assetId, signals.sortedRank(), signalId, signals.values.length, ts);
  const files: string[] = [];
  const quality = it.quality;
  for (let g = 0; g < groupKeys.length; g++) {
    const rows = order.groups[g];
    const m = rows.length;
    const cols = {
      ts: new Float64Array(m),
      assetIdx: new Int32Array(m),
      assets: assets.values,
      signalIdx: new Int32Array(m),
      signals: signals.values,
      value: new Float64Array(m),
      quality: new Uint8Array(m),
    };
    for (let k = 0; k < m; k++) {
      const r = rows[k];
      cols.ts[k] = ts[r];
      cols.assetIdx[k] = assetId[r];
      cols.signalIdx[k] = signalId[r];
      cols.value[k] = batch.value[r];
      if (quality) cols.quality[k] = quality[r];
    }
    const { site, day } = groupKeys[g];
    const dir = partitionDir(root, sites.values[site], dateOfDay(day));
    const bytes = encodeParquet(fileTable(cols), opts);
    await mkdirDurable(dir);
    const file = join(dir, `part-${uniqueId()}.parquet`);
    await writeFileAtomic(file, bytes, { fsync: opts.fsync });
    files.push(file);
  }
  return { files, rows: n };
}
