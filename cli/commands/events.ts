import { resolve } from 'node:path';
import { storeRoot } from '../../lib/config/index.ts';
import { LocalTimeZone, parseTimestamp } from '../../lib/ingest/index.ts';
import {
  addMaintenanceRecord, importCmmsCsv, listMaintenanceRecords, CMMS_FIELDS, MAINTENANCE_KINDS,
  type CmmsMapping, type MaintenanceKind,
} from '../../lib/maintenance/index.ts';
import { parseCommandArgs, usageError, type CliIO, type Command } from '../command.ts';

const USAGE = `millwright events add|import|list: maintenance records (failures, repairs, inspections) in the store's events table
  millwright events add --asset A --kind failure|repair|inspection --from T [--to T] [--mode M] [--note TEXT] [--site S]
  millwright events import FILE --map asset=Equipment,from=Start[,to=End,kind=Type,mode=Cause,note=Text,site=Plant]
        [--kind K] [--kinds Breakdown=failure,Corrective=repair] [--site S] [--date-format "DD.MM.YYYY HH:mm"]
        [--timezone Europe/Berlin] [--delimiter ";"] [--skip-bad [--rejects FILE]]
  millwright events list [--asset A] [--kind K] [--from T] [--to T] [--site S] [--format text|json]
  --store DIR     the store (default MILLWRIGHT_STORE, else ./.millwright/store)
  --site S        site of the records (default plant)
  Times T are ISO 8601 (2024-01-09T14:20:00Z; without an offset: in --timezone, default UTC), a date (UTC midnight)
  or epoch ms. A record whose end is before its start, an unknown kind, or a duplicate (same asset, kind and from)
  is refused with nothing written. An import checks every row first and refuses the whole file naming the bad rows,
  unless --skip-bad (bad rows and their reasons go to --rejects, default FILE.rejects.csv).

  millwright events add --asset line01-bearing --kind failure --from 2024-01-09T14:20:00Z --mode bearing-outer-race --note "seized"
  millwright events import work-orders.csv --map asset=Equipment,kind=Type,from=Start,to=End --kinds Breakdown=failure,Repair=repair \\
    --date-format "DD.MM.YYYY HH:mm" --timezone Europe/Berlin --site plant-a`;

/** A time flag: ISO 8601 (zoneless read in `zone`), a plain date (midnight UTC), or epoch ms. */
export function timeFlag(name: string, text: string, zone?: string): number {
  const s = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  const t = parseTimestamp(s, 0, s.length, zone ? new LocalTimeZone(zone, 'reject') : new LocalTimeZone('UTC'));
  if (!Number.isFinite(t)) throw usageError(`--${name}: "${text}" is not a time (expected ISO 8601 such as 2024-01-09T14:20:00Z, a date, or epoch ms)`);
  return t;
}

function kindFlag(text: string | undefined): MaintenanceKind | undefined {
  if (text === undefined) return undefined;
  if (!MAINTENANCE_KINDS.includes(text as MaintenanceKind)) throw usageError(`--kind must be one of ${MAINTENANCE_KINDS.join(', ')}, got "${text}"`);
  return text as MaintenanceKind;
}

function pairs(flag: string, text: string): [string, string][] {
  return text.split(',').map((p) => {
    const i = p.indexOf('=');
    if (i <= 0 || i === p.length - 1) throw usageError(`--${flag}: "${p}" is not key=value`);
    return [p.slice(0, i).trim(), p.slice(i + 1).trim()];
  });
}

const OPTIONS = {
  store: { type: 'string' }, site: { type: 'string' }, asset: { type: 'string' }, kind: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
  mode: { type: 'string' }, note: { type: 'string' }, map: { type: 'string' }, kinds: { type: 'string' }, 'date-format': { type: 'string' },
  timezone: { type: 'string' }, delimiter: { type: 'string' }, 'skip-bad': { type: 'boolean' }, rejects: { type: 'string' }, format: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseCommandArgs<typeof OPTIONS>>['values'];

async function add(root: string, v: Values, io: CliIO): Promise<number> {
  if (!v.asset) throw usageError('events add needs --asset A');
  if (!v.from) throw usageError('events add needs --from T');
  const kind = kindFlag(v.kind);
  if (!kind) throw usageError(`events add needs --kind ${MAINTENANCE_KINDS.join('|')}`);
  const rec = {
    site: v.site ?? 'plant', asset: v.asset, kind, from: timeFlag('from', v.from, v.timezone),
    ...(v.to ? { to: timeFlag('to', v.to, v.timezone) } : {}), ...(v.mode ? { mode: v.mode } : {}), ...(v.note ? { note: v.note } : {}), source: 'cli',
  };
  const { id } = await addMaintenanceRecord(root, rec);
  io.out(`recorded ${kind} of ${rec.asset} from ${new Date(rec.from).toISOString()}${rec.to === undefined ? '' : ` to ${new Date(rec.to).toISOString()}`} (${id})\n`);
  return 0;
}

async function importFile(root: string, file: string, v: Values, io: CliIO): Promise<number> {
  if (!v.map) throw usageError(`events import needs --map field=Column,... (fields: ${CMMS_FIELDS.join(', ')})`);
  const columns = Object.fromEntries(pairs('map', v.map)) as CmmsMapping['columns'];
  const kinds = v.kinds ? Object.fromEntries(pairs('kinds', v.kinds).map(([k, x]) => [k, kindFlag(x)!])) : undefined;
  const mapping: CmmsMapping = {
    columns, site: v.site ?? (columns.site ? undefined : 'plant'), ...(kindFlag(v.kind) ? { kind: kindFlag(v.kind) } : {}), ...(kinds ? { kinds } : {}),
    ...(v['date-format'] ? { dateFormat: v['date-format'] } : {}), ...(v.timezone ? { timeZone: v.timezone } : {}), ...(v.delimiter ? { delimiter: v.delimiter } : {}),
  };
  const s = await importCmmsCsv(root, file, mapping, { skipBad: v['skip-bad'], ...(v.rejects ? { rejectsFile: resolve(io.cwd, v.rejects) } : {}) });
  io.out(`imported ${s.imported} of ${s.rows} rows from ${file}${s.rejectsFile ? `; ${s.rejected.length} rejected to ${s.rejectsFile}` : ''}\n`);
  return 0;
}

async function list(root: string, v: Values, io: CliIO): Promise<number> {
  const recs = await listMaintenanceRecords(root, {
    ...(v.asset ? { asset: v.asset } : {}), ...(kindFlag(v.kind) ? { kind: kindFlag(v.kind) } : {}), ...(v.site ? { site: v.site } : {}),
    ...(v.from ? { from: timeFlag('from', v.from, v.timezone) } : {}), ...(v.to ? { to: timeFlag('to', v.to, v.timezone) } : {}),
  });
  const format = v.format ?? 'text';
  if (format === 'json') {
    io.out(`${JSON.stringify(recs.map((r) => ({ ...r, from: new Date(r.from).toISOString(), ...(r.to === undefined ? {} : { to: new Date(r.to).toISOString() }) })), null, 2)}\n`);
    return 0;
  }
  if (format !== 'text') throw usageError(`--format must be text or json, got "${format}"`);
  for (const r of recs) {
    io.out(`${new Date(r.from).toISOString()}  ${r.to === undefined ? '-'.padEnd(24) : new Date(r.to).toISOString()}  ${r.kind.padEnd(10)} ${r.site}/${r.asset}${r.mode ? `  ${r.mode}` : ''}${r.note ? `  "${r.note}"` : ''}\n`);
  }
  io.out(`${recs.length} record(s)\n`);
  return 0;
}

const eventsCommand: Command = {
  name: 'events',
  summary: 'Add, import (CMMS CSV) and list maintenance records: failures, repairs, inspections',
  usage: USAGE,
  async run(args, io) {
    const [verb, ...rest] = args;
    const { values, positionals } = parseCommandArgs(rest, { allowPositionals: true, options: OPTIONS });
    const root = storeRoot(values.store, io.env, io.cwd);
    if (verb === 'add' || verb === 'list') {
      if (positionals.length) throw usageError(`events ${verb}: unexpected argument "${positionals[0]}"`);
      return verb === 'add' ? add(root, values, io) : list(root, values, io);
    }
    if (verb === 'import') {
      if (positionals.length !== 1) throw usageError('events import takes exactly one FILE');
      return importFile(root, resolve(io.cwd, positionals[0]!), values, io);
    }
    throw usageError(verb === undefined ? 'events needs a sub-command: add, import or list' : `events: unknown sub-command "${verb}" (expected add, import or list)`);
  },
};

/** CLI subcommands of this module, registered by cli/main.ts. */
export const eventCommands: Command[] = [eventsCommand];
