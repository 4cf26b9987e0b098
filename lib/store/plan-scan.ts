import { existsSync } from 'node:fs';
import { withConnection, sqlList } from './duckdb.ts';
import { vanished } from './fd-blob.ts';
import { listFiles, type StoreFile } from './list-files.ts';
import { normalFilter, type NormalFilter, type StoreFilter } from './filters.ts';

/** A file to read and which of its row groups (undefined = all). */
export interface PlannedFile extends StoreFile {
  rowGroups?: number[];
  /** Rows in the kept row groups (when known from metadata). */
  rows?: number;
}

/** What a scan will read, and how much pruning saved. */
export interface ScanPlan {
  filter: NormalFilter;
  files: PlannedFile[];
  /** Files in the store / skipped by partition path / skipped because no row group matched. */
  filesTotal: number;
  filesPrunedByPath: number;
  filesPrunedByStats: number;
  /** Row groups in the files that survived path pruning / skipped by statistics. */
  rowGroupsTotal: number;
  rowGroupsPruned: number;
}

interface RowGroupStats {
  file: string;
  rowGroup: number;
  rows: number;
  tsMin: number | null;
  tsMax: number | null;
  assetMin: string | null;
  assetMax: string | null;
  signalMin: string | null;
  signalMax: string | null;
}

/** Footer statistics of every row group of `files` (DuckDB reads only the Parquet footers). */
async function rowGroupStats(files: readonly string[]): Promise<RowGroupStats[]> {
  if (files.length === 0) return [];
  return withConnection(async (conn) => {
    const reader = await conn.runAndReadAll(`
      SELECT file_name, row_group_id, any_value(row_group_num_rows) AS rows,
        max(CASE WHEN path_in_schema = 'ts' THEN epoch_ms(CAST(stats_min_value AS TIMESTAMPTZ)) END) AS ts_min,
        max(CASE WHEN path_in_schema = 'ts' THEN epoch_ms(CAST(stats_max_value AS TIMESTAMPTZ)) END) AS ts_max,
        max(CASE WHEN path_in_schema = 'asset' THEN stats_min_value END) AS asset_min,
        max(CASE WHEN path_in_schema = 'asset' THEN stats_max_value END) AS asset_max,
        max(CASE WHEN path_in_schema = 'signal' THEN stats_min_value END) AS signal_min,
        max(CASE WHEN path_in_schema = 'signal' THEN stats_max_value END) AS signal_max
      FROM parquet_metadata(${sqlList(files)})
      GROUP BY file_name, row_group_id ORDER BY file_name, row_group_id`);
    const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
    const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
    return reader.getRowsJS().map((r) => ({
      file: String(r[0]),
      rowGroup: Number(r[1]),
      rows: Number(r[2]),
      tsMin: num(r[3]),
      tsMax: num(r[4]),
      assetMin: str(r[5]),
      assetMax: str(r[6]),
      signalMin: str(r[7]),
      signalMax: str(r[8]),
    }));
  });
}

// A row group may hold a wanted value when any wanted value lies within its [min, max]; missing
// statistics mean "unknown", so the group is kept.
function mayContain(wanted: Set<string> | undefined, min: string | null, max: string | null): boolean {
  if (!wanted) return true;
  if (min === null || max === null) return true;
  for (const w of wanted) if (w >= min && w <= max) return true;
  return false;
}

/**
 * Plans a scan: prunes partitions by path (sites, date range), then row groups by their footer
 * statistics (asset, signal, ts). Cheap (directory listing and footers only); `scan` calls it, and
 * it is public so callers can see what pruning achieved.
 *
 * @example
 * const plan = await planScan({ root, assets: ['motor-3'], from: '2024-03-01', to: '2024-03-02' });
 * console.log(`${plan.files.length} of ${plan.filesTotal} files, ${plan.rowGroupsPruned} row groups pruned`);
 */
export async function planScan(opts: StoreFilter): Promise<ScanPlan> {
  const filter = normalFilter(opts);
  const { files, filesTotal } = await listFiles(filter);
  const plan: ScanPlan = {
    filter,
    files,
    filesTotal,
    filesPrunedByPath: filesTotal - files.length,
    filesPrunedByStats: 0,
    rowGroupsTotal: 0,
    rowGroupsPruned: 0,
  };
  const needStats = filter.assets || filter.signals || filter.from !== undefined || filter.to !== undefined;
  if (!needStats || files.length === 0) {
    plan.rowGroupsTotal = NaN; // unknown: footers not read when nothing can be pruned by statistics
    return plan;
  }
  let stats: RowGroupStats[];
  try {
    stats = await rowGroupStats(files.map((f) => f.path));
  } catch (err) {
    const gone = files.find((f) => !existsSync(f.path));
    if (gone) throw vanished(gone.path, err);
    throw err;
  }
  const byFile = new Map<string, RowGroupStats[]>();
  for (const s of stats) {
    let list = byFile.get(s.file);
    if (!list) byFile.set(s.file, (list = []));
    list.push(s);
  }
  const kept: PlannedFile[] = [];
  for (const f of files) {
    const groups = byFile.get(f.path) ?? [];
    plan.rowGroupsTotal += groups.length;
    const keep = groups.filter(
      (g) =>
        mayContain(filter.assets, g.assetMin, g.assetMax) &&
        mayContain(filter.signals, g.signalMin, g.signalMax) &&
        (filter.from === undefined || g.tsMax === null || g.tsMax >= filter.from) &&
        (filter.to === undefined || g.tsMin === null || g.tsMin < filter.to),
    );
    plan.rowGroupsPruned += groups.length - keep.length;
    if (keep.length === 0) {
      plan.filesPrunedByStats++;
      continue;
    }
    kept.push({ ...f, rowGroups: keep.map((g) => g.rowGroup), rows: keep.reduce((a, g) => a + g.rows, 0) });
  }
  plan.files = kept;
  return plan;
}
