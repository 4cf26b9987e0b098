import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { numberFlag, parseCommandArgs, usageError, type CliIO, type Command } from '../command.ts';
import type { ColumnTable } from 'arquero';
import { sql, toCsv, toText } from '../../lib/store/sql.ts';
import { compact } from '../../lib/store/compact.ts';
import { planScan } from '../../lib/store/plan-scan.ts';
import { scanTable } from '../../lib/store/scan.ts';
import { resampleStore } from '../../lib/store/resample-store.ts';
import type { ResampleAgg } from '../../lib/store/resample.ts';
import { readEnv, storeRoot } from '../../lib/config/index.ts';
import { parseSize } from '../../lib/units/index.ts';
import { MillwrightError } from '../../lib/errors/index.ts';
import { createS3Client, isS3Url, openS3Store, parseS3Url, pruneFromSql, syncFromS3, s3Url } from '../../lib/landing/index.ts';
import { toEpochMs } from '../../lib/store/filters.ts';
import { DAY_MS } from '../../lib/store/partition.ts';

const S3_FLAGS = {
  endpoint: { type: 'string' },
  region: { type: 'string' },
  'cache-dir': { type: 'string' },
  'cache-size': { type: 'string' },
  verbose: { type: 'boolean', default: false },
} as const;

const S3_HELP = `  --store s3://B/P read-only, straight from object storage: partitions are pruned by listing
                   (--site, --from, --to), then only the files needed are fetched, verified,
                   into a bounded local cache (LRU by bytes) that DuckDB reads
  --endpoint URL   S3-compatible endpoint (default: $MILLWRIGHT_OBJECT_STORE_ENDPOINT, else AWS S3)
  --region R       region (default: the AWS SDK's chain, else us-east-1)
  --cache-dir DIR  cache folder (default: $MILLWRIGHT_OBJECT_CACHE or ./.millwright/cache/s3)
  --cache-size S   cache bound, e.g. 512mb, 2gb (default: $MILLWRIGHT_OBJECT_CACHE_SIZE or 1gb)
  --verbose        print the cache's hits, misses and evictions on stderr`;

interface StoreFlags {
  store?: string;
  endpoint?: string;
  region?: string;
  'cache-dir'?: string;
  'cache-size'?: string;
  verbose?: boolean;
}

/** The store a query reads: a local root, or a cached view of object storage (closed after the query). */
async function openStore(values: StoreFlags, io: CliIO, prune: { sites?: string[]; from?: string | number; to?: string | number }): Promise<{ root: string; close(): Promise<void> }> {
  if (!isS3Url(values.store)) {
    for (const f of ['endpoint', 'region', 'cache-dir', 'cache-size'] as const) if (values[f] !== undefined) throw usageError(`--${f} applies to an s3:// store only`);
    return { root: storeRoot(values.store, io.env, io.cwd), close: async () => {} };
  }
  const location = parseS3Url(values.store);
  const maxBytes = parseSize(values['cache-size'] ?? readEnv('MILLWRIGHT_OBJECT_CACHE_SIZE', io.env) ?? '1gb', { what: '--cache-size' });
  const cacheDir = resolve(io.cwd, values['cache-dir'] ?? readEnv('MILLWRIGHT_OBJECT_CACHE', io.env) ?? './.millwright/cache/s3');
  const client = await createS3Client({ endpoint: values.endpoint ?? readEnv('MILLWRIGHT_OBJECT_STORE_ENDPOINT', io.env), region: values.region });
  try {
    const view = await openS3Store({ client, location, cacheDir, maxBytes, sites: prune.sites, from: prune.from, to: prune.to });
    const st = view.stats;
    if (values.verbose) {
      io.err(
        `s3 store ${s3Url(location)}: ${st.partitionsListed} of ${st.partitionsTotal} partitions after pruning (${st.partitionsTotal - st.partitionsListed} pruned), ${st.files} file(s); ` +
          `cache: ${st.hits} hit(s), ${st.misses} miss(es), ${st.bytesDownloaded} bytes downloaded, ${st.evicted} evicted, ${st.cachedBytes} of ${maxBytes} bytes held\n`,
      );
    }
    return { root: view.root, close: view.close };
  } finally {
    client.destroy();
  }
}

const STORE_HELP = '  --store DIR      store root (default: $MILLWRIGHT_STORE or ./.millwright/store)';

const sqlCommand: Command = {
  name: 'sql',
  summary: 'Query the store with SQL (DuckDB) over the "readings" view',
  usage: `millwright sql "<query>" [--store DIR|s3://BUCKET/PREFIX] [--format table|csv|parquet] [--out FILE]

Runs one SQL query (DuckDB dialect, session time zone UTC) over the store. The store appears as
the view readings(ts, asset, signal, value, quality, date, site); filters on site and date skip
whole partitions, filters on asset, signal and ts skip row groups.

${STORE_HELP}
  --format FMT     table (default: aligned text), csv, or parquet (zstd; needs --out)
  --out FILE       write the result to FILE instead of stdout
${S3_HELP}
  --site S         s3 store: only fetch this site's partitions (repeatable)
  --from ISO       s3 store: only fetch dates from this time on
  --to ISO         s3 store: only fetch dates before this time

On an s3:// store the query itself prunes too: top-level AND-ed predicates of its WHERE on site
(=, IN) and on ts or date (=, <, <=, >, >=, BETWEEN a literal) decide which site=/date=
partitions are fetched (read from DuckDB's parse tree). OR, NOT, functions of a column,
subqueries, CTEs, joins and other tables prune nothing (more is fetched, never less); --verbose
says what was derived and why.

Examples:
  millwright sql "SELECT site, asset, count(*) AS n FROM readings GROUP BY ALL ORDER BY n DESC LIMIT 5"
  millwright sql "SELECT * FROM readings WHERE date = '2024-03-01' AND asset = 'motor-3'" --format csv --out m3.csv
  millwright sql "SELECT asset, time_bucket(INTERVAL 1 HOUR, ts) AS hour, avg(value) FROM readings GROUP BY ALL" --format parquet --out hourly.parquet
  millwright sql "SELECT asset, count(*) FROM readings GROUP BY ALL" --store s3://plant-lake/raw --site north --from 2024-03-01 --to 2024-03-08 --verbose
  millwright sql "SELECT asset, avg(value) FROM readings WHERE site = 'north' AND ts >= '2024-03-01' AND ts < '2024-03-08' GROUP BY ALL" --store s3://plant-lake/raw --verbose`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      options: {
        store: { type: 'string' }, format: { type: 'string', default: 'table' }, out: { type: 'string' },
        site: { type: 'string', multiple: true }, from: { type: 'string' }, to: { type: 'string' }, ...S3_FLAGS,
      },
      allowPositionals: true,
    });
    if (positionals.length !== 1) throw usageError(`expected exactly one query argument (quote it), got ${positionals.length}`);
    const format = values.format ?? 'table';
    if (!['table', 'csv', 'parquet'].includes(format)) throw usageError(`--format must be table, csv or parquet, got "${format}"`);
    if (format === 'parquet' && !values.out) throw usageError('--format parquet needs --out FILE');
    if (!isS3Url(values.store) && (values.site || values.from || values.to)) throw usageError('--site, --from and --to select what an s3:// store fetches; on a local store filter in the query');
    const store = await openStore(values, io, isS3Url(values.store) ? await queryPruning(positionals[0], values, io) : {});
    try {
      return await runSql(positionals[0], values, store.root, io);
    } finally {
      await store.close();
    }
  },
};

/**
 * What an s3:// store fetches for a query: the partitions its WHERE clause can touch (see
 * pruneFromSql), narrowed further by --site/--from/--to when given.
 */
async function queryPruning(query: string, values: { site?: string[]; from?: string; to?: string; verbose?: boolean }, io: CliIO): Promise<{ sites?: string[]; from?: number; to?: number }> {
  const p = await pruneFromSql(query);
  if (values.verbose) io.err(`s3 store: ${p.note}\n`);
  let sites = p.sites;
  if (values.site) sites = sites ? sites.filter((s) => values.site!.includes(s)) : values.site;
  const fromFlag = values.from === undefined ? undefined : toEpochMs('--from', values.from);
  const toFlag = values.to === undefined ? undefined : toEpochMs('--to', values.to);
  const fromQuery = p.fromDay === undefined ? undefined : p.fromDay * DAY_MS;
  const toQuery = p.toDay === undefined ? undefined : (p.toDay + 1) * DAY_MS;
  const pick = (a: number | undefined, b: number | undefined, f: (x: number, y: number) => number) => (a === undefined ? b : b === undefined ? a : f(a, b));
  return { sites, from: pick(fromFlag, fromQuery, Math.max), to: pick(toFlag, toQuery, Math.min) };
}

async function runSql(query: string, values: { format?: string; out?: string }, root: string, io: CliIO): Promise<number> {
  const format = values.format ?? 'table';
  const out = values.out === undefined ? undefined : resolve(io.cwd, values.out);
  if (format === 'parquet') {
    const r = await sql(query, { root, format: 'parquet', out: out! });
    io.err(`wrote ${r.rows} row${r.rows === 1 ? '' : 's'} to ${r.file}\n`);
    return 0;
  }
  const text = await sql(query, { root, format: format === 'csv' ? 'csv' : 'text' });
  if (out) {
    await writeFile(out, text);
    io.err(`wrote ${out}\n`);
  } else io.out(text);
  return 0;
}

const compactCommand: Command = {
  name: 'compact',
  summary: 'Merge small files per partition and drop duplicate readings',
  usage: `millwright compact [--store DIR] [--site SITE]... [--date YYYY-MM-DD]...

Per partition (site, date): merges all part files into one sorted by (asset, signal, ts) and drops
duplicate readings (same site, asset, signal, ts), keeping the copy from the most recently written
file. Crash-safe: the merged file is made durable before the old ones are removed; if interrupted,
run it again. Also removes temp files left by crashed writers (older than 1 hour).

${STORE_HELP}
  --site SITE      only this site (repeatable; default: all)
  --date DATE      only this UTC date (repeatable; default: all)

Example:
  millwright compact --store ./.millwright/store --site plant-1`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      options: { store: { type: 'string' }, site: { type: 'string', multiple: true }, date: { type: 'string', multiple: true } },
    });
    const root = storeRoot(values.store, io.env, io.cwd);
    const t0 = performance.now();
    const r = await compact(root, { sites: values.site, dates: values.date });
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    io.out(
      `compacted ${r.partitionsRewritten} of ${r.partitions} partitions in ${secs}s: files ${r.filesBefore} -> ${r.filesAfter}, ` +
        `rows ${r.rowsBefore} -> ${r.rowsAfter} (${r.duplicatesRemoved} duplicates removed), ${r.tempFilesRemoved} stale temp files removed\n`,
    );
    return 0;
  },
};

const scanCommand: Command = {
  name: 'scan',
  summary: 'Print readings (or per-bucket aggregates) for sites/assets/signals and a time range',
  usage: `millwright scan [--store DIR|s3://BUCKET/PREFIX] [--site S]... [--asset A]... [--signal X]... [--from ISO] [--to ISO]
                [--every 1m] [--agg mean,min,max,count,last] [--format table|csv] [--limit N]

Reads the store with partition and row-group pruning and prints the readings, or with --every the
per-series buckets (resampled in DuckDB; gaps stay gaps). A pruning summary goes to stderr.

${STORE_HELP}
${S3_HELP}
  --site S         only this site (repeatable; default: all)
  --asset A        only this asset (repeatable; default: all)
  --signal X       only this signal (repeatable; default: all)
  --from ISO       start, inclusive (e.g. 2024-03-01 or 2024-03-01T06:00:00Z; no zone = UTC)
  --to ISO         end, exclusive
  --every W        resample into W buckets (500ms, 10s, 1m, 15m, 1h, 1d)
  --agg LIST       aggregates with --every (default mean,min,max,count,last; also first,sum)
  --format FMT     table (default, aligned text) or csv
  --limit N        print at most N rows (default 1000 for table, all for csv)

Example:
  millwright scan --asset line01-motor --signal temperature --from 2024-01-02 --to 2024-01-03 --every 1h`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      options: {
        store: { type: 'string' },
        site: { type: 'string', multiple: true },
        asset: { type: 'string', multiple: true },
        signal: { type: 'string', multiple: true },
        from: { type: 'string' },
        to: { type: 'string' },
        every: { type: 'string' },
        agg: { type: 'string' },
        format: { type: 'string', default: 'table' },
        limit: { type: 'string' },
        ...S3_FLAGS,
      },
    });
    const format = values.format ?? 'table';
    if (format !== 'table' && format !== 'csv') throw usageError(`--format must be table or csv, got "${format}"`);
    const limit = numberFlag('limit', values.limit, { integer: true, min: 0 }) ?? (format === 'table' ? 1000 : Infinity);
    if (values.agg !== undefined && values.every === undefined) throw usageError('--agg needs --every');
    const store = await openStore(values, io, { sites: values.site, from: values.from, to: values.to });
    try {
      return await runScan(values, store.root, io, format, limit);
    } finally {
      await store.close();
    }
  },
};

interface ScanFlags {
  site?: string[];
  asset?: string[];
  signal?: string[];
  from?: string;
  to?: string;
  every?: string;
  agg?: string;
}

async function runScan(values: ScanFlags, root: string, io: CliIO, format: string, limit: number): Promise<number> {
  const filter = { root, sites: values.site, assets: values.asset, signals: values.signal, from: values.from, to: values.to };
  let table: ColumnTable;
  if (values.every !== undefined) {
    const aggs = (values.agg ?? 'mean,min,max,count,last').split(',').map((a) => a.trim()) as ResampleAgg[];
    table = await resampleStore({ ...filter, every: values.every, aggs });
  } else {
    const plan = await planScan(filter);
    table = await scanTable({ ...filter, plan });
    io.err(
      `${table.numRows()} readings from ${plan.files.length} of ${plan.filesTotal} files` +
        (Number.isNaN(plan.rowGroupsTotal) ? '' : ` (${plan.rowGroupsPruned} of ${plan.rowGroupsTotal} row groups pruned by statistics)`) +
        '\n',
    );
  }
  const shown = table.numRows() > limit ? table.slice(0, limit) : table;
  const columns = shown.columnNames();
  const cells = shown.objects().map((row) => columns.map((c) => cellOf(c, (row as Record<string, unknown>)[c])));
  if (format === 'csv') io.out(toCsv(columns, cells));
  else io.out(toText(columns, cells, columns.map((c) => !['ts', 'site', 'asset', 'signal'].includes(c))));
  if (shown.numRows() < table.numRows()) io.err(`(showing ${shown.numRows()} of ${table.numRows()} rows; use --limit)\n`);
  return 0;
}

const syncCommand: Command = {
  name: 'sync',
  summary: 'Pull landed Parquet files from object storage into a local store (only what is missing, verified)',
  usage: `millwright sync --from s3://BUCKET/PREFIX [--store DIR] [--site S]... [--from-date D] [--to-date D]
                [--endpoint URL] [--region R] [--concurrency N] [--verbose] [--json]

Copies the store files under PREFIX (site=<s>/date=<d>/part-*.parquet, as "flush --to" lands
them) into a local store, so sql and scan work on them. Partitions are pruned by listing
(delimited ListObjectsV2, every page): sites and dates outside the filter are never listed below
their prefix. A file already present (same name, size and ETag, recorded in <store>/.sync/) is
not downloaded again. Each download is verified (size, MD5 against the ETag, and the SHA-256 in
x-amz-meta-sha256 when present) and written atomically; a damaged object is refused, named, and
never written (exit 1 after the rest is synced). Pull only: nothing local is deleted.

  --from s3://B/P   what to pull
  --store DIR       local store root (default: $MILLWRIGHT_STORE or ./.millwright/store)
  --site S          only this site (repeatable)
  --from-date D     first UTC date, YYYY-MM-DD (inclusive)
  --to-date D       last UTC date, YYYY-MM-DD (inclusive)
  --endpoint URL    S3-compatible endpoint (default: $MILLWRIGHT_OBJECT_STORE_ENDPOINT, else AWS S3)
  --region R        region (default: the AWS SDK's chain, else us-east-1)
  --concurrency N   downloads in flight (default 4)
  --verbose         one line per downloaded or refused object
  --json            print the result as JSON

Credentials come from the AWS SDK's default chain and are never printed.

Example:
  millwright sync --from s3://plant-lake/raw --store ./lake --site north --from-date 2024-03-01`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      options: {
        from: { type: 'string' }, store: { type: 'string' }, site: { type: 'string', multiple: true },
        'from-date': { type: 'string' }, 'to-date': { type: 'string' }, endpoint: { type: 'string' }, region: { type: 'string' },
        concurrency: { type: 'string' }, verbose: { type: 'boolean', default: false }, json: { type: 'boolean', default: false },
      },
    });
    if (!isS3Url(values.from)) throw usageError(`--from must be an s3://bucket/prefix URL${values.from === undefined ? '' : `, got ${JSON.stringify(values.from)}`}`);
    const from = parseS3Url(values.from);
    const concurrency = numberFlag('concurrency', values.concurrency, { integer: true, min: 1, max: 64 });
    const client = await createS3Client({ endpoint: values.endpoint ?? readEnv('MILLWRIGHT_OBJECT_STORE_ENDPOINT', io.env), region: values.region });
    const started = performance.now();
    let r;
    try {
      r = await syncFromS3({
        client, from, store: storeRoot(values.store, io.env, io.cwd), sites: values.site, fromDate: values['from-date'], toDate: values['to-date'],
        concurrency, log: values.verbose ? (line) => io.out(`${line}\n`) : undefined,
      });
    } finally {
      client.destroy();
    }
    const seconds = (performance.now() - started) / 1000;
    if (values.json) io.out(`${JSON.stringify({ ...r, seconds })}\n`);
    else
      io.out(
        `synced ${s3Url(from)}: ${r.listed} file(s) in ${r.partitionsListed} of ${r.partitionsTotal} partitions, ${r.downloaded} downloaded (${r.bytes} bytes), ` +
          `${r.present} already present, ${r.refused.length} refused in ${seconds.toFixed(2)} s\n`,
      );
    if (r.refused.length > 0) {
      throw new MillwrightError('INTEGRITY', `${r.refused.length} object(s) refused and not written: ${r.refused.map((x) => x.reason).join('; ')}`);
    }
    return 0;
  },
};

function cellOf(column: string, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (column === 'ts' && typeof v === 'number') return new Date(v).toISOString();
  return String(v);
}

/** CLI subcommands of this module, registered by cli/main.ts. */
export const storeCommands: Command[] = [sqlCommand, scanCommand, compactCommand, syncCommand];
