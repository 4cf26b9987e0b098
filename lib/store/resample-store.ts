import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../errors/index.ts';
import type { DuckDBVector } from '@duckdb/node-api';
import { withConnection, readParquetSql, sqlList } from './duckdb.ts';
import { listFiles } from './list-files.ts';
import { normalFilter, type StoreFilter } from './filters.ts';
import { parseEvery } from './every.ts';
import { DEFAULT_AGGS, RESAMPLE_AGGS, type ResampleAgg } from './resample.ts';

/** Options of {@link resampleStore}: a store filter plus the bucket width and aggregates. */
export interface ResampleStoreOptions extends StoreFilter {
  /** Bucket width (default `'1m'`), see {@link resample}. */
  every?: string | number;
  /** Aggregates (default `['mean', 'min', 'max', 'count', 'last']`). */
  aggs?: readonly ResampleAgg[];
}

const AGG_SQL: Record<ResampleAgg, string> = {
  mean: 'avg(value)',
  min: 'min(value)',
  max: 'max(value)',
  count: 'count(value)',
  last: 'arg_max(value, ts)',
  first: 'arg_min(value, ts)',
  sum: 'sum(value)',
};

/**
 * The aggregation {@link resampleStore} runs, as one SELECT (exported so benchmarks and curious
 * users can see it). NaN/NULL values are filtered out first, as in {@link resample}.
 */
export function resampleSql(files: readonly string[], opts: ResampleStoreOptions): string {
  const f = normalFilter(opts);
  const every = parseEvery(opts.every ?? '1m');
  const aggs = checkAggs(opts.aggs ?? DEFAULT_AGGS);
  const where = ['value IS NOT NULL', 'NOT isnan(value)'];
  if (f.sites) where.push(`site IN (SELECT unnest(${sqlList([...f.sites])}))`);
  if (f.assets) where.push(`asset IN (SELECT unnest(${sqlList([...f.assets])}))`);
  if (f.signals) where.push(`signal IN (SELECT unnest(${sqlList([...f.signals])}))`);
  if (f.from !== undefined) where.push(`ts >= epoch_ms(${Math.ceil(f.from)}::BIGINT)::TIMESTAMPTZ`);
  if (f.to !== undefined) where.push(`ts < epoch_ms(${Math.ceil(f.to)}::BIGINT)::TIMESTAMPTZ`);
  const cols = aggs.map((a) => `${AGG_SQL[a]} AS "${a}"`).join(', ');
  return `SELECT site, asset, signal, (epoch_ms(ts) // ${every}) * ${every} AS ts, ${cols}
    FROM ${readParquetSql(files)} WHERE ${where.join(' AND ')} GROUP BY ALL`;
}

function checkAggs(aggs: readonly ResampleAgg[]): readonly ResampleAgg[] {
  const bad = aggs.filter((a) => !(RESAMPLE_AGGS as readonly string[]).includes(a));
  if (bad.length > 0 || aggs.length === 0) {
    throw new MillwrightError('BAD_INPUT', `unknown aggregate(s) ${JSON.stringify(bad)} (expected some of ${RESAMPLE_AGGS.join(', ')})`);
  }
  return aggs;
}

/** Copies a numeric result column out of DuckDB chunks (typed-array fast path, getItem fallback). */
function readNumbers(vector: DuckDBVector, out: Float64Array, offset: number, n: number): void {
  const items = (vector as unknown as { items?: unknown }).items;
  if (items instanceof Float64Array || items instanceof Int32Array) {
    out.set(items.subarray(0, n), offset);
    return;
  }
  for (let i = 0; i < n; i++) {
    const v = vector.getItem(i);
    out[offset + i] = v === null ? NaN : Number(v);
  }
}

/**
 * {@link resample} pushed down to DuckDB: reads and aggregates the store's Parquet files in
 * DuckDB's parallel engine and returns only the buckets, with the same columns and semantics as
 * `resample(await scanTable(...))` (gaps stay gaps, NaN skipped, sorted by site, asset, signal,
 * ts). Much faster on large ranges: the raw readings never enter JavaScript, and the buckets come
 * back as numeric columns plus a small series dictionary.
 *
 * @example
 * const perMinute = await resampleStore({ root, sites: 'plant-1', from: '2024-03-01', to: '2024-03-08', every: '1m' });
 */
export async function resampleStore(opts: ResampleStoreOptions): Promise<ColumnTable> {
  const f = normalFilter(opts);
  const aggs = checkAggs(opts.aggs ?? DEFAULT_AGGS);
  const { files } = await listFiles(f);
  const select = files.length === 0 ? undefined : resampleSql(files.map((x) => x.path), opts);
  if (select === undefined) {
    parseEvery(opts.every ?? '1m');
    const empty: Record<string, unknown[]> = { site: [], asset: [], signal: [], ts: [] };
    for (const a of aggs) empty[a] = [];
    return aq.table(empty);
  }
  return withConnection(async (conn) => {
    await conn.run(`CREATE TEMP TABLE buckets AS ${select}`);
    // Series dictionary (small), then the buckets as numbers only: no string per bucket crosses into JS.
    await conn.run(`CREATE TEMP TABLE series AS SELECT site, asset, signal, (row_number() OVER (ORDER BY site, asset, signal) - 1)::INTEGER AS sid
      FROM (SELECT DISTINCT site, asset, signal FROM buckets)`);
    const keys = (await conn.runAndReadAll('SELECT site, asset, signal FROM series ORDER BY sid')).getRowsJS() as string[][];
    const numeric = ['sid', 'ts', ...aggs].map((c) => (c === 'sid' ? 's.sid' : `b."${c}"::DOUBLE`)).join(', ');
    const result = await conn.run(`SELECT ${numeric} FROM buckets b JOIN series s USING (site, asset, signal) ORDER BY s.sid, b.ts`);
    const n = Number((await conn.runAndReadAll('SELECT count(*) FROM buckets')).getRowsJS()[0][0]);
    const sid = new Int32Array(n);
    // ts then the aggregates; none is NULL (groups exist only where values do).
    const numericCols = [0, ...aggs].map(() => new Float64Array(n));
    let off = 0;
    for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      const m = chunk.rowCount;
      const sidVec = chunk.getColumnVector(0);
      const items = (sidVec as unknown as { items?: unknown }).items;
      if (items instanceof Int32Array) sid.set(items.subarray(0, m), off);
      else for (let i = 0; i < m; i++) sid[off + i] = Number(sidVec.getItem(i));
      for (let c = 0; c < numericCols.length; c++) readNumbers(chunk.getColumnVector(c + 1), numericCols[c], off, m);
      off += m;
    }
    const data: Record<string, unknown[] | Float64Array> = {};
    for (const [k, name] of ['site', 'asset', 'signal'].entries()) {
      const col = new Array<string>(n);
      for (let i = 0; i < n; i++) col[i] = keys[sid[i]][k];
      data[name] = col;
    }
    data.ts = numericCols[0];
    aggs.forEach((a, i) => (data[a] = numericCols[i + 1]));
    return aq.table(data);
  });
}
