import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { MillwrightError } from '../errors/index.ts';
import { LocalTimeZone, parseTimestamp, splitQuoted } from '../ingest/index.ts';
import { writeFileAtomic } from '../durable/index.ts';
import { addMaintenanceRecords } from './add-records.ts';
import { MAINTENANCE_KINDS, recordProblem, type MaintenanceKind, type MaintenanceRecord } from './record.ts';

/** Fields of a maintenance record that a CMMS column can fill. */
export const CMMS_FIELDS = ['asset', 'kind', 'from', 'to', 'mode', 'note', 'site'] as const;

/** How a CMMS export's columns and times map onto maintenance records. */
export interface CmmsMapping {
  /** Record field → column name in the export (`asset`, `from` required; `kind` unless `kind` below). */
  columns: Partial<Record<(typeof CMMS_FIELDS)[number], string>>;
  /** Kind for every row when the export has no kind column. */
  kind?: MaintenanceKind;
  /** The export's words for the kinds, e.g. `{ Breakdown: 'failure', 'Corrective': 'repair' }` (case-insensitive). */
  kinds?: Record<string, MaintenanceKind>;
  /** Site for every row without a site column. */
  site?: string;
  /**
   * Date format of `from`/`to`, tokens YYYY MM DD HH mm ss (e.g. `DD.MM.YYYY HH:mm`, `MM/DD/YYYY HH:mm`);
   * default ISO 8601 (with a zone, or local to `timeZone`).
   */
  dateFormat?: string;
  /** IANA zone of times without an offset (default UTC). */
  timeZone?: string;
  delimiter?: string;
}

/** Options of {@link importCmmsCsv}. */
export interface CmmsImportOptions {
  /** Import the good rows and write the bad ones (with the reason) to `rejectsFile` instead of refusing the file. */
  skipBad?: boolean;
  /** Where bad rows go with `skipBad` (default `<file>.rejects.csv`). */
  rejectsFile?: string;
}

/** What {@link importCmmsCsv} did. */
export interface CmmsImportSummary {
  rows: number;
  imported: number;
  rejected: { row: number; reason: string }[];
  rejectsFile?: string;
}

/** A parser for one date format: wall-clock text to UTC ms (NaN when it does not match). */
function dateParser(format: string | undefined, zone: LocalTimeZone): (s: string) => number {
  if (!format) {
    return (s) => parseTimestamp(s, 0, s.length, zone);
  }
  const order: string[] = [];
  const re = new RegExp(
    '^' +
      format.replace(/YYYY|MM|DD|HH|mm|ss|[.*+?^${}()|[\]\\]/g, (t) => {
        if (/^[A-Za-z]+$/.test(t)) {
          order.push(t);
          return t === 'YYYY' ? '(\\d{4})' : '(\\d{1,2})';
        }
        return `\\${t}`;
      }) +
      '$',
  );
  return (s) => {
    const m = re.exec(s.trim());
    if (!m) return Number.NaN;
    const v: Record<string, number> = { YYYY: 1970, MM: 1, DD: 1, HH: 0, mm: 0, ss: 0 };
    order.forEach((t, i) => (v[t] = Number(m[i + 1])));
    if (v.MM! < 1 || v.MM! > 12 || v.DD! < 1 || v.DD! > 31 || v.HH! > 23 || v.mm! > 59 || v.ss! > 59) return Number.NaN;
    const wall = Date.UTC(v.YYYY!, v.MM! - 1, v.DD!, v.HH!, v.mm!, v.ss!);
    if (new Date(wall).getUTCDate() !== v.DD) return Number.NaN;
    return zone.toUtc(wall);
  };
}

function splitLines(text: string): string[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  while (lines.length && lines[lines.length - 1]!.trim() === '') lines.pop();
  return lines;
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The kind a row's text names (the export's word mapped, else the word itself), or the mapping's one kind. */
function kindOf(text: string | undefined, m: CmmsMapping): string | undefined {
  if (text === undefined || text === '') return m.kind;
  return Object.entries(m.kinds ?? {}).find(([k]) => k.toLowerCase() === text.toLowerCase())?.[1] ?? text.toLowerCase();
}

/** Reads one data row into a record, or the reason it cannot be one. */
function rowToRecord(cells: string[], index: Map<string, number>, m: CmmsMapping, parseDate: (s: string) => number, source: string): MaintenanceRecord | string {
  const cell = (f: (typeof CMMS_FIELDS)[number]) => {
    const i = index.get(f);
    return i === undefined ? undefined : (cells[i] ?? '').trim();
  };
  const kind = kindOf(cell('kind'), m);
  if (!MAINTENANCE_KINDS.includes(kind as MaintenanceKind)) return `kind ${JSON.stringify(cell('kind') ?? kind)} is not one of ${MAINTENANCE_KINDS.join(', ')}${m.kinds ? ` nor ${Object.keys(m.kinds).join(', ')}` : ''}`;
  const fromText = cell('from') ?? '';
  const from = parseDate(fromText);
  if (!Number.isFinite(from)) return `from ${JSON.stringify(fromText)} is not a time in ${m.dateFormat ?? 'ISO 8601'}${m.timeZone ? ` (${m.timeZone})` : ''}`;
  const toText = cell('to');
  const to = toText ? parseDate(toText) : undefined;
  if (to !== undefined && !Number.isFinite(to)) return `to ${JSON.stringify(toText)} is not a time in ${m.dateFormat ?? 'ISO 8601'}`;
  const rec: MaintenanceRecord = {
    site: cell('site') || m.site || '',
    asset: cell('asset') ?? '',
    kind: kind as MaintenanceKind,
    from,
    ...(to === undefined ? {} : { to }),
    ...(cell('mode') ? { mode: cell('mode') } : {}),
    ...(cell('note') ? { note: cell('note') } : {}),
    source,
  };
  return recordProblem(rec) ?? rec;
}

function columnIndex(header: string[], m: CmmsMapping, file: string): Map<string, number> {
  const index = new Map<string, number>();
  for (const [field, col] of Object.entries(m.columns)) {
    if (!CMMS_FIELDS.includes(field as (typeof CMMS_FIELDS)[number])) throw new MillwrightError('USAGE', `mapping field "${field}" is not one of ${CMMS_FIELDS.join(', ')}`);
    const i = header.findIndex((h) => h.trim() === col);
    if (i < 0) throw new MillwrightError('BAD_INPUT', `${file}: no column "${col}" for ${field} (columns: ${header.join(', ')})`);
    index.set(field, i);
  }
  for (const need of ['asset', 'from'] as const) if (!index.has(need)) throw new MillwrightError('USAGE', `the mapping needs a column for ${need} (e.g. ${need}=${need === 'asset' ? 'Equipment' : 'Start'})`);
  if (!index.has('kind') && !m.kind) throw new MillwrightError('USAGE', 'the mapping needs a kind column (kind=Type) or one kind for every row');
  if (!index.has('site') && !m.site) throw new MillwrightError('USAGE', 'the mapping needs a site column (site=Plant) or one site for every row');
  return index;
}

/**
 * Imports a CMMS export (CSV with a header row) as maintenance records. Every row is checked
 * first; with any bad row the whole file is refused (BAD_INPUT naming the rows, 1-based data rows
 * with the header as row 1), unless `skipBad`, which imports the good rows and writes the bad ones
 * with their reason to a rejects file. Duplicates of stored records refuse the import (CONFLICT).
 *
 * @example
 * import { importCmmsCsv } from 'millwright';
 * await importCmmsCsv('.millwright/store', 'work-orders.csv', {
 *   columns: { asset: 'Equipment', kind: 'Type', from: 'Start', to: 'End', mode: 'Cause', note: 'Text' },
 *   kinds: { Breakdown: 'failure', Corrective: 'repair', Inspection: 'inspection' },
 *   site: 'plant-a', dateFormat: 'DD.MM.YYYY HH:mm', timeZone: 'Europe/Berlin' });
 */
export async function importCmmsCsv(root: string, file: string, mapping: CmmsMapping, options: CmmsImportOptions = {}): Promise<CmmsImportSummary> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new MillwrightError(err.code === 'ENOENT' ? 'NOT_FOUND' : 'BAD_INPUT', `cannot read ${file}: ${err.message}`);
  });
  const lines = splitLines(text);
  const delimiter = mapping.delimiter ?? ',';
  const header = splitQuoted(lines[0] ?? '', delimiter);
  if (lines.length === 0 || !Array.isArray(header)) throw new MillwrightError('BAD_INPUT', `${file}: no header row`);
  const index = columnIndex(header, mapping, file);
  const parseDate = dateParser(mapping.dateFormat, new LocalTimeZone(mapping.timeZone ?? 'UTC', 'reject'));
  const source = `cmms:${basename(file)}`;
  const good: { row: number; rec: MaintenanceRecord }[] = [];
  const rejected: { row: number; reason: string; line: string }[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i]!.trim() === '') continue;
    const cells = splitQuoted(lines[i]!, delimiter);
    const r = Array.isArray(cells) ? rowToRecord(cells, index, mapping, parseDate, source) : cells.error;
    if (typeof r === 'string') rejected.push({ row: i + 1, reason: r, line: lines[i]! });
    else good.push({ row: i + 1, rec: r });
  }
  if (rejected.length && !options.skipBad) {
    throw new MillwrightError('BAD_INPUT', `${file}: ${rejected.length} bad row(s), nothing imported (use --skip-bad to import the rest): ${rejected.slice(0, 20).map((r) => `row ${r.row}: ${r.reason}`).join('; ')}`);
  }
  await addMaintenanceRecords(root, good.map((g) => g.rec), (i) => `${file} row ${good[i]!.row}`);
  let rejectsFile: string | undefined;
  if (rejected.length) {
    rejectsFile = options.rejectsFile ?? `${file}.rejects.csv`;
    await writeFileAtomic(rejectsFile, `row,reason,line\n${rejected.map((r) => `${r.row},${csvField(r.reason)},${csvField(r.line)}`).join('\n')}\n`);
  }
  return { rows: good.length + rejected.length, imported: good.length, rejected: rejected.map(({ row, reason }) => ({ row, reason })), ...(rejectsFile ? { rejectsFile } : {}) };
}
