/**
 * Business keys of captured requests: input columns the model does not use (a lot id, an asset
 * name, a time) that late labels name instead of an inference id. The capture keeps the whole
 * request body, so they are read back from it, one value per request row; a row without the
 * column has null, never an error (the record still counts for drift and quality).
 */
import { parseCsv } from '../lib/wire/csv.ts';
import type { InputFormat } from '../lib/wire/parse-input.ts';

/** A key cell as the client sent it: strings stay strings, numbers numbers, anything else null. */
export type KeyValue = string | number | null;

function cell(v: unknown): KeyValue {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) ? v : null;
}

/** Rows of a parsed JSON body as objects (column name -> value), or undefined for positional rows. */
function jsonRows(doc: unknown): Record<string, unknown>[] | undefined {
  if (Array.isArray(doc)) return doc.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r)) ? (doc as Record<string, unknown>[]) : undefined;
  if (doc === null || typeof doc !== 'object') return undefined;
  const o = doc as Record<string, unknown>;
  const split = o.dataframe_split as { columns?: unknown; data?: unknown } | undefined;
  if (split && Array.isArray(split.columns) && Array.isArray(split.data)) {
    const cols = split.columns as unknown[];
    return (split.data as unknown[]).map((row) => Object.fromEntries(cols.map((c, i) => [String(c), Array.isArray(row) ? row[i] : undefined])));
  }
  for (const k of ['dataframe_records', 'instances', 'inputs'] as const) if (Array.isArray(o[k])) return jsonRows(o[k]);
  return [o];
}

/**
 * The values of `names` in each of a request body's `rows` rows: `out[k][r]` is column `names[k]`
 * of row r. CSV bodies need a header row naming the column; JSON bodies name it in each record.
 *
 * @example
 * import { captureKeyValues } from 'millwright/reports';
 * captureKeyValues('{"instances":[{"a":1,"lot":"L7"}]}', 'json', ['lot'], 1); // [['L7']]
 */
export function captureKeyValues(text: string, format: InputFormat, names: readonly string[], rows: number): KeyValue[][] {
  const out = names.map(() => new Array<KeyValue>(rows).fill(null));
  if (names.length === 0 || rows === 0) return out;
  let records: Record<string, unknown>[] | undefined;
  if (format === 'csv') {
    const recs = parseCsv(text);
    const head = recs[0]?.cells ?? [];
    const at = names.map((n) => head.indexOf(n));
    if (at.every((i) => i < 0)) return out;
    // A header row names the columns; the data rows follow it, as parseInput reads them.
    recs.slice(1, rows + 1).forEach((rec, r) =>
      at.forEach((i, k) => {
        const v = i >= 0 ? rec.cells[i] : undefined;
        out[k]![r] = v === undefined || v.trim() === '' ? null : v;
      }),
    );
    return out;
  }
  try {
    records = format === 'jsonl' ? text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>) : jsonRows(JSON.parse(text));
  } catch {
    return out;
  }
  if (!records) return out;
  records.slice(0, rows).forEach((rec, r) => names.forEach((n, k) => (out[k]![r] = rec && typeof rec === 'object' ? cell(rec[n]) : null)));
  return out;
}
