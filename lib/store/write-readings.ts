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
  const n = checkColumns(batch);
  if (n === 0) return { files: [], rows: 0 };
  const names = newInterners();
  const siteId = new Int32Array(n);
  const assetId = new Int32Array(n);
  const signalId = new Int32Array(n);
  // Consecutive rows usually share site and asset (series-major input): skip the Map then.
  for (let i = 0; i < n; i++) {
    const s = batch.site[i];
    siteId[i] = i > 0 && s === batch.site[i - 1] ? siteId[i - 1] : names.sites.id(s);
    const a = batch.asset[i];
    assetId[i] = i > 0 && a === batch.asset[i - 1] ? assetId[i - 1] : names.assets.id(a);
    const sig = batch.signal[i];
    signalId[i] = i > 0 && sig === batch.signal[i - 1] ? signalId[i - 1] : names.signals.id(sig);
  }
  return writeInterned(root, batch, names, siteId, assetId, signalId, opts);
}

/**
 * A batch whose site, asset and signal columns are ids into one dictionary of names (the form
 * spool segments and parsed ingest chunks already have). Ids may repeat names or leave entries
 * unused; only the names the rows use are checked and written.
 */
export interface EncodedReadings {
  ts: Float64Array;
  value: Float64Array;
  quality?: Uint8Array;
  site: Int32Array;
  asset: Int32Array;
  signal: Int32Array;
}

/** Options of {@link writeEncodedReadings}. */
export interface WriteEncodedOptions extends WriteOptions {
  /**
   * The batch's site/asset/signal id columns may be overwritten with the store's own ids (saves
   * a copy of each; for a caller that built the batch for this write and drops it after).
   */
  reuseIds?: boolean;
}

/**
 * {@link writeReadings} for a batch already encoded against a dictionary of names: no string per
 * row is built or compared (each row costs an integer lookup per name column), and the store
 * receives exactly the files `writeReadings` writes for the decoded batch. Throws BAD_INPUT
 * (and writes nothing) when an id is outside the dictionary or any reading is invalid.
 *
 * @example
 * import { writeEncodedReadings } from 'millwright';
 * await writeEncodedReadings('./.millwright/store', {
 *   ts: Float64Array.of(Date.parse('2024-03-01T00:00:00Z'), Date.parse('2024-03-01T00:00:01Z')),
 *   value: Float64Array.of(41.5, 41.7),
 *   site: Int32Array.of(0, 0), asset: Int32Array.of(1, 1), signal: Int32Array.of(2, 2),
 * }, ['plant-1', 'motor-3', 'temperature']); // → { files: [ '/…/date=2024-03-01/part-….parquet' ], rows: 2 }
 */
export async function writeEncodedReadings(root: string, batch: EncodedReadings, dict: readonly string[], opts: WriteEncodedOptions = {}): Promise<WriteResult> {
  const n = checkColumns(batch);
  if (n === 0) return { files: [], rows: 0 };
  const names = newInterners();
  // Dictionary entry -> dense id in first-appearance order (what writeReadings' interning gives),
  // so equal names under different entries become one id and the sort ranks match.
  const remap = (col: Int32Array, to: Interner, kind: string): Int32Array => {
    const lookup = new Int32Array(dict.length).fill(-1);
    const out = opts.reuseIds ? col : new Int32Array(n);
    let last = -1;
    let lastId = -1;
    for (let i = 0; i < n; i++) {
      const e = col[i];
      if (e !== last) {
        if (!(e >= 0 && e < dict.length)) throw new MillwrightError('BAD_INPUT', `reading ${i}: ${kind} id ${e} is outside the dictionary of ${dict.length} names`);
        let id = lookup[e];
        if (id < 0) lookup[e] = id = to.id(dict[e]);
        last = e;
        lastId = id;
      }
      out[i] = lastId;
    }
    return out;
  };
  const siteId = remap(batch.site, names.sites, 'site');
  const assetId = remap(batch.asset, names.assets, 'asset');
  const signalId = remap(batch.signal, names.signals, 'signal');
  return writeInterned(root, batch, names, siteId, assetId, signalId, opts);
}

/** Rows of a batch whose columns all have the length of `ts`; else a BAD_INPUT naming the column. */
function checkColumns(batch: { ts: ArrayLike<number>; site: ArrayLike<unknown>; asset: ArrayLike<unknown>; signal: ArrayLike<unknown>; value: ArrayLike<number>; quality?: Uint8Array }): number {
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

interface Names {
  sites: Interner;
  assets: Interner;
  signals: Interner;
}

function newInterners(): Names {
  return { sites: new Interner((v) => validatePartitionValue('site', v)), assets: new Interner(checkName('asset')), signals: new Interner(checkName('signal')) };
}

async function writeInterned(
  root: string,
  batch: { ts: Float64Array; value: Float64Array; quality?: Uint8Array },
  names: Names,
  siteId: Int32Array,
  assetId: Int32Array,
  signalId: Int32Array,
  opts: WriteOptions,
): Promise<WriteResult> {
  // Columns as locals: the loops below then index typed arrays directly, whatever the shape of
  // the caller's batch object (a ReadingBatch or an EncodedReadings: one call site, two shapes).
  const tsIn = batch.ts;
  const valueIn = batch.value;
  const quality = batch.quality;
  const n = tsIn.length;
  const { sites, assets, signals } = names;
  const ts = new Float64Array(n);
  // Partition of each row: (site id, day) interned to a dense group id.
  const groupOf = new Int32Array(n);
  const groupKeys: { site: number; day: number }[] = [];
  const groupIds = new Map<number, number>();
  let lastKey = NaN;
  let lastGroup = -1;
  for (let i = 0; i < n; i++) {
    const t = Math.round(tsIn[i]);
    if (!(t >= MIN_TS && t <= MAX_TS)) {
      throw new MillwrightError('BAD_INPUT', `reading ${i}: ts ${tsIn[i]} is not epoch milliseconds between 1900 and 9999`);
    }
    ts[i] = t;
    const day = Math.floor(t / DAY_MS);
    const key = siteId[i] * 4_194_304 + (day + 30_000);
    let g = key === lastKey ? lastGroup : groupIds.get(key);
    if (g === undefined) {
      g = groupKeys.length;
      groupIds.set(key, g);
      groupKeys.push({ site: siteId[i], day });
    }
    lastKey = key;
    lastGroup = g;
    groupOf[i] = g;
  }

  const order = sortRows(groupOf, groupKeys.length, assets.sortedRank(), assetId, signals.sortedRank(), signalId, signals.values.length, ts);
  const files: string[] = [];
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
      cols.value[k] = valueIn[r];
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
