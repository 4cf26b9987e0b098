import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../errors/index.ts';

type SqlFn = (query: string, opts: { root: string }) => Promise<unknown>;

/**
 * Runs a SQL query against the sensor store (lib/store `sql`, which exposes a `readings` view)
 * and returns an arquero table, whatever shape the store hands back (arquero table, Arrow
 * table or row objects).
 */
export async function runStoreQuery(query: string, root: string): Promise<ColumnTable> {
  // Resolved at run time so training without store channels never loads DuckDB.
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const store = (await import(new URL(`../store/index${ext}`, import.meta.url).href)) as { sql?: SqlFn };
  if (typeof store.sql !== 'function') {
    throw new MillwrightError('UNAVAILABLE', 'this build of lib/store has no sql() function; use a folder channel instead of store:<sql>');
  }
  let result: unknown;
  try {
    result = await store.sql(query, { root });
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `store query failed (${(err as Error).message}): ${query}`, { cause: err });
  }
  return toColumnTable(result);
}

/** Normalises an arquero table, an Arrow table, `{rows}` or an array of row objects into arquero. */
export function toColumnTable(result: unknown): ColumnTable {
  const r = result as Record<string, unknown> | null;
  if (r && typeof r.columnNames === 'function' && typeof r.numRows === 'function') return r as unknown as ColumnTable;
  if (r && typeof r === 'object' && 'schema' in r && typeof r.numRows === 'number') return aq.fromArrow(r as never);
  if (Array.isArray(result)) return aq.from(result as Record<string, unknown>[]);
  if (r && Array.isArray(r.rows)) return aq.from(r.rows as Record<string, unknown>[]);
  throw new MillwrightError('INTERNAL', 'store sql() returned an unrecognised result (expected a table or rows)');
}
