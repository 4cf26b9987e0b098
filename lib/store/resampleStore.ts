import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../errors/index.ts';
import { withConnection, readParquetSql, sqlList } from './duckdb.ts';
import { listFiles } from './listFiles.ts';
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

// NaN values are "no value", as in resample(): every aggregate skips them.
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
 * The SQL {@link resampleStore} runs (exported so benchmarks and curious users can see it).
 */
export function resampleSql(files: readonly string[], opts: ResampleStoreOptions): string {
  const f = normalFilter(opts);
  const every = parseEvery(opts.every ?? '1m');
  const aggs = opts.aggs ?? DEFAULT_AGGS;
  const bad = aggs.filter((a) => !(RESAMPLE_AGGS as readonly string[]).includes(a));
  if (bad.length > 0 || aggs.length === 0) {
    throw new MillwrightError('BAD_INPUT', `unknown aggregate(s) ${JSON.stringify(bad)} (expected some of ${RESAMPLE_AGGS.join(', ')})`);
  }
  const where: string[] = [];
  if (f.sites) where.push(`site IN (SELECT unnest(${sqlList([...f.sites])}))`);
  if (f.assets) where.push(`asset IN (SELECT unnest(${sqlList([...f.assets])}))`);
  if (f.signals) where.push(`signal IN (SELECT unnest(${sqlList([...f.signals])}))`);
  if (f.from !== undefined) where.push(`ts >= epoch_ms(${Math.ceil(f.from)}::BIGINT)::TIMESTAMPTZ`);
  if (f.to !== undefined) where.push(`ts < epoch_ms(${Math.ceil(f.to)}::BIGINT)::TIMESTAMPTZ`);
  const cols = aggs.map((a) => `${AGG_SQL[a]} FILTER (WHERE NOT isnan(value)) AS "${a}"`).join(', ');
  return `SELECT site, asset, signal, (epoch_ms(ts) // ${every}) * ${every} AS ts, ${cols}
    FROM ${readParquetSql(files)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
    GROUP BY ALL ORDER BY site, asset, signal, ts`;
}

/**
 * {@link resample} pushed down to DuckDB: reads and aggregates the store's Parquet files in
 * DuckDB's parallel engine and returns only the buckets (same columns, same semantics: gaps stay
 * gaps, NaN skipped). Much faster than `resample(await scanTable(...))` on large ranges, because the
 * raw readings never enter JavaScript.
 *
 * @example
 * const perMinute = await resampleStore({ root, sites: 'plant-1', from: '2024-03-01', to: '2024-03-08', every: '1m' });
 */
export async function resampleStore(opts: ResampleStoreOptions): Promise<ColumnTable> {
  const f = normalFilter(opts);
  const aggs = opts.aggs ?? DEFAULT_AGGS;
  const { files } = await listFiles(f);
  const query = files.length === 0 ? undefined : resampleSql(files.map((x) => x.path), opts);
  if (query === undefined) {
    parseEvery(opts.every ?? '1m');
    const empty: Record<string, unknown[]> = { site: [], asset: [], signal: [], ts: [] };
    for (const a of aggs) empty[a] = [];
    return aq.table(empty);
  }
  return withConnection(async (conn) => {
    const reader = await conn.runAndReadAll(query);
    const cols = reader.getColumnsJS();
    const n = reader.currentRowCount;
    const data: Record<string, unknown[] | Float64Array> = { site: cols[0], asset: cols[1], signal: cols[2] };
    const names = reader.columnNames();
    for (let c = 3; c < names.length; c++) {
      const out = new Float64Array(n);
      const src = cols[c];
      for (let i = 0; i < n; i++) {
        const v = src[i];
        out[i] = v === null ? (names[c] === 'count' ? 0 : NaN) : Number(v);
      }
      data[names[c]] = out;
    }
    return aq.table(data);
  });
}
