import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MillwrightError } from '../errors/index.ts';

/** File a store-query channel is materialised into, inside its channel dir. */
export const STORE_QUERY_FILE = 'store-query.parquet';

/**
 * Runs a SQL query against the sensor store (lib/store `sql`, which exposes the `readings`
 * view) and writes the result as Parquet into `channelDir`, so the package sees a normal
 * SageMaker channel folder and the exact training data stays inspectable next to the model run.
 * Refuses to mix the result with other data files already in `channelDir`.
 */
export async function materializeStoreQuery(query: string, root: string, channelDir: string): Promise<{ file: string; rows: number }> {
  await mkdir(channelDir, { recursive: true });
  const others = (await readdir(channelDir)).filter((n) => n !== STORE_QUERY_FILE && !n.startsWith('.'));
  if (others.length > 0) {
    throw new MillwrightError('CONFLICT', `cannot materialise the store query into ${channelDir}: it already holds ${others.join(', ')}; use a fresh --base or remove them`);
  }
  // Loaded lazily: serving a model never needs DuckDB.
  const { sql } = await import('../store/index.ts');
  try {
    return await sql(query, { root, format: 'parquet', out: join(channelDir, STORE_QUERY_FILE) });
  } catch (err) {
    const e = err as Error;
    throw new MillwrightError('BAD_INPUT', `store query on ${root} failed: ${e.message} (query: ${query})`, { cause: err });
  }
}
