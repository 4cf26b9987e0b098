import { readdir, readFile, stat } from 'node:fs/promises';
import { join, extname } from 'node:path';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../errors/index.ts';
import { entryDir } from './artifact.ts';
import type { Channel } from './contract.ts';
import { headerlessNames, type CsvLayout } from './sagemaker-input.ts';

/** File extensions a channel directory may hold; anything else (README, _SUCCESS, dotfiles) is ignored. */
export const CHANNEL_EXTENSIONS = ['.csv', '.parquet', '.pq'] as const;

/**
 * Opens a channel directory (`<base>/input/data/<name>/` or any folder): lists its CSV and
 * Parquet files (recursively, sorted) and returns a {@link Channel} whose `load()` reads them
 * all into one table, refusing an empty channel, files with different columns and columns with
 * no value at all.
 *
 * @example
 * const ch = await openChannel('train', '/opt/ml/input/data/train');
 * const table = await ch.load();
 */
export async function openChannel(name: string, dir: string, options: { csv?: CsvLayout } = {}): Promise<Channel> {
  let info;
  try {
    info = await stat(dir);
  } catch {
    throw new MillwrightError('NOT_FOUND', `channel "${name}": directory ${dir} does not exist (expected a folder of CSV or Parquet files)`);
  }
  if (!info.isDirectory()) {
    throw new MillwrightError('BAD_INPUT', `channel "${name}": ${dir} is not a directory (expected a folder of CSV or Parquet files)`);
  }
  const files = await listDataFiles(dir);
  return {
    name,
    dir,
    files,
    load: () => loadFiles(name, dir, files, options.csv),
  };
}

async function listDataFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  for (const e of entries) {
    if (!e.isFile() || e.name.startsWith('.')) continue;
    if ((CHANNEL_EXTENSIONS as readonly string[]).includes(extname(e.name).toLowerCase())) {
      out.push(join(entryDir(e), e.name));
    }
  }
  return out.sort();
}

async function loadFiles(name: string, dir: string, files: string[], csv: CsvLayout | undefined): Promise<ColumnTable> {
  if (files.length === 0) {
    throw new MillwrightError('BAD_INPUT', `channel "${name}" is empty: no .csv or .parquet files in ${dir}`);
  }
  let table: ColumnTable | undefined;
  for (const file of files) {
    const t = await readTableFile(file, csv);
    if (table === undefined) {
      table = t;
      continue;
    }
    const a = table.columnNames().join(',');
    const b = t.columnNames().join(',');
    if (a !== b) {
      throw new MillwrightError('BAD_INPUT', `channel "${name}": ${file} has columns [${b}] but earlier files have [${a}]; every file of a channel must have the same columns`);
    }
    table = table.concat(t);
  }
  return checkTable(name, table!, dir);
}

/**
 * Reads one CSV (header row, types inferred) or Parquet file into an arquero table. With
 * `csv.header === false` (SageMaker's headerless CSV) the columns are named `label` (at
 * `csv.labelColumn`) and `f0`, `f1`, ... in file order.
 *
 * @example
 * const t = await readTableFile('data/train.parquet');
 * const s = await readTableFile('training/iris.csv', { header: false, labelColumn: 0 }); // label, f0..f3
 */
export async function readTableFile(file: string, csv?: CsvLayout): Promise<ColumnTable> {
  const ext = extname(file).toLowerCase();
  try {
    // Spreadsheet exports often start with a BOM, which would otherwise end up in the first column name.
    if (ext === '.csv') {
      const text = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
      if (csv === undefined || csv.header) return aq.fromCSV(text);
      const first = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
      const width = aq.fromCSV(first, { header: false }).numCols();
      return aq.fromCSV(text, { header: false, names: headerlessNames(width, csv) });
    }
    if (ext === '.parquet' || ext === '.pq') {
      const { readParquet } = await import('parquet-wasm/node');
      const bytes = await readFile(file);
      // One big batch: the default small batches make the IPC round-trip needlessly slow.
      const wasmTable = readParquet(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { batchSize: 1 << 20 });
      return aq.fromArrow(wasmTable.intoIPCStream());
    }
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  throw new MillwrightError('BAD_INPUT', `cannot read ${file}: unsupported file type "${ext}" (expected .csv or .parquet)`);
}

/** Refuses tables with no rows or with a column that holds no value (all empty/NaN). */
export function checkTable(name: string, table: ColumnTable, source: string): ColumnTable {
  const rows = table.numRows();
  if (rows === 0) throw new MillwrightError('BAD_INPUT', `channel "${name}" has no data rows (${source})`);
  const empty: string[] = [];
  for (const col of table.columnNames()) {
    const values = table.array(col) as ArrayLike<unknown>;
    let present = false;
    for (let i = 0; i < values.length && !present; i++) {
      const v = values[i];
      present = !(v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v)) || v === '');
    }
    if (!present) empty.push(col);
  }
  if (empty.length > 0) {
    throw new MillwrightError(
      'BAD_INPUT',
      `channel "${name}": column${empty.length > 1 ? 's' : ''} ${empty.map((c) => `"${c}"`).join(', ')} ha${empty.length > 1 ? 've' : 's'} no values (all ${rows} rows empty or NaN) in ${source}; drop the column or fix the data`,
    );
  }
  return table;
}
