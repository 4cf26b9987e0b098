import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { numberFlag, parseCommandArgs, usageError, type CliIO, type Command } from '../command.ts';
import { MillwrightError } from '../../lib/errors/index.ts';
import { scanTable } from '../../lib/store/index.ts';
import { storeRoot } from '../../lib/config/index.ts';
import { dailySummary, dailyRunSummary } from '../../lib/features/daily.ts';
import { findRuns } from '../../lib/features/runs.ts';
import { TIME_DOMAIN_FEATURES, vibrationWindows } from '../../lib/features/vibration.ts';
import { spectrumFeatures } from '../../lib/features/spectrum.ts';
import { FEATURE_LABELS_USAGE, featureLabels } from './feature-labels.ts';

const USAGE = `millwright features <daily|vibration|labels> [options]

millwright features daily [--store DIR] [--site S]... [--asset A]... [--from T] [--to T]
                          [--utc-offset MIN] [--out FILE] [--format csv|json]
                          [--runs-signal SIG --on X [--off Y] [--min-duration D] [--max-gap D] [--runs-out FILE]]
  The daily batch job: one row per date, asset and signal with count, sum, mean, std, min, max,
  first, last (local days at --utc-offset minutes east of UTC, default 0).
  --store DIR        store root (default: $MILLWRIGHT_STORE or ./.millwright/store)
  --from/--to T      ISO time or date; --to is exclusive (default: everything)
  --out FILE         write there (atomically) instead of stdout
  --format F         csv (default) or json (one JSON object per line)
  --runs-signal SIG  also split production runs on SIG (e.g. speed) with hysteresis --on/--off,
                     --min-duration (default 0) and --max-gap (default unlimited), and write the
                     per-asset, per-day run summary (runs, production_h, longest_run_h) to
                     --runs-out (default: stdout after the daily table)

millwright features vibration FILE --sample-rate HZ [--column NAME]... [--window N] [--hop N]
                          [--running-speed HZ] [--segment N] [--keep-dc] [--out FILE] [--format csv|json]
  Vibration features of a raw recording (CSV/TSV, optionally .gz; with or without a header):
  one row per column and window with rms, peak, peakToPeak, crestFactor, kurtosis, skewness,
  shapeFactor, impulseFactor, and spectrum features (centroid_hz, peak_hz, energy_1x/2x/3x
  when --running-speed is given).
  --column NAME      columns to analyse (default: every numeric column except sample/time/index)
  --window N         samples per window (default: whole recording)
  --hop N            samples between windows (default: --window)
  --segment N        Welch segment, power of two (default 4096 or the largest that fits)
  --keep-dc          do not remove the mean before rms/peak (raw figures)

${FEATURE_LABELS_USAGE}
`;

/** CSV with a header; NaN/null as empty. */
function toCsv(t: ColumnTable): string {
  return t.toCSV() + (t.numRows() ? '\n' : '');
}
function toJsonLines(t: ColumnTable): string {
  return t.objects().map((o) => JSON.stringify(o)).join('\n') + (t.numRows() ? '\n' : '');
}

function emit(io: CliIO, text: string, out: string | undefined): void {
  if (!out) {
    io.out(text);
    return;
  }
  const file = resolve(io.cwd, out);
  // Temp file + rename: a reader (or a crash) never sees half a daily file.
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

function format(values: { format?: string }): (t: ColumnTable) => string {
  const f = values.format ?? 'csv';
  if (f !== 'csv' && f !== 'json') throw usageError(`--format ${f} unknown (expected csv or json)`);
  return f === 'csv' ? toCsv : toJsonLines;
}

async function daily(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(args, {
    options: {
      store: { type: 'string' }, site: { type: 'string', multiple: true }, asset: { type: 'string', multiple: true },
      from: { type: 'string' }, to: { type: 'string' }, 'utc-offset': { type: 'string' }, out: { type: 'string' },
      format: { type: 'string' }, 'runs-signal': { type: 'string' }, on: { type: 'string' }, off: { type: 'string' },
      'min-duration': { type: 'string' }, 'max-gap': { type: 'string' }, 'runs-out': { type: 'string' },
    },
  });
  const fmt = format(values);
  const utcOffsetMinutes = numberFlag('utc-offset', values['utc-offset']) ?? 0;
  if (values['runs-signal'] !== undefined && values.on === undefined) throw usageError('--runs-signal needs --on (the level at which a run starts)');
  const started = Date.now();
  const table = await scanTable({ root: storeRoot(values.store, io.env, io.cwd), sites: values.site, assets: values.asset, from: values.from, to: values.to });
  if (io.isTTY) io.err(`scanned ${table.numRows()} readings in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  const summary = dailySummary(table, { utcOffsetMinutes });
  emit(io, fmt(summary), values.out);
  if (values['runs-signal'] !== undefined) {
    const runs = findRuns(table, {
      signal: values['runs-signal'], on: numberFlag('on', values.on)!, off: numberFlag('off', values.off),
      minDuration: values['min-duration'] ?? 0, maxGap: values['max-gap'],
    });
    const perDay = dailyRunSummary(runs, { utcOffsetMinutes });
    if (values['runs-out']) emit(io, fmt(perDay), values['runs-out']);
    else io.out(`\n${fmt(perDay)}`);
  }
  if (values.out) io.err(`wrote ${summary.numRows()} rows (${table.numRows()} readings) to ${values.out}\n`);
  return 0;
}

/** Reads a raw vibration recording: CSV or TSV, optional header, optional gzip. */
export function readRecording(file: string): Record<string, Float64Array> {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new MillwrightError('NOT_FOUND', `cannot read ${file}: ${(err as Error).message}`);
  }
  const text = (buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf).toString('utf8').replace(/^\uFEFF/, '');
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new MillwrightError('BAD_INPUT', `${file} is empty (expected samples, one row per sample)`);
  const sep = lines[0]!.includes('\t') ? '\t' : lines[0]!.includes(',') ? ',' : /\s+/;
  const split = (l: string) => l.trim().split(sep).map((s) => s.trim());
  const first = split(lines[0]!);
  const header = first.some((v) => v !== '' && !Number.isFinite(Number(v)));
  const names = header ? first : first.map((_, i) => `ch${i + 1}`);
  const body = header ? lines.slice(1) : lines;
  const cols = names.map(() => new Float64Array(body.length));
  body.forEach((l, r) => {
    const v = split(l);
    if (v.length !== names.length) throw new MillwrightError('BAD_INPUT', `${file} line ${r + (header ? 2 : 1)}: ${v.length} fields, expected ${names.length}`);
    v.forEach((s, c) => {
      const n = Number(s);
      if (s === '' || !Number.isFinite(n)) throw new MillwrightError('BAD_INPUT', `${file} line ${r + (header ? 2 : 1)}, column ${names[c]}: "${s}" is not a number`);
      cols[c]![r] = n;
    });
  });
  return Object.fromEntries(names.map((n, i) => [n, cols[i]!]));
}

async function vibration(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    allowPositionals: true,
    options: {
      'sample-rate': { type: 'string' }, column: { type: 'string', multiple: true }, window: { type: 'string' },
      hop: { type: 'string' }, 'running-speed': { type: 'string' }, segment: { type: 'string' }, 'keep-dc': { type: 'boolean' },
      out: { type: 'string' }, format: { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw usageError('features vibration takes exactly one FILE');
  const sampleRate = numberFlag('sample-rate', values['sample-rate']);
  if (!(sampleRate !== undefined && sampleRate > 0)) throw usageError('--sample-rate HZ is required (samples per second, e.g. 12000)');
  const fmt = format(values);
  const data = readRecording(resolve(io.cwd, positionals[0]!));
  const skip = /^(sample|samples|time|time_s|t|index|idx)$/i;
  const columns = values.column ?? Object.keys(data).filter((c) => !skip.test(c));
  for (const c of columns) if (!data[c]) throw usageError(`--column ${c} not in the file (columns: ${Object.keys(data).join(', ')})`);
  const windowSize = numberFlag('window', values.window);
  const hop = numberFlag('hop', values.hop);
  const segment = numberFlag('segment', values.segment);
  const runningSpeedHz = numberFlag('running-speed', values['running-speed']);
  const rows: Record<string, unknown>[] = [];
  for (const c of columns) {
    const x = data[c]!;
    const w = vibrationWindows(x, { windowSize, hop, removeDc: !values['keep-dc'] });
    const size = windowSize ?? x.length;
    for (let i = 0; i < w.rms.length; i++) {
      const row: Record<string, unknown> = { column: c, window: i, start_s: w.start[i]! / sampleRate };
      for (const k of TIME_DOMAIN_FEATURES) row[k] = w[k][i];
      const seg = segment ?? (size >= 4096 ? 4096 : 2 ** Math.floor(Math.log2(size)));
      const s = spectrumFeatures(x.subarray(w.start[i]!, w.start[i]! + size), { sampleRate, segment: seg, runningSpeedHz });
      row.centroid_hz = s.centroid;
      row.peak_hz = s.peakFrequency;
      if (runningSpeedHz !== undefined) Object.assign(row, { energy_1x: s.energy1x, energy_2x: s.energy2x, energy_3x: s.energy3x });
      rows.push(row);
    }
  }
  emit(io, fmt(aq.from(rows)), values.out);
  return 0;
}

const featuresCommand: Command = {
  name: 'features',
  summary: 'Feature jobs: daily summaries from the store, vibration features of a recording',
  usage: USAGE,
  async run(args, io) {
    const [verb, ...rest] = args;
    if (verb === 'daily') return daily(rest, io);
    if (verb === 'vibration') return vibration(rest, io);
    if (verb === 'labels') return featureLabels(rest, io);
    throw usageError(verb === undefined ? 'features needs a sub-command: daily, vibration or labels' : `features: unknown sub-command "${verb}" (expected daily, vibration or labels)`);
  },
};

/** CLI subcommands of this module, registered by cli/main.ts. */
export const featureCommands: Command[] = [featuresCommand];
