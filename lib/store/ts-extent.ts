import { existsSync } from 'node:fs';
import { sqlList, withConnection } from './duckdb.ts';
import { vanished } from './fd-blob.ts';

/**
 * The first and last reading time (epoch ms) in some store files, undefined when they hold no
 * rows: one DuckDB query on the files themselves (e.g. a plan's files) rather than through the
 * `readings` view `sql` builds over the whole store. A file deleted under it (a concurrent
 * `compact`) gives a retryable error (see `isVanished`).
 *
 * @example
 * import { planScan, tsExtent } from 'millwright';
 * const plan = await planScan({ root, sites: 'plant-1' });
 * const span = await tsExtent(plan.files.map((f) => f.path)); // { lo, hi } or undefined
 */
export async function tsExtent(paths: readonly string[]): Promise<{ lo: number; hi: number } | undefined> {
  if (paths.length === 0) return undefined;
  try {
    return await withConnection(async (conn) => {
      const r = (await conn.runAndReadAll(`SELECT epoch_ms(min(ts))::DOUBLE, epoch_ms(max(ts))::DOUBLE FROM read_parquet(${sqlList(paths)})`)).getRowsJS()[0];
      return r?.[0] === null || r?.[0] === undefined ? undefined : { lo: Number(r[0]), hi: Number(r[1]) };
    });
  } catch (err) {
    const gone = paths.find((p) => !existsSync(p));
    if (gone) throw vanished(gone, err);
    throw err;
  }
}
