import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../errors/index.ts';
import type { FeatureSpec } from '../model/contract.ts';
import { CoercionProblem, coerceFeatureValue, describeValue } from '../model/coerce-feature.ts';
import { parseCsv } from './csv.ts';

/** Request media types `POST /invocations` accepts (parameters such as charset are ignored). */
export const INPUT_TYPES = ['text/csv', 'application/json', 'application/jsonlines', 'application/x-ndjson'] as const;
export type InputFormat = 'csv' | 'json' | 'jsonl';

const INPUT_ALIASES: Record<string, InputFormat> = {
  'text/csv': 'csv',
  'application/csv': 'csv',
  'application/json': 'json',
  'application/jsonlines': 'jsonl',
  'application/jsonl': 'jsonl',
  'application/x-jsonlines': 'jsonl',
  'application/x-ndjson': 'jsonl',
};

/** Media type without parameters, lower-cased. */
export function baseMediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Input format for a Content-Type header, or UNSUPPORTED_MEDIA_TYPE. */
export function inputFormat(contentType: string | undefined): InputFormat {
  const base = baseMediaType(contentType);
  const format = INPUT_ALIASES[base];
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (format && charset !== undefined && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
    throw new MillwrightError('UNSUPPORTED_MEDIA_TYPE', `charset "${charset}" is not supported; send the body as UTF-8 (e.g. Content-Type: ${base}; charset=utf-8)`);
  }
  if (format) return format;
  const got = base === '' ? 'no Content-Type header' : `Content-Type "${base}"`;
  throw new MillwrightError('UNSUPPORTED_MEDIA_TYPE', `${got} is not supported; send one of: ${INPUT_TYPES.join(', ')}`);
}

/** Parsed request: the feature table handed to predict, and its row count. */
export interface ParsedInput {
  table: ColumnTable;
  rows: number;
}


/**
 * Parses a request body into a table with exactly the model's features, in feature order.
 * Every value is checked against its feature type; errors name the row and what was expected.
 *
 * @example
 * parseInput('1,2\n3,4', 'csv', [{name: 'a', type: 'number'}, {name: 'b', type: 'number'}]).rows // => 2
 */
export function parseInput(text: string, format: InputFormat, features: FeatureSpec[]): ParsedInput {
  if (text.trim() === '') throw new MillwrightError('BAD_INPUT', `empty request body; expected at least one row of ${features.length} feature(s): ${names(features)}`);
  if (format === 'csv') return fromCsv(text, features);
  if (format === 'jsonl') return fromJsonLines(text, features);
  return fromJson(text, features);
}

function fromCsv(text: string, features: FeatureSpec[]): ParsedInput {
  const records = parseCsv(text);
  if (records.length === 0) throw new MillwrightError('BAD_INPUT', `CSV body has no rows; expected rows of ${features.length} value(s): ${names(features)}`);
  let order: number[] | undefined; // order[f] = cell index holding feature f
  let first = 0;
  const head = records[0]!.cells;
  if (isHeaderRow(head, features)) {
    const missing = features.filter((f) => !head.includes(f.name)).map((f) => f.name);
    if (missing.length > 0) {
      throw new MillwrightError('BAD_INPUT', `CSV header row is missing feature(s) ${missing.join(', ')}; expected columns: ${names(features)}`);
    }
    order = features.map((f) => head.indexOf(f.name));
    first = 1;
  }
  const n = records.length - first;
  if (n === 0) throw new MillwrightError('BAD_INPUT', 'CSV body has a header row but no data rows');
  const cols = makeColumns(features, n);
  for (let r = 0; r < n; r++) {
    const rec = records[r + first]!;
    const cells = rec.cells;
    if (order === undefined) {
      if (cells.length !== features.length) {
        throw new MillwrightError(
          'BAD_INPUT',
          `row ${r + 1} (line ${rec.line}): expected ${features.length} value(s) (${names(features)}), got ${cells.length}`,
        );
      }
      for (let f = 0; f < features.length; f++) cols.set(f, r, cells[f], rec.line);
    } else {
      if (cells.length !== head.length) {
        throw new MillwrightError('BAD_INPUT', `row ${r + 1} (line ${rec.line}): expected ${head.length} value(s) as in the header row, got ${cells.length}`);
      }
      for (let f = 0; f < features.length; f++) cols.set(f, r, cells[order[f]!], rec.line);
    }
  }
  return cols.finish();
}

function fromJsonLines(text: string, features: FeatureSpec[]): ParsedInput {
  const lines: { row: unknown; line: number }[] = [];
  let lineNo = 0;
  for (const raw of text.split('\n')) {
    lineNo++;
    const s = raw.trim();
    if (s === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(s);
    } catch (err) {
      throw new MillwrightError('BAD_INPUT', `JSON Lines line ${lineNo}: not valid JSON (${(err as Error).message}); expected one JSON array or object per line`);
    }
    lines.push({ row: value, line: lineNo });
  }
  const cols = makeColumns(features, lines.length);
  for (let r = 0; r < lines.length; r++) setRow(cols, features, r, lines[r]!.row, `line ${lines[r]!.line}`);
  return cols.finish();
}

function fromJson(text: string, features: FeatureSpec[]): ParsedInput {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof RangeError ? 'nested too deeply' : (err as Error).message;
    throw new MillwrightError('BAD_INPUT', `body is not valid JSON (${reason})`);
  }
  if (Array.isArray(doc)) return fromRows(doc, features, 'body');
  if (doc === null || typeof doc !== 'object') {
    throw new MillwrightError('BAD_INPUT', `JSON body is ${describeValue(doc)}; ${JSON_FORMS}`);
  }
  const obj = doc as Record<string, unknown>;
  if ('dataframe_split' in obj) {
    const split = obj.dataframe_split as { columns?: unknown; data?: unknown } | null;
    if (split === null || typeof split !== 'object' || !Array.isArray(split.data)) {
      throw new MillwrightError('BAD_INPUT', 'dataframe_split must be an object {"columns": [...], "data": [[...], ...]}');
    }
    if (split.columns === undefined) return fromRows(split.data, features, 'dataframe_split.data');
    if (!Array.isArray(split.columns) || !split.columns.every((c) => typeof c === 'string')) {
      throw new MillwrightError('BAD_INPUT', 'dataframe_split.columns must be an array of column names');
    }
    const columns = split.columns as string[];
    const missing = features.filter((f) => !columns.includes(f.name)).map((f) => f.name);
    if (missing.length > 0) throw new MillwrightError('BAD_INPUT', `dataframe_split.columns is missing feature(s) ${missing.join(', ')}; expected: ${names(features)}`);
    const order = features.map((f) => columns.indexOf(f.name));
    const data = split.data;
    const cols = makeColumns(features, data.length);
    for (let r = 0; r < data.length; r++) {
      const row = data[r];
      if (!Array.isArray(row)) throw new MillwrightError('BAD_INPUT', `dataframe_split.data row ${r + 1}: expected an array of ${columns.length} values, got ${describeValue(row)}`);
      if (row.length !== columns.length) {
        throw new MillwrightError('BAD_INPUT', `dataframe_split.data row ${r + 1}: expected ${columns.length} value(s) as in columns, got ${row.length}`);
      }
      for (let f = 0; f < features.length; f++) cols.set(f, r, row[order[f]!], undefined);
    }
    return cols.finish();
  }
  if ('dataframe_records' in obj) {
    if (!Array.isArray(obj.dataframe_records)) throw new MillwrightError('BAD_INPUT', 'dataframe_records must be an array of {feature: value} objects');
    return fromRows(obj.dataframe_records, features, 'dataframe_records');
  }
  for (const key of ['instances', 'inputs'] as const) {
    if (!(key in obj)) continue;
    const v = obj[key];
    if (Array.isArray(v)) return fromRows(v, features, key);
    if (v !== null && typeof v === 'object') return fromColumnar(v as Record<string, unknown>, features, key);
    throw new MillwrightError('BAD_INPUT', `${key} must be an array of rows or an object of columns, got ${describeValue(v)}`);
  }
  throw new MillwrightError('BAD_INPUT', `JSON body has none of the keys dataframe_split, dataframe_records, instances, inputs; ${JSON_FORMS}`);
}

const JSON_FORMS =
  'expected {"dataframe_split": {"columns": [...], "data": [[...]]}}, {"dataframe_records": [{...}]}, {"instances": [[...]]} or {"inputs": [[...]]}';

function fromRows(rows: unknown[], features: FeatureSpec[], where: string): ParsedInput {
  if (rows.length === 0) throw new MillwrightError('BAD_INPUT', `${where} is empty; expected at least one row`);
  const cols = makeColumns(features, rows.length);
  for (let r = 0; r < rows.length; r++) setRow(cols, features, r, rows[r], `${where} row ${r + 1}`);
  return cols.finish();
}

function fromColumnar(obj: Record<string, unknown>, features: FeatureSpec[], where: string): ParsedInput {
  let n = -1;
  for (const f of features) {
    const col = obj[f.name];
    if (!Array.isArray(col)) throw new MillwrightError('BAD_INPUT', `${where}.${f.name} must be an array of values (one per row); expected columns: ${names(features)}`);
    if (n === -1) n = col.length;
    else if (col.length !== n) throw new MillwrightError('BAD_INPUT', `${where}.${f.name} has ${col.length} values but ${features[0]!.name} has ${n}; columns must have equal lengths`);
  }
  if (n <= 0) throw new MillwrightError('BAD_INPUT', `${where} has no rows`);
  const cols = makeColumns(features, n);
  for (let f = 0; f < features.length; f++) {
    const col = obj[features[f]!.name] as unknown[];
    for (let r = 0; r < n; r++) cols.set(f, r, col[r], undefined);
  }
  return cols.finish();
}

function setRow(cols: Columns, features: FeatureSpec[], r: number, row: unknown, where: string): void {
  if (Array.isArray(row)) {
    if (row.length !== features.length) {
      throw new MillwrightError('BAD_INPUT', `${where}: expected ${features.length} value(s) (${names(features)}), got ${row.length}`);
    }
    for (let f = 0; f < features.length; f++) cols.set(f, r, row[f], undefined, where);
    return;
  }
  if (row !== null && typeof row === 'object') {
    const rec = row as Record<string, unknown>;
    for (let f = 0; f < features.length; f++) {
      const name = features[f]!.name;
      if (!(name in rec)) throw new MillwrightError('BAD_INPUT', `${where}: missing feature "${name}"; expected keys: ${names(features)}`);
      cols.set(f, r, rec[name], undefined, where);
    }
    return;
  }
  if (features.length === 1) {
    cols.set(0, r, row, undefined, where);
    return;
  }
  throw new MillwrightError('BAD_INPUT', `${where}: expected an array of ${features.length} values or an object keyed by feature name, got ${describeValue(row)}`);
}

interface Columns {
  set(f: number, r: number, value: unknown, line: number | undefined, where?: string): void;
  finish(): ParsedInput;
}

function makeColumns(features: FeatureSpec[], n: number): Columns {
  const data = features.map((f) => (f.type === 'number' || f.type === 'integer' ? new Float64Array(n) : new Array<unknown>(n)));
  return {
    set(f, r, value, line, where) {
      const feature = features[f]!;
      const col = data[f]!;
      const v = coerceFeatureValue(value, feature, 'reject');
      if (v instanceof CoercionProblem) {
        const at = where ?? (line === undefined ? `row ${r + 1}` : `row ${r + 1} (line ${line})`);
        throw new MillwrightError('BAD_INPUT', `${at}: feature "${feature.name}" (${f + 1} of ${features.length}) ${v.text}`);
      }
      (col as unknown[] | Float64Array)[r] = v as never;
    },
    finish() {
      const columns: Record<string, unknown> = {};
      features.forEach((f, i) => (columns[f.name] = data[i]));
      return { table: aq.table(columns as Record<string, unknown[]>), rows: n };
    },
  };
}

/**
 * A first CSV row is a header when it names at least one feature and has no numeric cell
 * (headerless SageMaker rows are all data; a header must then name every feature).
 */
export function isHeaderRow(cells: string[], features: FeatureSpec[]): boolean {
  const featureNames = new Set(features.map((f) => f.name));
  return cells.some((c) => featureNames.has(c)) && cells.every((c) => c === '' || !isNumeric(c));
}

function isNumeric(s: string): boolean {
  return s.trim() !== '' && Number.isFinite(Number(s));
}

function names(features: FeatureSpec[]): string {
  const all = features.map((f) => f.name);
  return all.length > 12 ? `${all.slice(0, 12).join(', ')}, … (${all.length} in all)` : all.join(', ');
}
