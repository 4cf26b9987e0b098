import { resolve } from 'node:path';
import { numberFlag, parseCommandArgs, usageError, type CliIO, type Command } from '../command.ts';
import { flushSpool } from '../../lib/spool/index.ts';
import { readEnv, spoolDir, storeRoot } from '../../lib/config/index.ts';
import { forwardToS3, isS3Url, parseS3Url } from '../../lib/landing/index.ts';
import { DEFAULT_BATCH_ROWS } from '../../lib/ingest/csv.ts';
import { ingest, type IngestOptions, type IngestProgress, type IngestSummary } from '../../lib/ingest/ingest.ts';
import { READINGS_FORMATS, type ReadingsFormat } from '../../lib/ingest/source.ts';
import type { AmbiguousPolicy } from '../../lib/ingest/local-time.ts';
import type { WideOptions } from '../../lib/ingest/wide-columns.ts';


const fmt = (n: number) => Math.round(n).toLocaleString('en-US');


const POSITIVE_INT = { integer: true, min: 1 } as const;

function progressPrinter(io: CliIO): ((p: IngestProgress) => void) | undefined {
  if (!io.isTTY) return undefined;
  return (p) => {
    const rate = p.seconds > 0 ? p.rows / p.seconds : 0;
    let eta = '';
    if (p.totalBytes && p.bytesRead > 0 && p.seconds > 0.5) {
      const frac = Math.min(1, p.bytesRead / p.totalBytes);
      const left = (p.seconds / frac) * (1 - frac);
      eta = `  ${(frac * 100).toFixed(0)}%  ETA ${left < 60 ? `${left.toFixed(0)} s` : `${(left / 60).toFixed(1)} min`}`;
    }
    io.err(`\r\x1b[K${fmt(p.rows)} rows  ${fmt(rate)} rows/s${p.rejected ? `  ${fmt(p.rejected)} rejected` : ''}${eta}`);
  };
}

const INPUT_OPTIONS = {
  site: { type: 'string' },
  'batch-rows': { type: 'string' },
  rejects: { type: 'string' },
  format: { type: 'string' },
  verbose: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  writers: { type: 'string' },
  parsers: { type: 'string' },
  timezone: { type: 'string' },
  ambiguous: { type: 'string' },
  'timestamp-column': { type: 'string' },
  asset: { type: 'string' },
  'asset-column': { type: 'string' },
  'skip-columns': { type: 'string' },
  delimiter: { type: 'string' },
  strict: { type: 'boolean', default: false },
} as const;

const INPUT_HELP = `Input: CSV or NDJSON readings, one per line, in the long form every millwright dataset
loader also produces. Columns / keys:
  ts       ISO-8601 with a zone (2024-03-01T12:00:00Z, 2024-03-01 12:00:00.250+01:00,
           fractions up to 9 digits, truncated to ms) or epoch milliseconds (1709294400000,
           at least 1e11: smaller numbers look like epoch seconds and are refused).
           Timestamps without a zone are refused (ambiguous). Range 1900..9999.
  site     site name (optional when --site is given); no "/", "\\\\", "..", "=", "%", control chars
  asset    asset name (same rules as site)
  signal   signal name (non-empty, no control characters)
  value    finite decimal number (NaN, Infinity, hex, empty are refused)
  quality  optional integer 0-255 (0 or empty = good)
CSV needs a header line naming the columns (any order, case-insensitive); fields may be
"quoted" (quotes cannot span lines). A header with an unknown, duplicate or missing column
refuses the whole input (exit 1) before anything is written. NDJSON: one object per line.
Files ending in .gz are gunzipped. "-" reads stdin.

Bad rows never stop the batch: unparseable timestamp, non-numeric/NaN/Infinity value, missing
field, extra field or unknown key, invalid site/asset name. Each goes to the rejects file
(NDJSON: {"source","line","reason","raw"}) and is counted in the summary.

Wide input (--format wide-csv | wide-ndjson | wide-parquet, or any of --asset/--asset-column
with a .csv, .ndjson or .parquet file): one row per time, one column per signal, e.g. a
historian export:
  timestamp,pressure,flow,running
  2024-03-01 12:00:00,4.12,37.5,true
The time column is --timestamp-column or the first named ts, timestamp, time or datetime (any
case); every other column (except --asset-column and --skip-columns) is a signal named after
its header. Numbers and booleans (true/false, 0/1) become readings; a text column (none of its
first 1,000 values is a number or boolean) is left out and listed in the summary (--strict
refuses the file instead). An empty or unparseable cell is a reject naming its line and column
({"source","line","column","reason","raw"}). A duplicated column name refuses the file. CSV
fields are separated by "," (or ";" / tab when the header has those and no comma; --delimiter).
Wide NDJSON: one object per line, the time key chosen as the CSV's time column, one key per
signal ({"timestamp":"2024-03-01 12:00:00","pressure":4.12,"running":true}); the cell rules are
the CSV's (a numeric string "4.12" is read too); null is a reject naming its line and key, a
key missing from a line is no reading, a malformed line is a reject; keys are sampled from the
first 1,000 lines (a later key is a signal when its first value is a number or a boolean).
Parquet (--format parquet for the long form, wide-parquet for the wide one) from any writer:
every common codec and encoding, INT96/INT64 timestamps, page CRCs verified; a null or NaN cell
is a reject; nested columns are left out; a corrupt file is refused whole (nothing written).

Local time: --timezone ZONE (IANA, e.g. Europe/Berlin) reads timestamps without a zone as wall
clock time there (long and wide inputs; Parquet timestamps with isAdjustedToUTC = false too). A
time skipped by a DST change (spring forward) or occurring twice (fall back) is a reject saying
so, unless --ambiguous earlier|later picks the earlier or later of the two candidate instants
(for a skipped 02:30 in Berlin: earlier = 00:30Z, read with the summer offset; later = 01:30Z).`;

const INPUT_OPTIONS_HELP = `  --site NAME        site for rows without one (CSV without a site column, NDJSON without "site")
  --batch-rows N     readings per batch (default ${fmt(DEFAULT_BATCH_ROWS)})
  --rejects FILE     rejects file, appended to (default: <parent of destination>/rejects/
                     ingest-<time>-<pid>.ndjson, created only when a row is rejected)
  --format F         csv | ndjson | parquet | wide-csv | wide-ndjson | wide-parquet (default: by
                     extension .csv/.ndjson/.jsonl/.json[.gz]/.parquet, wide with --asset or
                     --asset-column; stdin: NDJSON if the first character is "{", else CSV)
  --verbose          print one line per durable batch on stdout
  --json             print the summary as JSON
  --writers N        extra store-writer threads encoding Parquet side by side (default 0: the
                     main thread writes while a parser thread reads ahead; try 2 on an idle
                     machine with 4+ cores)
  --parsers N|auto   parser threads for a long-form CSV file (default auto: 2 for plain CSV files
                     over 64 MiB on 4+ cores, else 1); same batches, rejects and store as with 1
  --timezone ZONE    IANA zone of timestamps written without one (default: they are rejected)
  --ambiguous P      reject | earlier | later: DST-ambiguous or nonexistent local times (default reject)
  --timestamp-column NAME   wide: the time column (default: first of ts, timestamp, time, datetime)
  --asset NAME       wide: the asset of every row      --asset-column NAME   wide: per-row asset
  --skip-columns a,b wide: columns to ignore (an index column, a comment)
  --delimiter C      wide CSV field separator (default: from the header)
  --strict           wide: refuse a file with a column (key) that cannot be a signal (text, nested)`;

interface InputValues {
  site?: string;
  'batch-rows'?: string;
  rejects?: string;
  format?: string;
  writers?: string;
  parsers?: string;
  timezone?: string;
  ambiguous?: string;
  'timestamp-column'?: string;
  asset?: string;
  'asset-column'?: string;
  'skip-columns'?: string;
  delimiter?: string;
  strict?: boolean;
}

function wideOptions(values: InputValues, format: ReadingsFormat): WideOptions | undefined {
  const given =
    values.asset !== undefined ||
    values['asset-column'] !== undefined ||
    values['timestamp-column'] !== undefined ||
    values['skip-columns'] !== undefined ||
    values.delimiter !== undefined ||
    values.strict === true;
  if (!given && !format.startsWith('wide-')) return undefined;
  if (given && (format === 'csv' || format === 'ndjson' || format === 'parquet')) {
    throw usageError(`--asset, --asset-column, --timestamp-column, --skip-columns, --delimiter and --strict apply to wide inputs, not --format ${format}`);
  }
  return {
    asset: values.asset,
    assetColumn: values['asset-column'],
    timestampColumn: values['timestamp-column'],
    skipColumns: values['skip-columns']?.split(',').map((c) => c.trim()).filter((c) => c !== ''),
    delimiter: values.delimiter === '\\t' ? '\t' : values.delimiter,
    strict: values.strict,
  };
}

function inputOptions(io: CliIO, values: InputValues): Partial<IngestOptions> {
  const format = (values.format ?? 'auto') as ReadingsFormat;
  if (!READINGS_FORMATS.includes(format)) throw usageError(`--format must be csv or ndjson (long form), parquet, wide-csv, wide-ndjson, wide-parquet or auto, got ${JSON.stringify(values.format)}`);
  const ambiguous = values.ambiguous as AmbiguousPolicy | undefined;
  if (ambiguous !== undefined && !['earlier', 'later', 'reject'].includes(ambiguous)) throw usageError(`--ambiguous must be earlier, later or reject, got ${JSON.stringify(values.ambiguous)}`);
  if (ambiguous !== undefined && values.timezone === undefined) throw usageError('--ambiguous needs --timezone (it says how to read local times in that zone)');
  return {
    timezone: values.timezone,
    ambiguous,
    wide: wideOptions(values, format),
    site: values.site,
    batchRows: numberFlag('batch-rows', values['batch-rows'], POSITIVE_INT) ?? DEFAULT_BATCH_ROWS,
    rejects: values.rejects === undefined ? undefined : resolve(io.cwd, values.rejects),
    format,
    writers: numberFlag('writers', values.writers, { integer: true, min: 0 }),
    parsers: values.parsers === undefined || values.parsers === 'auto' ? 'auto' : numberFlag('parsers', values.parsers, { integer: true, min: 1, max: 16 }),
  };
}

function printSummary(io: CliIO, s: IngestSummary, json: boolean): number {
  const failed = s.sources.filter((x) => x.error !== undefined);
  if (json) {
    io.out(`${JSON.stringify(s)}\n`);
  } else {
    const what = s.destination.kind === 'store' ? 'file(s) written' : 'segment(s) spooled and acknowledged';
    io.out(
      `${fmt(s.rowsAccepted)} rows accepted, ${fmt(s.rowsRejected)} rejected, ${fmt(s.filesWritten)} ${what} in ${s.seconds.toFixed(2)} s (${fmt(s.rowsPerSecond)} rows/s)\n`,
    );
    io.out(`  ${s.destination.kind}: ${s.destination.path}\n`);
    if (s.rejectsFile) io.out(`  rejects: ${s.rejectsFile}\n`);
    for (const src of s.sources) {
      if (!src.columns) continue;
      io.out(`  ${src.source}: time column ${JSON.stringify(src.columns.timestamp)}, ${src.columns.signals.length} signal column(s)\n`);
      for (const l of src.columns.leftOut) io.out(`    left out ${JSON.stringify(l.column)}: ${l.reason}\n`);
    }
  }
  for (const f of failed) io.err(`millwright: not ingested: ${f.error}\n`);
  return failed.length > 0 ? 1 : 0;
}

async function runIngest(args: string[], io: CliIO, mode: 'ingest' | 'spool'): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    options: { ...INPUT_OPTIONS, store: { type: 'string' }, spool: { type: 'string' } },
    allowPositionals: true,
  });
  if (positionals.length === 0) throw usageError('no input given: pass one or more files, or - for stdin');
  if (mode === 'spool' && values.store !== undefined) throw usageError('spool writes to a spool, not a store: use --spool DIR (then millwright flush --store DIR)');
  if (values.store !== undefined && values.spool !== undefined) throw usageError('give either --store or --spool, not both');
  const toSpool = mode === 'spool' || values.spool !== undefined;
  const opts: IngestOptions = {
    ...inputOptions(io, values),
    ...(toSpool ? { spool: spoolDir(values.spool, io.env, io.cwd) } : { store: storeRoot(values.store, io.env, io.cwd) }),
    onProgress: progressPrinter(io),
    onBatch: values.verbose
      ? (c) =>
          io.out(
            c.segment
              ? `ack ${c.segment} ${c.source} lines ${c.firstLine}-${c.lastLine} rows ${c.rows}\n`
              : `committed ${c.source} lines ${c.firstLine}-${c.lastLine} rows ${c.rows} files ${c.files.length}\n`,
          )
      : undefined,
  };
  const inputs = positionals.map((p) => (p === '-' ? '-' : resolve(io.cwd, p)));
  const summary = await ingest(inputs, opts);
  if (io.isTTY) io.err('\r\x1b[K');
  return printSummary(io, summary, values.json);
}

const ingestCommand: Command = {
  name: 'ingest',
  summary: 'Load CSV/NDJSON/Parquet readings (long or wide, UTC or local time) into the store; bad rows go to a rejects file',
  usage: `millwright ingest <files...|-> [--store DIR | --spool DIR] [options]

Reads readings and writes them to the store in batches: each batch becomes one Parquet file per
(site, date) partition, written to a temp file in the partition directory, fsynced and renamed,
so readers never see a partial file and a crash leaves each file whole or absent. A crash
mid-ingest may leave some batches in; run the ingest again and "millwright compact" removes the
duplicates. With --spool DIR the batches go to the spool instead (as "millwright spool").

${INPUT_HELP}

Options:
  --store DIR        store root (default: $MILLWRIGHT_STORE or ./.millwright/store)
  --spool DIR        append to this spool instead of writing the store
${INPUT_OPTIONS_HELP}

Prints a summary (rows accepted, rejected, files written, rows/s). On a terminal, shows progress
(rows, rows/s, ETA) on stderr; quiet otherwise. Exit 0 when every input was read (even with
rejected rows), 1 when an input could not be read at all, 2 on usage errors.

Examples:
  millwright ingest readings.csv --store ./.millwright/store
  gunzip -c day.ndjson.gz | millwright ingest - --site plant-1
  millwright ingest a.csv b.ndjson --rejects bad-rows.ndjson --json
  millwright ingest export.csv --format wide-csv --site plant-1 --asset compressor \\
    --timezone Europe/Lisbon --skip-columns index
  millwright ingest spark-out.parquet --format wide-parquet --site plant-1 --asset-column unit
  millwright ingest export.ndjson.gz --format wide-ndjson --site plant-1 --asset kiln-2 --timezone Europe/Berlin`,
  run: (args, io) => runIngest(args, io, 'ingest'),
};

const spoolCommand: Command = {
  name: 'spool',
  summary: 'Append readings durably to the local spool (acknowledged once fsynced)',
  usage: `millwright spool <files...|-> [--spool DIR] [options]

The gateway's first step: each batch is written to a temp file in the spool directory, fsynced,
renamed to seg-<time>-<pid>-<n>-<random>.spool and the directory fsynced; only then is it acknowledged
(with --verbose, an "ack <segment> ..." line per batch on stdout). Segments carry a length and a
CRC-32, so a torn or damaged segment is detected and never flushed. "millwright flush" or
"millwright gateway" later move the spool into the store.

${INPUT_HELP}

Options:
  --spool DIR        spool directory (default: $MILLWRIGHT_SPOOL or ./.millwright/spool)
${INPUT_OPTIONS_HELP}

Example:
  tail -F /var/log/plc/readings.ndjson | millwright spool - --batch-rows 1000`,
  run: (args, io) => runIngest(args, io, 'spool'),
};

const flushCommand: Command = {
  name: 'flush',
  summary: 'Move spooled readings into the store; delete segments only once the store write is durable',
  usage: `millwright flush [--spool DIR] [--store DIR] [--to s3://BUCKET/PREFIX]... [--endpoint URL] [--max-rows N] [--verbose] [--json]

Reads acknowledged spool segments (oldest first), writes them to the store with the store's
atomic writer and deletes each segment only after its store write is durable (fsynced file and
directory). Delivery is at-least-once: if flush is killed between the store write and the
delete, the next flush writes those readings again, and "millwright compact" removes the
duplicates (same site, asset, signal, ts). Torn or corrupt segments are renamed *.corrupt and
reported, never deleted. Temp files of writers that died mid-append (never acknowledged) are
removed. One flush at a time per spool (lock file .flush.lock; a dead owner's lock is taken over).

Options:
  --spool DIR        spool directory (default: $MILLWRIGHT_SPOOL or ./.millwright/spool)
  --store DIR        store root (default: $MILLWRIGHT_STORE or ./.millwright/store)
  --max-rows N       readings per store write; small segments are merged up to this (default 1,000,000)
  --to s3://B/P      also land every batch's store files in object storage as
                     P/site=<s>/date=<d>/part-<id>.parquet (repeatable); a segment is deleted only
                     once every destination confirmed (PUT with Content-MD5, ETag and HeadObject
                     checked). Confirmations are journaled in <spool>/.landing/, so after an outage
                     or a crash the next flush resumes the same batch: confirmed objects are not
                     sent again, the rest go under the same names (no duplicates)
  --endpoint URL     S3-compatible endpoint (default: $MILLWRIGHT_OBJECT_STORE_ENDPOINT, else AWS S3)
  --region R         region (default: the AWS SDK's chain, else us-east-1)
  --verbose          print one line per durable store write ("wrote N readings from K segment(s) ...")
                     and per landed batch ("landed N file(s) at s3://...")
  --json             print the result as JSON

Credentials come from the AWS SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
AWS_PROFILE, roles) and are never printed. Exit 1 when the store or a destination cannot be
written (the spool keeps everything), 0 otherwise.`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      options: {
        spool: { type: 'string' },
        store: { type: 'string' },
        'max-rows': { type: 'string' },
        to: { type: 'string', multiple: true },
        endpoint: { type: 'string' },
        region: { type: 'string' },
        verbose: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
    for (const t of values.to ?? []) if (!isS3Url(t)) throw usageError(`--to must be an s3://bucket/prefix URL, got ${JSON.stringify(t)}`);
    const endpoint = values.endpoint ?? readEnv('MILLWRIGHT_OBJECT_STORE_ENDPOINT', io.env);
    const destinations = (values.to ?? []).map((t) => {
      const loc = parseS3Url(t);
      return forwardToS3({ bucket: loc.bucket, prefix: loc.prefix, endpoint, region: values.region });
    });
    const started = performance.now();
    const r = await flushSpool({
      destinations,
      onDeliver: values.verbose
        ? (d) => {
            for (const x of d.results) io.out(`landed ${x.sent} file(s) (${x.skipped} confirmed earlier, ${x.bytes} bytes) of batch ${d.batch.id} at ${x.name}\n`);
          }
        : undefined,
      spool: spoolDir(values.spool, io.env, io.cwd),
      store: storeRoot(values.store, io.env, io.cwd),
      maxRows: (numberFlag('max-rows', values['max-rows'], POSITIVE_INT) ?? 1_000_000),
      log: (line) => io.err(`${line}\n`),
      onWrite: values.verbose ? (w) => io.out(`wrote ${w.rows} readings from ${w.segments.length} segment(s) into ${w.files.length} file(s)\n`) : undefined,
    });
    const seconds = (performance.now() - started) / 1000;
    if (values.json) io.out(`${JSON.stringify({ ...r, seconds })}\n`);
    else
      io.out(
        `flushed ${fmt(r.rows)} readings from ${fmt(r.segments)} segment(s) into ${fmt(r.files)} file(s) in ${seconds.toFixed(2)} s` +
          `${r.quarantined.length ? `; ${r.quarantined.length} damaged segment(s) set aside` : ''}\n`,
      );
    return 0;
  },
};

/** CLI subcommands of this module, registered by cli/main.ts. */
export const ingestCommands: Command[] = [ingestCommand, spoolCommand, flushCommand];
