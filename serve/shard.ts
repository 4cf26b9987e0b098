import type { FeatureSpec } from '../lib/model/contract.ts';
import type { InvocationResult } from './invocations.ts';
import { parseCsv } from '../lib/wire/csv.ts';
import { baseMediaType, isHeaderRow } from '../lib/wire/parse-input.ts';

/** Bodies at least this large are split across workers (a 1,000-row CSV is ~40 KB; 10,000 rows ~400 KB). */
export const SHARD_MIN_BYTES = 128 * 1024;

const NL = 10;
const QUOTE = 34;

/**
 * Splits a large headerless-or-headed CSV body into up to `parts` bodies at line boundaries, so
 * one big batch can be predicted by several workers at once. Each part repeats the header row
 * when there is one. Returns undefined when the body should not be split: not CSV, too small,
 * or quoted (a quoted field may contain a newline, so a byte split could cut a record).
 */
export function splitCsvBody(body: Uint8Array, contentType: string | undefined, features: FeatureSpec[], parts: number): Uint8Array[] | undefined {
  const type = baseMediaType(contentType);
  if (parts < 2 || body.byteLength < SHARD_MIN_BYTES || (type !== 'text/csv' && type !== 'application/csv')) return undefined;
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (buf.indexOf(QUOTE) !== -1) return undefined;
  const firstEnd = buf.indexOf(NL);
  if (firstEnd === -1) return undefined;
  const first = parseCsv(buf.subarray(0, firstEnd).toString('utf8'))[0];
  const header = first && isHeaderRow(first.cells, features) ? buf.subarray(0, firstEnd + 1) : undefined;
  const start = header ? firstEnd + 1 : 0;
  const size = buf.byteLength - start;
  const out: Uint8Array[] = [];
  let from = start;
  for (let i = 1; i <= parts && from < buf.byteLength; i++) {
    let to = i === parts ? buf.byteLength : buf.indexOf(NL, start + Math.floor((size * i) / parts));
    to = to === -1 ? buf.byteLength : Math.min(buf.byteLength, to + 1);
    if (to <= from) continue;
    const piece = buf.subarray(from, to);
    if (!blank(piece)) out.push(header ? Buffer.concat([header, piece]) : piece);
    from = to;
  }
  return out.length >= 2 ? out : undefined;
}

/**
 * True when `bytes` hold only what `String.prototype.trim` removes from their latin1 text (tab,
 * line feed, vertical tab, form feed, carriage return, space, no-break space). A byte scan that
 * stops at the first other byte: decoding each ~800 KB part of a 10,000-row batch to a string just
 * to trim it was ~2 ms of the HTTP thread per request, before any worker could start.
 */
function blank(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (!((b >= 9 && b <= 13) || b === 32 || b === 160)) return false;
  }
  return true;
}

/**
 * Joins the results of the parts of a split body, in order. Returns undefined if any part
 * failed: the caller then runs the whole body once so an error names the right row.
 */
export function mergeResults(results: InvocationResult[]): InvocationResult | undefined {
  if (results.some((r) => r.status !== 200)) return undefined;
  const type = results[0]!.headers['content-type'] ?? '';
  let body: string;
  if (type.startsWith('application/json')) {
    const prefix = '{"predictions":[';
    if (!results.every((r) => r.body.startsWith(prefix) && r.body.endsWith(']}'))) return undefined;
    body = `${prefix}${results.map((r) => r.body.slice(prefix.length, -2)).join(',')}]}`;
  } else {
    body = results.map((r) => r.body).join('');
  }
  return { status: 200, headers: results[0]!.headers, body, rows: results.reduce((s, r) => s + (r.rows ?? 0), 0) };
}
