import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { numberFlag, parseCommandArgs, usageError, type Command } from '../command.ts';
import type { ColumnTable } from 'arquero';
import { sql, toCsv, toText } from '../../lib/store/sql.ts';
import { compact } from '../../lib/store/compact.ts';
import { planScan } from '../../lib/store/plan-scan.ts';
import { scanTable } from '../../lib/store/scan.ts';
import { resampleStore } from '../../lib/store/resample-store.ts';
import type { ResampleAgg } from '../../lib/store/resample.ts';
import { storeRoot } from '../../lib/config/index.ts';

const STORE_HELP = '  --store DIR      store root (default: $MILLWRIGHT_STORE or ./.millwright/store)';

const sqlCommand: Command = {
  name: 'sql',
  summary: 'Query the store with SQL (DuckDB) over the "readings" view',
  usage: `millwright sql "<query>" [--store DIR] [--format table|csv|parquet] [--out FILE]

Runs one SQL query (DuckDB dialect, session time zone UTC) over the store. The store appears as
the view readings(ts, asset, signal, value, quality, date, site); filters on site and date skip
whole partitions, filters on asset, signal and ts skip row groups.

${STORE_HELP}
  --format FMT     table (default: aligned text), csv, or parquet (zstd; needs --out)
  --out FILE       write the result to FILE instead of stdout

Examples:
  millwright sql "SELECT site, asset, count(*) AS n FROM readings GROUP BY ALL ORDER BY n DESC LIMIT 5"
  millwright sql "SELECT * FROM readings WHERE date = '2024-03-01' AND asset = 'motor-3'" --format csv --out m3.csv
  millwright sql "SELECT asset, time_bucket(INTERVAL 1 HOUR, ts) AS hour, avg(value) FROM readings GROUP BY ALL" --format parquet --out hourly.parquet`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      options: { store: { type: 'string' }, format: { type: 'string', default: 'table' }, out: { type: 'string' } },
      allowPositionals: true,
    });
    if (positionals.length !== 1) throw usageError(`expected exactly one query argument (quote it), got ${positionals.length}`);
    const format = values.format ?? 'table';
    if (!['table', 'csv', 'parquet'].includes(format)) throw usageError(`--format must be table, csv or parquet, got "${format}"`);
    const root = storeRoot(values.store, io.env, io.cwd);
    const out = values.out === undefined ? undefined : resolve(io.cwd, values.out);
    if (format === 'parquet') {
      if (!out) throw usageError('--format parquet needs --out FILE');
      const r = await sql(positionals[0], { root, format: 'parquet', out });
      io.err(`wrote ${r.rows} row${r.rows === 1 ? '' : 's'} to ${r.file}\n`);
      return 0;
    }
    const text = await sql(positionals[0], { root, format: format === 'csv' ? 'csv' : 'text' });
    if (out) {
      await writeFile(out, text);
      io.err(`wrote ${out}\n`);
    } else io.out(text);
    return 0;
  },
};

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
  usage: `millwright scan [--store DIR] [--site S]... [--asset A]... [--signal X]... [--from ISO] [--to ISO]
                [--every 1m] [--agg mean,min,max,count,last] [--format table|csv] [--limit N]

Reads the store with partition and row-group pruning and prints the readings, or with --every the
per-series buckets (resampled in DuckDB; gaps stay gaps). A pruning summary goes to stderr.

${STORE_HELP}
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
      },
    });
    const format = values.format ?? 'table';
    if (format !== 'table' && format !== 'csv') throw usageError(`--format must be table or csv, got "${format}"`);
    const limit = numberFlag('limit', values.limit, { integer: true, min: 0 }) ?? (format === 'table' ? 1000 : Infinity);
    if (values.agg !== undefined && values.every === undefined) throw usageError('--agg needs --every');
    const filter = { root: storeRoot(values.store, io.env, io.cwd), sites: values.site, assets: values.asset, signals: values.signal, from: values.from, to: values.to };
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
  },
};

function cellOf(column: string, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (column === 'ts' && typeof v === 'number') return new Date(v).toISOString();
  return String(v);
}

/** CLI subcommands of this module, registered by cli/main.ts. */
export const storeCommands: Command[] = [sqlCommand, scanCommand, compactCommand];
