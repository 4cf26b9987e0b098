import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { numberFlag, parseCommandArgs, usageError, type CliIO, type Command } from '../command.ts';
import { storeRoot } from '../../lib/config/index.ts';
import { catalogue, getDataset, type DatasetInfo } from '../../datasets/catalogue.ts';
import { resolveDataDir } from '../../datasets/data-dir.ts';
import { writePlant } from '../../datasets/plant/write-plant.ts';
import { truthToJson } from '../../datasets/plant/truth-json.ts';
import { formatOf, readingsTable, tableToCsv, tableToNdjson, writeTable } from '../../datasets/write-table.ts';

function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c]!))).join('  ')).join('\n') + '\n';
}

/** The `datasets list` text. */
export function listText(): string {
  return pad([
    ['NAME', 'KIND', 'ROWS', 'LICENCE', 'TITLE'],
    ...catalogue.map((d) => [d.name, d.kind, d.rows.toLocaleString('en-US'), d.licence.split(' (')[0]!, d.title]),
  ]);
}

/** The `datasets show` text. */
export function showText(d: DatasetInfo): string {
  const schema = pad([['COLUMN', 'TYPE', 'UNIT', 'DESCRIPTION'], ...d.schema.map((c) => [c.name, c.type, c.unit || '-', c.description])]);
  return `${d.name}: ${d.title}
source:   ${d.source}
licence:  ${d.licence}
files:    ${d.files.join(', ')}
kind:     ${d.kind}
sampling: ${d.sampling}
rows:     ${d.rows.toLocaleString('en-US')}
targets:  ${d.targets}
readings: ${d.readings}

schema:
${schema.replace(/^/gm, '  ').trimEnd()}

quirks handled:
${d.quirks.map((q) => `  - ${q}`).join('\n')}
`;
}

const datasetsCommand: Command = {
  name: 'datasets',
  summary: 'List, describe and load the real industrial datasets',
  usage: `millwright datasets list
millwright datasets show <name>
millwright datasets load <name> [--data-dir DIR] [--out FILE.csv|.ndjson|.parquet] [--long] [--format csv|ndjson]

  list             one line per dataset: name, kind, rows, licence, title
  show <name>      source, licence, files, schema (columns, units, types), sampling, targets, quirks
  load <name>      parse the dataset and write it: the wide table, or with --long the long-form
                   readings (ts,site,asset,signal,value) that "millwright ingest" takes

  --data-dir DIR   folder holding the datasets (default: $MILLWRIGHT_DATA_DIR)
  --out FILE       write to FILE, format from the extension (default: stdout)
  --long           long-form readings instead of the wide table (time-series datasets only)
  --format FMT     stdout format, csv (default) or ndjson

Times are written as ISO 8601 UTC (ts column). Examples:
  millwright datasets load steel-industry-energy --long | millwright ingest -
  millwright datasets load nasa-cmapss --out cmapss-train.parquet`,
  async run(args, io) {
    const [verb, ...rest] = args;
    if (verb === 'list') {
      if (rest.length) throw usageError(`list takes no arguments, got ${rest.join(' ')}`);
      io.out(listText());
      return 0;
    }
    if (verb === 'show') {
      if (rest.length !== 1) throw usageError('show needs exactly one dataset name (see "millwright datasets list")');
      io.out(showText(getDataset(rest[0]!)));
      return 0;
    }
    if (verb === 'load') return load(rest, io);
    throw usageError(verb === undefined ? 'expected a sub-command: list, show or load' : `unknown sub-command "${verb}" (expected list, show or load)`);
  },
};

async function load(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    options: { 'data-dir': { type: 'string' }, out: { type: 'string' }, long: { type: 'boolean', default: false }, format: { type: 'string', default: 'csv' } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw usageError('load needs exactly one dataset name (see "millwright datasets list")');
  if (values.format !== 'csv' && values.format !== 'ndjson') throw usageError(`--format must be csv or ndjson, got "${values.format}"`);
  const d = getDataset(positionals[0]!);
  const out = values.out === undefined ? undefined : resolve(io.cwd, values.out);
  if (out) formatOf(out); // refuse a bad extension before the parse
  const dir = resolveDataDir(values['data-dir'] === undefined ? undefined : resolve(io.cwd, values['data-dir']), io.env);
  const table = values.long ? readingsTable(d.toReadings(dir)) : d.load(dir);
  if (out) {
    await writeTable(table, out);
    io.err(`wrote ${table.numRows().toLocaleString('en-US')} ${values.long ? 'readings' : 'rows'} of ${d.name} to ${out}\n`);
  } else io.out(values.format === 'ndjson' ? tableToNdjson(table) : tableToCsv(table));
  return 0;
}

function fmtDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

const generateCommand: Command = {
  name: 'generate',
  summary: 'Generate a synthetic conveyor sorting centre into the store',
  usage: `millwright generate [--store DIR] [--seed N] [--sites N] [--assets N] [--days N] [--from ISO]
                    [--every 1s|10s|1m] [--shifts 1|2|3] [--vibration rms|raw] [--no-faults]
                    [--out-truth FILE]

Seeded, deterministic synthetic plant: per site, conveyor lines of motor, gearbox and bearing
(vibration, temperature, current, voltage, speed), an energy meter (energy_kwh, power_kw) and
production volume (plant/production_units); shifts, production runs, slow degradation to failure,
stuck sensors, dropouts, a fan-mounted vibration sensor, lines left running idle (wasted energy).

  --store DIR        store root (default: $MILLWRIGHT_STORE or ./.millwright/store)
  --seed N           random seed (default 1): same seed and options, same readings
  --sites N          sites (default 1: sorting-centre-1)
  --assets N         machine assets per site, 3 per conveyor line (default 6)
  --days N           days to generate (default 14)
  --from ISO         start (default 2024-01-01T00:00:00Z, a Monday)
  --every INTERVAL   sample interval, e.g. 1s, 10s, 1m (default 1m)
  --shifts N         shifts per weekday (default 2: 06-14, 14-22 UTC; Saturday 06-14; Sunday closed)
  --vibration MODE   rms (vib_x_rms.. in mm/s, default) or raw (vib_x.. instantaneous g)
  --no-faults        a clean plant: no failures, sensor faults or waste
  --out-truth FILE   write the ground truth (failures, faults, runs, waste, shifts) as JSON

Example: millwright generate --days 7 --every 10s --out-truth truth.json`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      options: {
        store: { type: 'string' },
        seed: { type: 'string' },
        sites: { type: 'string' },
        assets: { type: 'string' },
        days: { type: 'string' },
        from: { type: 'string' },
        every: { type: 'string' },
        shifts: { type: 'string' },
        vibration: { type: 'string' },
        'no-faults': { type: 'boolean', default: false },
        'out-truth': { type: 'string' },
      },
      allowPositionals: true,
    });
    if (positionals.length) throw usageError(`unexpected argument "${positionals[0]}"`);
    const days = numberFlag('days', values.days, { above: 0 });
    const shifts = numberFlag('shifts', values.shifts, { integer: true, min: 1, max: 3 });
    if (values.vibration !== undefined && values.vibration !== 'rms' && values.vibration !== 'raw') throw usageError(`--vibration must be rms or raw, got "${values.vibration}"`);
    const root = storeRoot(values.store, io.env, io.cwd);
    let lastDraw = 0;
    const { readings, files, truth } = await writePlant(
      root,
      {
        seed: values.seed === undefined ? undefined : (numberFlag('seed', values.seed, { integer: true, min: 0 }) ?? 1),
        sites: numberFlag('sites', values.sites, { integer: true, min: 1 }),
        assets: numberFlag('assets', values.assets, { integer: true, min: 1 }),
        days,
        from: values.from,
        every: values.every,
        shifts: shifts as 1 | 2 | 3 | undefined,
        vibration: values.vibration as 'rms' | 'raw' | undefined,
        faults: values['no-faults'] ? false : undefined,
      },
      {
        onProgress: (p) => {
          if (!io.isTTY || (Date.now() - lastDraw < 200 && p.readings < p.total)) return;
          lastDraw = Date.now();
          const rate = p.readings / Math.max(p.elapsedMs / 1000, 1e-3);
          const eta = (p.total - p.readings) / Math.max(rate, 1);
          io.err(`\r${p.readings.toLocaleString('en-US')} / ${p.total.toLocaleString('en-US')} readings  ${Math.round(rate).toLocaleString('en-US')}/s  ETA ${fmtDuration(eta * 1000)}   `);
        },
      },
    );
    if (io.isTTY) io.err('\n');
    if (values['out-truth'] !== undefined) await writeFile(resolve(io.cwd, values['out-truth']), truthToJson(truth));
    const o = truth.options;
    io.out(
      `generated ${readings.toLocaleString('en-US')} readings into ${root} (${files} files)\n` +
        `  sites ${o.sites.join(', ')}; ${o.assets} machine assets per site; ${new Date(o.from).toISOString()} .. ${new Date(o.to).toISOString()} every ${o.everyMs} ms; seed ${o.seed}\n` +
        `  ${truth.runs.length} production runs, ${truth.failures.length} failures (${truth.failures.map((f) => `${f.asset} at ${new Date(f.failure).toISOString()}`).join(', ') || 'none'}), ` +
        `${truth.faults.length} sensor faults, ${truth.waste.length} idle-running waste periods\n` +
        (values['out-truth'] !== undefined ? `  ground truth: ${resolve(io.cwd, values['out-truth'])}\n` : ''),
    );
    return 0;
  },
};

/** CLI subcommands of this module, registered by cli/main.ts. */
export const datasetCommands: Command[] = [datasetsCommand, generateCommand];
