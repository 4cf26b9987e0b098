import { resolve } from 'node:path';
import { numberFlag, parseCommandArgs, usageError, type CliIO, type Command } from '../command.ts';
import { flushSpool, runGateway } from '../../lib/spool/index.ts';
import { readEnv, spoolDir, storeRoot } from '../../lib/config/index.ts';
import { forwardToS3, isS3Url, parseS3Url } from '../../lib/landing/index.ts';
import { parseDuration, type DurationOptions } from '../../lib/units/index.ts';
import { DEFAULT_BATCH_ROWS } from '../../lib/ingest/csv.ts';
import { ingest, type IngestOptions, type IngestProgress, type IngestSummary } from '../../lib/ingest/ingest.ts';
import type { ReadingsFormat } from '../../lib/ingest/source.ts';


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
(NDJSON: {"source","line","reason","raw"}) and is counted in the summary.`;

const INPUT_OPTIONS_HELP = `  --site NAME        site for rows without one (CSV without a site column, NDJSON without "site")
  --batch-rows N     readings per batch (default ${fmt(DEFAULT_BATCH_ROWS)})
  --rejects FILE     rejects file, appended to (default: <parent of destination>/rejects/
                     ingest-<time>-<pid>.ndjson, created only when a row is rejected)
  --format F         csv | ndjson (default: by extension .csv/.ndjson/.jsonl/.json[.gz];
                     stdin: NDJSON if the first character is "{", else CSV)
  --verbose          print one line per durable batch on stdout
  --json             print the summary as JSON
  --writers N        extra store-writer threads encoding Parquet side by side (default 0: the
                     main thread writes while a parser thread reads ahead; try 2 on an idle
                     machine with 4+ cores; each costs ~150-300 MB of encoder memory)`;

function inputOptions(io: CliIO, values: { site?: string; 'batch-rows'?: string; rejects?: string; format?: string; writers?: string }): Partial<IngestOptions> {
  const format = (values.format ?? 'auto') as ReadingsFormat;
  if (!['csv', 'ndjson', 'auto'].includes(format)) throw usageError(`--format must be csv or ndjson, got ${JSON.stringify(values.format)}`);
  return {
    site: values.site,
    batchRows: numberFlag('batch-rows', values['batch-rows'], POSITIVE_INT) ?? DEFAULT_BATCH_ROWS,
    rejects: values.rejects === undefined ? undefined : resolve(io.cwd, values.rejects),
    format,
    writers: numberFlag('writers', values.writers, { integer: true, min: 0 }),
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
  summary: 'Load CSV/NDJSON readings into the store (or the spool); bad rows go to a rejects file',
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
  millwright ingest a.csv b.ndjson --rejects bad-rows.ndjson --json`,
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

/** The gateway's flags: a bare number is seconds, zero is refused (a flush loop needs a pause). */
const GATEWAY_DURATION: DurationOptions = { bareNumber: 's', positive: true, code: 'USAGE' };

const gatewayCommand: Command = {
  name: 'gateway',
  summary: 'Flush the spool into the store on an interval; survives an unreachable store',
  usage: `millwright gateway [--spool DIR] [--store DIR] [--every 10s] [--max-backoff 5m] [--max-rows N]

Long-running: flushes the spool into the store every --every (see "millwright flush"). When the
store cannot be written (unmounted, permissions, a file where the directory should be) it logs
the error and how many readings the spool holds, keeps everything in the spool and retries with
exponential backoff (doubling from --every up to --max-backoff); the first success resets the
pace. Feed it with "millwright spool" from any number of producers. Stop with SIGINT/SIGTERM
(the flush in progress completes first). Restarting resumes from whatever the spool holds:
nothing acknowledged is lost, and a crash mid-flush at worst writes a batch twice, which
"millwright compact" removes. Logs go to stderr, one line per event.

Options:
  --spool DIR        spool directory (default: $MILLWRIGHT_SPOOL or ./.millwright/spool)
  --store DIR        store root (default: $MILLWRIGHT_STORE or ./.millwright/store)
  --every D          flush interval: 500ms, 10s, 5m, 1h (default 10s)
  --max-backoff D    longest retry wait after failures (default 5m)
  --max-rows N       readings per store write (default 1,000,000)`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      options: {
        spool: { type: 'string' },
        store: { type: 'string' },
        every: { type: 'string', default: '10s' },
        'max-backoff': { type: 'string', default: '5m' },
        'max-rows': { type: 'string' },
      },
    });
    const every = parseDuration(values.every, { ...GATEWAY_DURATION, what: '--every' });
    const maxBackoff = parseDuration(values['max-backoff'], { ...GATEWAY_DURATION, what: '--max-backoff' });
    const spool = spoolDir(values.spool, io.env, io.cwd);
    const store = storeRoot(values.store, io.env, io.cwd);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const log = (line: string) => io.err(`${new Date().toISOString()} gateway: ${line}\n`);
    log(`started: spool ${spool} -> store ${store}, every ${values.every}`);
    try {
      await runGateway({ spool, store, every, maxBackoff, maxRows: (numberFlag('max-rows', values['max-rows'], POSITIVE_INT) ?? 1_000_000), signal: stop.signal, log });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    log('stopped');
    return 0;
  },
};

/** CLI subcommands of this module, registered by cli/main.ts. */
export const ingestCommands: Command[] = [ingestCommand, spoolCommand, flushCommand, gatewayCommand];
