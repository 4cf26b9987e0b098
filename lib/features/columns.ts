import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../errors/index.ts';

/**
 * A numeric column as a Float64Array (zero-copy when the table stores one and is not
 * filtered/ordered); null becomes NaN, bigint becomes number.
 *
 * @example
 * const ts = floatColumn(table, 'ts');
 */
export function floatColumn(table: ColumnTable, name: string): Float64Array {
  if (!table.columnNames().includes(name)) {
    throw new MillwrightError('BAD_INPUT', `column "${name}" not found (table has: ${table.columnNames().join(', ')})`);
  }
  const col = table.column(name) as unknown;
  if (col instanceof Float64Array && !table.isFiltered() && !table.isOrdered()) return col;
  const arr = table.array(name) as ArrayLike<unknown>;
  const out = new Float64Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    out[i] = v === null || v === undefined ? NaN : typeof v === 'bigint' ? Number(v) : (v as number);
  }
  return out;
}

/** A column as an array of values in table order (strings, or whatever it holds). */
export function valueColumn(table: ColumnTable, name: string): ArrayLike<unknown> {
  if (!table.columnNames().includes(name)) {
    throw new MillwrightError('BAD_INPUT', `column "${name}" not found (table has: ${table.columnNames().join(', ')})`);
  }
  // Zero-copy when possible: copying a 10M-string column costs more in GC than in the copy.
  const col = table.column(name) as unknown;
  if (Array.isArray(col) && !table.isFiltered() && !table.isOrdered()) return col as unknown[];
  return table.array(name) as ArrayLike<unknown>;
}

/** Rows of one group (e.g. one asset/signal), in time order. */
export interface Group {
  /** Values of the `by` columns for this group. */
  key: unknown[];
  /** Row indices into the table, sorted by ts (stable). */
  rows: Int32Array;
}

/**
 * Splits a long table into groups by `by` columns, each with its row indices sorted by `ts`.
 * Tables straight from the store are sorted by (asset, signal, ts) within each partition but
 * partitions are concatenated, so a group's rows may come in several blocks: we bucket, then
 * sort a group only when its timestamps are out of order.
 *
 * @example
 * for (const g of groupRows(table, ['asset', 'signal'], floatColumn(table, 'ts'))) console.log(g.key, g.rows.length);
 */
export function groupRows(table: ColumnTable, by: string[], ts: Float64Array): Group[] {
  const n = table.numRows();
  const cols = by.map((b) => valueColumn(table, b));
  const ids = new Int32Array(n);
  const keys = new Map<string, number>();
  const groupKeys: unknown[][] = [];
  const counts: number[] = [];
  let prev = -1;
  for (let i = 0; i < n; i++) {
    let same = i > 0;
    for (let c = 0; same && c < cols.length; c++) if (cols[c]![i] !== cols[c]![i - 1]) same = false;
    if (!same) {
      const key = cols.map((c) => String(c[i])).join('\u0000');
      let id = keys.get(key);
      if (id === undefined) {
        id = groupKeys.length;
        keys.set(key, id);
        groupKeys.push(cols.map((c) => c[i]));
        counts.push(0);
      }
      prev = id;
    }
    ids[i] = prev;
    counts[prev]!++;
  }
  const groups: Group[] = groupKeys.map((key, g) => ({ key, rows: new Int32Array(counts[g]!) }));
  const fill = new Int32Array(groups.length);
  for (let i = 0; i < n; i++) {
    const g = ids[i]!;
    groups[g]!.rows[fill[g]!++] = i;
  }
  for (const g of groups) {
    const r = g.rows;
    let sorted = true;
    for (let i = 1; i < r.length; i++) {
      if (ts[r[i]!]! < ts[r[i - 1]!]!) {
        sorted = false;
        break;
      }
    }
    if (!sorted) {
      const arr = Array.from(r).sort((a, b) => ts[a]! - ts[b]! || a - b);
      g.rows = Int32Array.from(arr);
    }
  }
  return groups;
}

/** Gathers `src[rows[i]]` into a new Float64Array. */
export function gather(src: Float64Array, rows: Int32Array): Float64Array {
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = src[rows[i]!]!;
  return out;
}

/** Scatters `src[i]` into `dst[rows[i]]`. */
export function scatter(dst: Float64Array, rows: Int32Array, src: Float64Array): void {
  for (let i = 0; i < rows.length; i++) dst[rows[i]!] = src[i]!;
}
