import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseCommandArgs, usageError, type CliIO, type Command } from '../cli/command.ts';
import { sql } from './sql.ts';
import { compact } from './compact.ts';

/** Store root for CLI commands: `--store`, else `MILLWRIGHT_STORE`, else `./.millwright/store`. */
export function storeRoot(io: CliIO, flag: string | undefined): string {
  return resolve(io.cwd, flag ?? (io.env.MILLWRIGHT_STORE || './.millwright/store'));
}

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
    const root = storeRoot(io, values.store);
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
    const root = storeRoot(io, values.store);
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

/** CLI subcommands of this module, registered by lib/cli/main.ts. */
export const storeCommands: Command[] = [sqlCommand, compactCommand];
