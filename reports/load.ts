/**
 * Where report data comes from: CSV/Parquet files, store SQL queries, capture directories,
 * model dirs (manifest baseline + features) and baseline dirs (statistics.json, constraints.json).
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelManifest } from '../lib/model/contract.ts';
import { MillwrightError } from '../lib/errors/index.ts';
import { readTableFile } from '../lib/model/channels.ts';
import { readManifest } from '../lib/model/artifact.ts';
import { sql } from '../lib/store/index.ts';
import { toFrame, type Frame } from './data.ts';
import { readCapture } from './capture.ts';
import { parseBaselineFiles, type BaselineConstraints, type BaselineStatistics } from './monitor-baseline.ts';

/**
 * Loads a data source into a Frame:
 * - `*.csv`, `*.parquet`: the file;
 * - `sql:<query>`: a DuckDB query over the store's `readings` view (`storeRoot` required);
 * - a directory of `*.jsonl`, or one `.jsonl` file: serving capture (features from `manifest`).
 *
 * @example
 * await loadSource('data/oct.parquet');
 * await loadSource("sql:SELECT * FROM readings WHERE date >= '2024-03-01'", { storeRoot: '.millwright/store' });
 */
export async function loadSource(source: string, opts: { storeRoot?: string; manifest?: ModelManifest } = {}): Promise<Frame> {
  if (source.startsWith('sql:')) {
    if (!opts.storeRoot) throw new MillwrightError('BAD_INPUT', 'a sql: source needs the store root (--store or MILLWRIGHT_STORE)');
    return toFrame(await sql(source.slice(4), { root: opts.storeRoot, format: 'table' }));
  }
  let isDir = false;
  try {
    isDir = (await stat(source)).isDirectory();
  } catch {
    throw new MillwrightError('NOT_FOUND', `data source ${source} not found (expected a .csv/.parquet file, a capture directory or sql:<query>)`);
  }
  if (isDir || source.endsWith('.jsonl')) {
    const r = await readCapture(source, { features: opts.manifest?.features });
    if (r.frame.rows === 0) {
      const why = r.skipped.length ? `; first problem: ${r.skipped[0]!.file} line ${r.skipped[0]!.line}: ${r.skipped[0]!.reason}` : '';
      throw new MillwrightError('BAD_INPUT', `no captured rows in ${source} (${r.files} capture files, ${r.records} records)${why}`);
    }
    return r.frame;
  }
  return toFrame(await readTableFile(source));
}

/**
 * Reads statistics.json and constraints.json from a baseline directory.
 *
 * @example
 * const baseline = await readBaselineDir('baseline/');
 */
export async function readBaselineDir(dir: string): Promise<{ statistics: BaselineStatistics; constraints: BaselineConstraints }> {
  const read = async (name: string) => {
    try {
      return JSON.parse(await readFile(join(dir, name), 'utf8')) as unknown;
    } catch (err) {
      throw new MillwrightError('NOT_FOUND', `baseline ${join(dir, name)} cannot be read: ${(err as Error).message} (create it with "millwright baseline <data> --out ${dir}")`);
    }
  };
  return parseBaselineFiles(await read('statistics.json'), await read('constraints.json'));
}

/**
 * A model dir's manifest (model.json), without loading the model.
 *
 * @example
 * const { features, baseline } = await readModelManifest('/opt/ml/model');
 */
export async function readModelManifest(dir: string): Promise<ModelManifest> {
  return readManifest(dir);
}
