import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/** One stored reading as read back by DuckDB (an independent Parquet reader). */
export interface StoredReading {
  site: string;
  date: string;
  ts: number;
  asset: string;
  signal: string;
  value: number;
  quality: number;
  file: string;
}

/** Every finished Parquet file under a store root (temp files start with "." and are skipped). */
export function partFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.startsWith('part-') && n.endsWith('.parquet')) out.push(p);
    }
  };
  walk(root);
  return out.sort();
}

let instance: Promise<DuckDBInstance> | undefined;

/**
 * Reads every Parquet file of a store with DuckDB, one file at a time, so an unreadable (torn)
 * file fails loudly with its path. Site and date come from the Hive path.
 */
export async function readStore(root: string): Promise<StoredReading[]> {
  instance ??= DuckDBInstance.create(':memory:');
  const conn = await (await instance).connect();
  const out: StoredReading[] = [];
  try {
    for (const file of partFiles(root)) {
      const m = /site=([^/]+)\/date=([^/]+)\//.exec(file);
      if (!m) throw new Error(`file outside the Hive layout: ${file}`);
      let rows: unknown[][];
      try {
        const reader = await conn.runAndReadAll(
          `SELECT epoch_ms(ts)::DOUBLE, asset::VARCHAR, signal::VARCHAR, value, quality::INTEGER FROM read_parquet('${file.replaceAll("'", "''")}')`,
        );
        rows = reader.getRows();
      } catch (err) {
        throw new Error(`unreadable Parquet file ${file}: ${(err as Error).message}`);
      }
      for (const r of rows) {
        out.push({ site: m[1], date: m[2], ts: r[0] as number, asset: r[1] as string, signal: r[2] as string, value: r[3] as number, quality: r[4] as number, file });
      }
    }
  } finally {
    conn.closeSync();
  }
  return out;
}
