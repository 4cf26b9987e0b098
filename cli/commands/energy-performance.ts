import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { MillwrightError } from '../../lib/errors/index.ts';
import { plantsDir, storeRoot } from '../../lib/config/index.ts';
import { loadPlant } from '../../lib/plant/index.ts';
import type { CliIO } from '../command.ts';
import { numberFlag, parseCommandArgs, usageError } from '../command.ts';
import { loadSource } from '../../reports/load.ts';
import { filterFrame, type Frame } from '../../reports/data.ts';
import { energyPerformanceReport } from '../../reports/presets.ts';
import type { Granularity, Shift, StaticFactorAdjustment } from '../../reports/index.ts';
import { finishReport } from './report-output.ts';
import { sql } from '../../lib/store/index.ts';

/** Shown inside `millwright report --help` (and so in docs/cli.md). */
export const ENERGY_PERFORMANCE_USAGE = `energy-performance: ISO 50006 energy baseline, EnPIs, savings with CUSUM and ASHRAE Guideline 14 uncertainty
  millwright report energy-performance <data> --baseline-period FROM..TO --reporting-period FROM..TO [options]
  millwright report energy-performance <reporting data> --reference <baseline data> [options]
  --energy COL           energy per row (default energy)
  --production COL       production volume per row (summed): specific energy consumption
  --temperature COL      outdoor temperature per row: degree-days, balance points searched as CalTRACK does
  --temperature-unit C|F (default C)
  --drivers a,b          other numeric relevant variables (mean per period)
  --categorical a,b      categorical relevant variables (share of each level per period)
  --granularity hour|day|week|month   period the baseline is fitted on (default day)
  --no-calendar          no Saturday/Sunday (and hour-of-day/shift) terms
  --shifts early:6-14,late:14-22,night:22-6   shift terms for hourly models (default: hour of day)
  --adjustments FILE     static-factor changes (YAML/JSON list of {from, to?, factor?, perDay?, description}),
                         or "events": the store's events table, kind static-factor (message: JSON {factor?, perDay?, description})
  --utc-offset MINUTES   plant time offset (periods, weekdays, dates without a zone); --interval-end: stamps close their interval
  --unit kWh             energy unit label; --production-unit t
  --plant NAME           column names from a plant config's signals (energy, production, temperature roles)
  --out DIR, --title, --store, --fail-on warn|fail as above
  Dates (FROM..TO, TO exclusive) are plant-local days, e.g. 2018-01-01..2018-10-01.

  millwright report energy-performance plant.csv --energy kwh --production tonnes --temperature t_out \\
    --baseline-period 2021-01-01..2022-01-01 --reporting-period 2022-01-01..2023-01-01 --utc-offset 60`;

const adjustmentSchema = z.array(
  z.object({
    from: z.union([z.string(), z.number()]),
    to: z.union([z.string(), z.number()]).optional(),
    factor: z.number().positive().optional(),
    perDay: z.number().optional(),
    description: z.string().min(1),
  }).strict(),
);

async function readAdjustments(path: string): Promise<StaticFactorAdjustment[]> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new MillwrightError(err.code === 'ENOENT' ? 'NOT_FOUND' : 'BAD_INPUT', `--adjustments: cannot read ${path}: ${err.message}`);
  });
  const parsed = adjustmentSchema.safeParse(parseYaml(text));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `[${i.path.join('].')}${i.path.length ? '' : ''}: ${i.message}`.replace(/^\[\]?/, '').replace(/^(\d+)\]\.?/, '[$1].'));
    throw new MillwrightError('BAD_INPUT', `--adjustments ${path}: ${issues.join('; ')} (expected a list of {from, to?, factor?, perDay?, description})`);
  }
  return parsed.data;
}

/**
 * Static-factor changes recorded in the store's events table (`kind = 'static-factor'`): `from_ts`
 * (and `to_ts`) bound it, `message` holds `{factor?, perDay?, description}` as JSON.
 */
async function adjustmentsFromEvents(root: string): Promise<StaticFactorAdjustment[]> {
  const { rows } = await sql("SELECT epoch_ms(coalesce(from_ts, ts)) AS from_ms, epoch_ms(to_ts) AS to_ms, message, id FROM events WHERE kind = 'static-factor' ORDER BY 1", { root });
  return rows.map((r) => {
    let m: { factor?: number; perDay?: number; description?: string };
    try {
      m = JSON.parse(String(r.message ?? '{}')) as typeof m;
    } catch {
      throw new MillwrightError('BAD_INPUT', `events table: static-factor event ${String(r.id)} has a message that is not JSON ({factor?, perDay?, description})`);
    }
    const parsed = adjustmentSchema.safeParse([{ from: Number(r.from_ms), ...(r.to_ms === null ? {} : { to: Number(r.to_ms) }), ...m, description: m.description ?? `static-factor event ${String(r.id)}` }]);
    if (!parsed.success) throw new MillwrightError('BAD_INPUT', `events table: static-factor event ${String(r.id)}: ${parsed.error.issues.map((i) => `${i.path.slice(1).join('.')}: ${i.message}`).join('; ')}`);
    return parsed.data[0]!;
  });
}

function parseShifts(text: string): Shift[] {
  return text.split(',').map((part) => {
    const m = /^([\w-]+):(\d{1,2})-(\d{1,2})$/.exec(part.trim());
    if (!m || Number(m[2]) > 23 || Number(m[3]) > 24) throw usageError(`--shifts: "${part}" is not name:FROM-TO with hours 0-24 (e.g. early:6-14)`);
    return { name: m[1]!, from: Number(m[2]), to: Number(m[3]) % 24 };
  });
}

/** A FROM..TO range of plant-local dates as [from, to) epoch ms UTC. */
function parsePeriod(flag: string, text: string, offsetMinutes: number): [number, number] {
  const m = /^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$/.exec(text);
  const range = m ? [Date.parse(`${m[1]}T00:00Z`), Date.parse(`${m[2]}T00:00Z`)] : [];
  if (!m || !(range[0]! < range[1]!)) throw usageError(`--${flag}: "${text}" is not FROM..TO with FROM before TO (dates such as 2018-01-01..2018-10-01)`);
  return [range[0]! - offsetMinutes * 60_000, range[1]! - offsetMinutes * 60_000];
}

function slice(frame: Frame, ts: string, [from, to]: [number, number], intervalEnd: boolean): Frame {
  const col = frame.columns.get(ts);
  if (!col) throw new MillwrightError('BAD_INPUT', `column "${ts}" not found (columns: ${frame.names.join(', ')})`);
  const shift = intervalEnd ? 1 : 0;
  const keep = col.kind === 'numeric' ? Array.from(col.values, (t) => t - shift >= from && t - shift < to) : col.values.map((v) => {
    const t = v === null ? Number.NaN : Date.parse(/(Z|[+-]\d{2}:?\d{2})$/i.test(v.trim()) ? v.trim().replace(' ', 'T') : `${v.trim().replace(' ', 'T')}Z`);
    return t - shift >= from && t - shift < to;
  });
  return filterFrame(frame, keep);
}

/** `millwright report energy-performance ...` */
export async function runEnergyPerformance(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    allowPositionals: true,
    options: {
      out: { type: 'string' }, reference: { type: 'string' }, store: { type: 'string' }, title: { type: 'string' }, 'fail-on': { type: 'string' },
      'baseline-period': { type: 'string' }, 'reporting-period': { type: 'string' }, ts: { type: 'string' }, energy: { type: 'string' }, production: { type: 'string' },
      temperature: { type: 'string' }, 'temperature-unit': { type: 'string' }, drivers: { type: 'string' }, categorical: { type: 'string' }, granularity: { type: 'string' },
      'no-calendar': { type: 'boolean' }, shifts: { type: 'string' }, adjustments: { type: 'string' }, 'utc-offset': { type: 'string' }, 'interval-end': { type: 'boolean' },
      unit: { type: 'string' }, 'production-unit': { type: 'string' }, plant: { type: 'string' }, plants: { type: 'string' },
    },
  });
  if (values.plant) {
    // A plant's data pivoted by role (as its retrain query does) has one column per role.
    const plant = await loadPlant(values.plant, { dir: plantsDir(values.plants, io.env, io.cwd) });
    values.energy ??= plant.signals.energy ? 'energy' : undefined;
    values.production ??= plant.signals.production ? 'production' : undefined;
    values.temperature ??= plant.signals.temperature ? 'temperature' : undefined;
    values.granularity ??= plant.reports.granularity;
  }
  if (positionals.length !== 1) throw usageError('energy-performance expects one data source (the reporting period, or all data with --baseline-period/--reporting-period)');
  const failOn = values['fail-on'];
  if (failOn !== undefined && failOn !== 'warn' && failOn !== 'fail') throw usageError(`--fail-on must be warn or fail, got "${failOn}"`);
  const g = values.granularity ?? 'day';
  if (!['hour', 'day', 'week', 'month'].includes(g)) throw usageError(`--granularity must be hour, day, week or month, got "${g}"`);
  const unitT = values['temperature-unit'] ?? 'C';
  if (unitT !== 'C' && unitT !== 'F') throw usageError(`--temperature-unit must be C or F, got "${unitT}"`);
  const offset = numberFlag('utc-offset', values['utc-offset'], { integer: true, min: -840, max: 840 }) ?? 0;
  const root = storeRoot(values.store, io.env, io.cwd);
  const load = (s: string) => loadSource(s.startsWith('sql:') ? s : resolve(io.cwd, s), { storeRoot: root });
  const data = await load(positionals[0]!);
  const ts = values.ts ?? 'ts';
  const intervalEnd = values['interval-end'] ?? false;
  let reporting: Frame;
  let baseline: Frame;
  if (values['baseline-period'] || values['reporting-period']) {
    if (!values['baseline-period'] || !values['reporting-period']) throw usageError('--baseline-period and --reporting-period go together');
    if (values.reference) throw usageError('give either --reference or the two periods, not both');
    baseline = slice(values.reference ? await load(values.reference) : data, ts, parsePeriod('baseline-period', values['baseline-period'], offset), intervalEnd);
    reporting = slice(data, ts, parsePeriod('reporting-period', values['reporting-period'], offset), intervalEnd);
  } else if (values.reference) {
    baseline = await load(values.reference);
    reporting = data;
  } else throw usageError('energy-performance needs the baseline: --reference SRC, or --baseline-period and --reporting-period');
  const list = (s: string | undefined) => (s === undefined ? undefined : s.split(',').map((x) => x.trim()).filter(Boolean));
  const report = energyPerformanceReport(reporting, baseline, {
    title: values.title, source: positionals[0], referenceSource: values.reference ?? values['baseline-period'],
    ts, energy: values.energy, production: values.production, temperature: values.temperature, temperatureUnit: unitT,
    drivers: list(values.drivers), categorical: list(values.categorical), granularity: g as Granularity, calendar: !values['no-calendar'],
    shifts: values.shifts ? parseShifts(values.shifts) : undefined,
    adjustments: values.adjustments === 'events' ? await adjustmentsFromEvents(root) : values.adjustments ? await readAdjustments(resolve(io.cwd, values.adjustments)) : undefined,
    utcOffsetMinutes: offset, timestampsMarkIntervalEnd: intervalEnd, unit: values.unit, productionUnit: values['production-unit'],
  });
  return finishReport(report, 'energy-performance', values.out, failOn, io);
}
