import * as arrow from 'apache-arrow';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../errors/index.ts';
import type { StoreFilter } from './filters.ts';
import { planScan, type ScanPlan } from './plan-scan.ts';
import { existsSync } from 'node:fs';
import { isVanished, vanished } from './fd-blob.ts';
import { withConnection, sqlList } from './duckdb.ts';
import { readChunksDuckdb } from './read-chunks-duckdb.ts';
import { planPages, readChunksPages } from './read-chunks-pages.ts';
import { readPagesParallel } from './read-pages-parallel.ts';
import { DictionaryColumn } from './dictionary-column.ts';
import { byteOrderRanks, timeOrderPermutation } from './time-order.ts';
import { StringDictionary } from '../readings/index.ts';
import { readChunks, SCAN_COLUMNS, type Chunk, type ChunkDicts, type ScanColumn } from './read-chunks.ts';

/** Options of {@link scan}, {@link scanTable} and {@link scanStream}. */
export interface ScanOptions extends StoreFilter {
  /** Columns to return, from `ts, site, asset, signal, value, quality` (default: all, in that order). */
  columns?: readonly string[];
  /** A plan from {@link planScan} for the same filter, to avoid planning twice. */
  plan?: ScanPlan;
  /**
   * Parquet decoder for `scan`/`scanTable`/`scanArrays`:
   * - `'auto'` (default): `'pages'` when every planned file suits it (millwright's own files
   *   always do), else `'duckdb'`; `order: 'time'` always reads with DuckDB.
   * - `'pages'`: millwright's page reader in JS (zstd in WebAssembly), which decodes the store's
   *   columns straight into typed arrays, names as dictionary ids (measured 2-3x faster than
   *   DuckDB's hand-over to JS on a 10M-reading full scan, see docs/benchmarks.md); a file it
   *   cannot read (another writer's codec, encoding or types) is an error naming the reason.
   * - `'duckdb'`: native, multi-threaded, reads any Parquet file; rows reach JS 2,048 at a time.
   * - `'parquet-wasm'`: single-threaded WebAssembly, the first reader.
   *
   * All return the same rows in the same order. `scanStream` always uses parquet-wasm.
   */
  reader?: ScanReader;
  /**
   * Row order of `scan`/`scanTable`: `'stored'` (default: file by file, each sorted by asset,
   * signal, ts) or `'time'`: by (ts, asset, signal) across files, ties in stored order (as a
   * stable sort of the stored order would give), sorted by DuckDB. `'time'` needs the duckdb reader.
   */
  order?: 'stored' | 'time';
}

/** Parquet decoder of a scan; see {@link ScanOptions.reader}. */
export type ScanReader = 'auto' | 'pages' | 'duckdb' | 'parquet-wasm';

function scanReader(reader: unknown): ScanReader {
  if (reader === undefined) return 'auto';
  if (reader === 'auto' || reader === 'pages' || reader === 'duckdb' || reader === 'parquet-wasm') return reader;
  throw new MillwrightError('BAD_INPUT', `unknown scan reader ${JSON.stringify(reader)} (expected 'auto', 'pages', 'duckdb' or 'parquet-wasm')`);
}

function scanColumns(columns: readonly string[] | undefined): ScanColumn[] {
  if (columns === undefined) return [...SCAN_COLUMNS];
  const bad = columns.filter((c) => !(SCAN_COLUMNS as readonly string[]).includes(c));
  if (bad.length > 0 || columns.length === 0) {
    throw new MillwrightError('BAD_INPUT', `unknown scan column(s) ${JSON.stringify(bad)} (expected some of ${SCAN_COLUMNS.join(', ')})`);
  }
  return SCAN_COLUMNS.filter((c) => columns.includes(c));
}

const DICT_TYPE = () => new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32());

function field(name: ScanColumn): arrow.Field {
  switch (name) {
    case 'ts':
      return new arrow.Field('ts', new arrow.TimestampMillisecond('UTC'), false);
    case 'value':
      return new arrow.Field('value', new arrow.Float64(), false);
    case 'quality':
      return new arrow.Field('quality', new arrow.Uint8(), false);
    default:
      return new arrow.Field(name, DICT_TYPE(), false);
  }
}

function toRecordBatch(schema: arrow.Schema, chunk: Chunk, dicts: ChunkDicts): arrow.RecordBatch {
  const children = schema.fields.map((f) => {
    const name = f.name as ScanColumn;
    if (name === 'ts') return arrow.makeData({ type: f.type as arrow.TimestampMillisecond, length: chunk.length, data: chunk.ts! });
    if (name === 'value') return arrow.makeData({ type: f.type as arrow.Float64, length: chunk.length, data: chunk.value! });
    if (name === 'quality') return arrow.makeData({ type: f.type as arrow.Uint8, length: chunk.length, data: chunk.quality! });
    const dictionary = arrow.vectorFromArray(dicts[name].values, new arrow.Utf8());
    const indices = name === 'site' ? new Int32Array(chunk.length).fill(chunk.siteId) : chunk[name]!;
    return arrow.makeData({ type: f.type as arrow.Dictionary<arrow.Utf8, arrow.Int32>, length: chunk.length, data: indices, dictionary });
  });
  const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: chunk.length, children });
  return new arrow.RecordBatch(schema, struct);
}

function newDicts(): ChunkDicts {
  return { site: new StringDictionary(), asset: new StringDictionary(), signal: new StringDictionary() };
}

/**
 * Streams readings as Arrow record batches (up to ~0.5M rows each), for data larger than memory.
 * Partitions are pruned by path and row groups by statistics; rows are filtered exactly. The
 * string columns are dictionary-encoded with one dictionary that only grows during the stream
 * (each batch's dictionary extends the previous one's). A concurrent `compact` can delete a file
 * before the stream reaches it: the stream then fails with a CONFLICT error (scan and scanTable
 * retry from a fresh plan instead).
 *
 * @example
 * for await (const batch of scanStream({ root, sites: 'plant-1', columns: ['ts', 'value'] })) {
 *   total += batch.numRows;
 * }
 */
export async function* scanStream(opts: ScanOptions): AsyncGenerator<arrow.RecordBatch> {
  const columns = scanColumns(opts.columns);
  const plan = opts.plan ?? (await planScan(opts));
  const schema = new arrow.Schema(columns.map(field));
  const dicts = newDicts();
  for await (const chunk of readChunks(plan, columns, dicts, { tsInt64: true })) yield toRecordBatch(schema, chunk, dicts);
}

/**
 * Reads readings into one Arrow table: `ts` (timestamp ms UTC), `site`, `asset`, `signal`
 * (dictionary-encoded, one dictionary per column), `value` (float64), `quality` (uint8).
 * Rows come file by file, each sorted by (asset, signal, ts); `from` is inclusive, `to` exclusive.
 *
 * @example
 * const t = await scan({ root: './.millwright/store', assets: ['motor-3'], from: '2024-03-01', to: '2024-03-02' });
 * t.numRows;
 */
export async function scan(opts: ScanOptions): Promise<arrow.Table> {
  const columns = scanColumns(opts.columns);
  const schema = new arrow.Schema(columns.map(field));
  const { chunks, dicts } = await collect(opts, columns, true);
  // Batches are built at the end so they all share the final dictionaries (arquero and IPC
  // writers expect one dictionary per column).
  if (chunks.length === 0) return new arrow.Table(schema, [toRecordBatch(schema, emptyChunk(columns), dicts)]);
  return new arrow.Table(schema, chunks.map((c) => toRecordBatch(schema, c, dicts)));
}

/** The chunk reader the options name, and whether it reads in time order (DuckDB only). */
function chunkReader(opts: ScanOptions): { read: typeof readChunksDuckdb | typeof readChunks; timeOrder: boolean } {
  const reader = scanReader(opts.reader);
  const timeOrder = opts.order === 'time';
  if (opts.order !== undefined && opts.order !== 'stored' && !timeOrder) throw new MillwrightError('BAD_INPUT', `unknown scan order ${JSON.stringify(opts.order)} (expected 'stored' or 'time')`);
  if (timeOrder && reader !== 'duckdb' && reader !== 'auto') throw new MillwrightError('BAD_INPUT', `scan order 'time' needs the duckdb reader (${reader} reads in stored order only)`);
  if (reader === 'parquet-wasm') return { read: readChunks, timeOrder };
  if (reader === 'duckdb' || timeOrder) return { read: readChunksDuckdb, timeOrder };
  return { read: reader === 'pages' ? readPagesOnly : readPagesOrDuckdb, timeOrder };
}

/** The page reader when every planned file suits it, else DuckDB (`reader: 'auto'`). */
async function* readPagesOrDuckdb(...args: Parameters<typeof readChunksDuckdb>): AsyncGenerator<Chunk> {
  const [plan, columns, dicts, opts] = args;
  const pages = await planPages(plan, columns);
  if ('unsupported' in pages) yield* readChunksDuckdb(...args);
  else yield* readChunksPages(plan, columns, dicts, pages, opts);
}

/** The page reader, or an error saying which file it cannot read and why (`reader: 'pages'`). */
async function* readPagesOnly(...args: Parameters<typeof readChunksDuckdb>): AsyncGenerator<Chunk> {
  const [plan, columns, dicts, opts] = args;
  const pages = await planPages(plan, columns);
  if ('unsupported' in pages) throw new MillwrightError('BAD_INPUT', `the pages reader cannot read ${pages.unsupported}; scan with reader 'duckdb' (or 'auto')`);
  yield* readChunksPages(plan, columns, dicts, pages, opts);
}

/**
 * Plans and reads every chunk. A file deleted under us by a concurrent `compact` (whose merged
 * replacement is already in place) makes the whole read start over from a fresh plan, so the
 * result never misses or double-counts those readings.
 */
async function collect(opts: ScanOptions, columns: readonly ScanColumn[], tsInt64: boolean): Promise<{ chunks: Chunk[]; dicts: ChunkDicts }> {
  const { read, timeOrder } = chunkReader(opts);
  for (let attempt = 0; ; attempt++) {
    try {
      const plan = attempt === 0 && opts.plan ? opts.plan : await planScan(opts);
      const dicts = newDicts();
      const chunks: Chunk[] = [];
      for await (const chunk of read(plan, columns, dicts, { tsInt64, timeOrder })) chunks.push(chunk);
      return { chunks, dicts };
    } catch (err) {
      if (!isVanished(err) || attempt >= 4) throw err;
    }
  }
}

function emptyChunk(columns: readonly ScanColumn[]): Chunk {
  const c: Chunk = { length: 0, siteId: 0 };
  for (const name of columns) {
    if (name === 'ts') c.ts = new BigInt64Array(0);
    else if (name === 'value') c.value = new Float64Array(0);
    else if (name === 'quality') c.quality = new Uint8Array(0);
    else if (name !== 'site') c[name] = new Int32Array(0);
  }
  return c;
}

/**
 * Like {@link scan} but returns an arquero table with `ts` and `value` as Float64Arrays (`ts` in
 * epoch ms), `quality` as a Uint8Array and the name columns (site from the partition path) as
 * dictionary-encoded string columns: every verb, `objects()`, `array()` and `get()` see strings,
 * but no string is stored per row. Ready for arquero verbs, {@link resample} and Observable Plot.
 *
 * @example
 * const dt = await scanTable({ root, sites: 'plant-1', signals: ['temperature'] });
 * dt.groupby('asset').rollup({ max: aq.op.max('value') });
 */
export async function scanTable(opts: ScanOptions): Promise<ColumnTable> {
  const columns = scanColumns(opts.columns);
  const { read, timeOrder } = chunkReader(opts);
  for (let attempt = 0; ; attempt++) {
    try {
      const plan = attempt === 0 && opts.plan ? opts.plan : await planScan(opts);
      const dicts = newDicts();
      // A large unfiltered scan of files the pages reader reads: decoded on two threads.
      const reader = scanReader(opts.reader);
      const whole = !timeOrder && (reader === 'auto' || reader === 'pages') ? await readPagesParallel(plan, columns, dicts) : undefined;
      if (whole) return tableOf(columns, whole.columns, dicts);
      // Output columns sized once from the files' row counts: each chunk is copied straight into
      // them (the DuckDB reader's chunks are reused views), no list of chunks to concatenate.
      const sink = new TableSink(columns, await rowBound(plan));
      for await (const chunk of read(plan, columns, dicts, { tsInt64: false, reuse: true, timeOrder })) sink.push(chunk);
      return sink.table(dicts);
    } catch (err) {
      if (!isVanished(err) || attempt >= 4) throw err;
    }
  }
}

/** Rows the plan can return at most: from the planner's row-group counts, else from the footers. */
async function rowBound(plan: ScanPlan): Promise<number> {
  if (plan.files.every((f) => f.rows !== undefined)) return plan.files.reduce((n, f) => n + f.rows!, 0);
  const paths = plan.files.map((f) => f.path);
  try {
    return await withConnection(async (conn) => {
      const r = await conn.runAndReadAll(`SELECT coalesce(sum(num_rows), 0)::DOUBLE FROM parquet_file_metadata(${sqlList(paths)})`);
      return Number(r.getRowsJS()[0][0]);
    });
  } catch (err) {
    const gone = paths.find((p) => !existsSync(p));
    if (gone) throw vanished(gone, err);
    throw err;
  }
}

/** scanTable's output columns, filled chunk by chunk (grown by doubling should a bound be short). */
class TableSink {
  length = 0;
  private ts?: Float64Array;
  private value?: Float64Array;
  private quality?: Uint8Array;
  private site?: Int32Array;
  private asset?: Int32Array;
  private signal?: Int32Array;

  constructor(
    private readonly columns: readonly ScanColumn[],
    private capacity: number,
  ) {
    for (const name of columns) this.alloc(name, capacity);
  }

  private alloc(name: ScanColumn, n: number): void {
    const Ctor = name === 'ts' || name === 'value' ? Float64Array : name === 'quality' ? Uint8Array : Int32Array;
    const next = new Ctor(n);
    const old = this[name];
    if (old) next.set(old.subarray(0, this.length) as never);
    (this as Record<ScanColumn, typeof next | undefined>)[name] = next;
  }

  push(c: Chunk): void {
    if (this.length + c.length > this.capacity) {
      this.capacity = Math.max(2 * this.capacity, this.length + c.length);
      for (const name of this.columns) this.alloc(name, this.capacity);
    }
    const at = this.length;
    if (this.ts) this.ts.set(c.tsMs!, at);
    if (this.value) this.value.set(c.value!, at);
    if (this.quality) this.quality.set(c.quality!, at);
    if (this.site) this.site.fill(c.siteId, at, at + c.length);
    if (this.asset) this.asset.set(c.asset!, at);
    if (this.signal) this.signal.set(c.signal!, at);
    this.length += c.length;
  }

  /** Each column cut to the rows pushed (copied when the bound was much larger: a selective filter inside kept row groups, to free the rest). */
  columnsFitted(): Partial<Record<ScanColumn, Float64Array | Int32Array | Uint8Array>> {
    const n = this.length;
    const fit = <T extends Float64Array | Int32Array | Uint8Array>(a: T): T => (n < a.length / 2 ? (a.slice(0, n) as T) : (a.subarray(0, n) as T));
    const out: Partial<Record<ScanColumn, Float64Array | Int32Array | Uint8Array>> = {};
    for (const name of this.columns) out[name] = fit(this[name]!);
    return out;
  }

  /** The arquero table; name columns dictionary-encoded with the scan's dictionaries. */
  table(dicts: ChunkDicts): ColumnTable {
    return tableOf(this.columns, this.columnsFitted(), dicts);
  }
}

/** An arquero table of whole columns; name columns (scan-wide ids) dictionary-encoded with the scan's dictionaries. */
function tableOf(columns: readonly ScanColumn[], cols: Partial<Record<ScanColumn, Float64Array | Int32Array | Uint8Array>>, dicts: ChunkDicts): ColumnTable {
  const data: Record<string, Float64Array | Uint8Array | DictionaryColumn> = {};
  for (const name of columns) {
    if (name === 'ts' || name === 'value' || name === 'quality') data[name] = cols[name] as Float64Array | Uint8Array;
    else data[name] = new DictionaryColumn(cols[name] as Int32Array, dicts[name].values);
  }
  return aq.table(data);
}

/** The columns of {@link scanArrays}: those asked for, each one plain array of `length` rows. */
export interface ScanArrays {
  length: number;
  ts?: Float64Array;
  site?: string[];
  asset?: string[];
  signal?: string[];
  value?: Float64Array;
  quality?: Uint8Array;
  /** With `codes: true`: asset and signal as indices into `assets` / `signals` instead of strings. */
  assetCode?: Int32Array;
  signalCode?: Int32Array;
  assets?: readonly string[];
  signals?: readonly string[];
}

/**
 * The rows of {@link scanTable} as plain columns (ts epoch ms and value as Float64Array, quality
 * as Uint8Array, strings as arrays), without building an arquero table: for code that walks every
 * row, where reading the table's columns back would copy each of them once more. With `codes:
 * true`, asset and signal come as Int32Array codes into their dictionaries (`assetCode`, `assets`).
 * With `enumNames: true` (duckdb reader), DuckDB hands the names over as ENUM codes: one DISTINCT
 * query more, but no name decoded in JS, where a stored-order read decodes every row of a name
 * longer than the 12 bytes DuckDB inlines (time order always reads them so).
 *
 * @example
 * import { scanArrays } from 'millwright';
 * const c = await scanArrays({ root, sites: 'plant-1', columns: ['ts', 'asset', 'signal', 'value'], order: 'time' });
 * for (let i = 0; i < c.length; i++) use(c.ts![i], c.asset![i], c.value![i]);
 */
export async function scanArrays(opts: ScanOptions & { codes?: boolean; enumNames?: boolean }): Promise<ScanArrays> {
  const columns = scanColumns(opts.columns);
  if (opts.order === 'time' && columns.includes('ts')) {
    chunkReader(opts); // the same checks as a DuckDB-sorted read
    return timeOrdered(opts, columns);
  }
  return readArrays(opts, columns, opts.enumNames === true);
}

/**
 * scanArrays in the reader's order; `enumNames`: names as DuckDB ENUM codes (see read-chunks-duckdb.ts).
 * Chunks are copied straight into the output columns (the DuckDB reader's chunks are reused views,
 * sized from the plan's row counts when known): no list of chunks to concatenate, half the garbage.
 */
async function readArrays(opts: ScanOptions & { codes?: boolean }, columns: readonly ScanColumn[], enumNames: boolean): Promise<ScanArrays> {
  const { read, timeOrder } = chunkReader(opts);
  for (let attempt = 0; ; attempt++) {
    try {
      const plan = attempt === 0 && opts.plan ? opts.plan : await planScan(opts);
      const dicts = newDicts();
      const known = plan.files.every((f) => f.rows !== undefined);
      const sink = new TableSink(columns, known ? plan.files.reduce((n, f) => n + f.rows!, 0) : 1 << 16);
      for await (const chunk of read(plan, columns, dicts, { tsInt64: false, reuse: true, timeOrder, enumNames })) sink.push(chunk);
      return arraysOf(sink, columns, dicts, opts.codes === true, opts.order === 'time');
    } catch (err) {
      if (!isVanished(err) || attempt >= 4) throw err;
    }
  }
}

/** The sink's columns as {@link ScanArrays}: names as codes or strings. */
function arraysOf(sink: TableSink, columns: readonly ScanColumn[], dicts: ChunkDicts, codes: boolean, timeOrder: boolean): ScanArrays {
  const total = sink.length;
  const cols = sink.columnsFitted();
  const data: Record<string, Float64Array | Uint8Array | Int32Array | readonly string[]> = {};
  for (const name of columns) {
    if (name === 'ts' || name === 'value' || name === 'quality') {
      data[name] = cols[name]!;
      continue;
    }
    const values = dicts[name].values;
    const idx = cols[name]! as Int32Array;
    if (codes && name !== 'site') {
      data[name === 'asset' ? 'assetCode' : 'signalCode'] = idx;
      data[name === 'asset' ? 'assets' : 'signals'] = values;
      continue;
    }
    const out = new Array<string>(total);
    // Stored rows are sorted by asset then signal (and the site is the file's), so ids come in
    // long runs: fill run by run. Names in time order change at every row: one by one.
    if (timeOrder && name !== 'site') for (let i = 0; i < total; i++) out[i] = values[idx[i]!]!;
    else for (let i = 0; i < total; ) {
      const id = idx[i]!;
      let j = i + 1;
      while (j < total && idx[j] === id) j++;
      out.fill(values[id]!, i, j);
      i = j;
    }
    data[name] = out;
  }
  return { ...(data as Omit<ScanArrays, 'length'>), length: total };
}

/**
 * scanArrays in time order: read in stored order (no sort in DuckDB), then put in time order by counting passes
 * (see time-order.ts). Same rows in the same order as DuckDB's `ORDER BY ts, asset, signal, file,
 * row` (tested against it).
 */
async function timeOrdered(opts: ScanOptions & { codes?: boolean }, columns: readonly ScanColumn[]): Promise<ScanArrays> {
  const read = [...new Set<ScanColumn>([...columns, 'ts', 'asset', 'signal'])];
  // Names as ENUM codes: in stored order they are decoded per row when longer than DuckDB's 12 inlined bytes.
  const c = await readArrays({ ...opts, order: 'stored', codes: true, columns: read }, read, true);
  const order = timeOrderPermutation(c.ts!, c.assetCode!, c.signalCode!, byteOrderRanks(c.assets!), byteOrderRanks(c.signals!));
  const gather = <T extends Float64Array | Int32Array | Uint8Array>(a: T): T => {
    const out = new (a.constructor as new (n: number) => T)(order.length);
    for (let i = 0; i < order.length; i++) out[i] = a[order[i]!]!;
    return out;
  };
  const out: ScanArrays = { length: c.length };
  for (const name of columns) {
    if (name === 'ts' || name === 'value') out[name] = gather(c[name]!);
    else if (name === 'quality') out.quality = gather(c.quality!);
    else if (name === 'site') out.site = Array.from(order, (i) => c.site![i]!);
    else {
      const codes = gather(name === 'asset' ? c.assetCode! : c.signalCode!);
      const dict = name === 'asset' ? c.assets! : c.signals!;
      if (opts.codes) Object.assign(out, name === 'asset' ? { assetCode: codes, assets: dict } : { signalCode: codes, signals: dict });
      else out[name] = Array.from(codes, (k) => dict[k]!);
    }
  }
  return out;
}
