import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';

/** Plain columns: numbers as Float64Array, strings as string[]. */
export type Columns = Record<string, Float64Array | string[]>;

/**
 * Concatenates same-named column sets into one arquero table in a single copy (arquero's
 * `concat` copies every column per call, which is quadratic when folding many files).
 */
export function concatColumns(parts: Columns[]): ColumnTable {
  const names = Object.keys(parts[0] ?? {});
  const out: Columns = {};
  for (const name of names) {
    const cols = parts.map((p) => p[name]!);
    if (cols[0] instanceof Float64Array) {
      const total = new Float64Array(cols.reduce((s, c) => s + c.length, 0));
      let k = 0;
      for (const c of cols) {
        total.set(c as Float64Array, k);
        k += c.length;
      }
      out[name] = total;
    } else {
      out[name] = (cols as string[][]).flat();
    }
  }
  return aq.table(out);
}
