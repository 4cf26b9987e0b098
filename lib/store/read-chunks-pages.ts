import { open, type FileHandle } from 'node:fs/promises';
import { MillwrightError } from '../errors/index.ts';
import { vanished } from './fd-blob.ts';
import { parseStoreFooter, type RowGroupInfo, type StoreColumnName, type StoreFileLayout } from './parquet-footer.ts';
import { decodeColumn } from './decode-row-group.ts';
import { loadZstd } from './parquet-pages.ts';
import type { ScanPlan } from './plan-scan.ts';
import type { Chunk, ChunkDicts, ScanColumn } from './read-chunks.ts';

/** Bytes read from a file's end to find its footer; a larger footer costs a second read. */
const FOOTER_PROBE = 64 * 1024;

/** The footers of a plan's files, once every one of them is known to suit {@link readChunksPages}. */
export interface PagesPlan {
  layouts: StoreFileLayout[];
}

/** The file columns a scan of `columns` under the plan's filter has to decode. */
export function fileColumns(plan: ScanPlan, columns: readonly ScanColumn[]): StoreColumnName[] {
  const want = new Set<string>(columns);
  const f = plan.filter;
  if (f.from !== undefined || f.to !== undefined) want.add('ts');
  if (f.assets) want.add('asset');
  if (f.signals) want.add('signal');
  return (['ts', 'asset', 'signal', 'value', 'quality'] as const).filter((c) => want.has(c));
}

/**
 * Reads every planned file's footer and says whether the JS page reader can read them all
 * (millwright's own files always can; see parquet-footer.ts), with the reason when not. A file
 * gone since the plan is a retryable vanished error, as with the other readers.
 */
export function planPages(plan: ScanPlan, columns: readonly ScanColumn[]): Promise<PagesPlan | { unsupported: string }> {
  // one footer pass per plan and column set: the parallel full scan and the reader both ask
  const cols = fileColumns(plan, columns);
  const key = cols.join(',');
  let byCols = footers.get(plan);
  if (!byCols) footers.set(plan, (byCols = new Map()));
  let found = byCols.get(key);
  if (!found) byCols.set(key, (found = readFooters(plan, cols)));
  return found;
}

const footers = new WeakMap<ScanPlan, Map<string, Promise<PagesPlan | { unsupported: string }>>>();

async function readFooters(plan: ScanPlan, cols: StoreColumnName[]): Promise<PagesPlan | { unsupported: string }> {
  const layouts: StoreFileLayout[] = [];
  for (const f of plan.files) {
    const { end, size } = await fileTail(f.path);
    const layout = parseStoreFooter(end, size, cols);
    if ('unsupported' in layout) return { unsupported: `${f.path}: ${layout.unsupported}` };
    layouts.push(layout);
  }
  return { layouts };
}

/** The end of a file, long enough to hold its footer, and the file's size. */
async function fileTail(path: string): Promise<{ end: Uint8Array; size: number }> {
  const fh = await openOrVanished(path);
  try {
    const { size } = await fh.stat();
    let want = Math.min(size, FOOTER_PROBE);
    for (;;) {
      const end = new Uint8Array(want);
      await fh.read(end, 0, want, size - want);
      const metaLen = want >= 8 ? new DataView(end.buffer, want - 8, 4).getUint32(0, true) : 0;
      if (metaLen + 8 <= want || want === size) return { end, size };
      want = Math.min(size, metaLen + 8);
    }
  } finally {
    await fh.close();
  }
}

/** Typed arrays of one row group, grown to the largest row group seen and reused. */
class Scratch {
  capacity = 0;
  ts = new Float64Array(0);
  asset = new Int32Array(0);
  signal = new Int32Array(0);
  value = new Float64Array(0);
  quality = new Uint8Array(0);
  ensure(n: number): void {
    if (n <= this.capacity) return;
    this.capacity = n;
    this.ts = new Float64Array(n);
    this.asset = new Int32Array(n);
    this.signal = new Int32Array(n);
    this.value = new Float64Array(n);
    this.quality = new Uint8Array(n);
  }
}

/**
 * Reads the planned files with the JS page reader (parquet-pages.ts) and yields the same chunks
 * as the DuckDB reader: same rows in the same order (file by file, row group by row group, as
 * stored), same exact filter, same scan-wide dictionaries (ids in order of first appearance in
 * the rows returned), value nulls as NaN. One chunk per row group. Needs `pages` from
 * {@link planPages}. With `reuse`, a chunk's arrays are views valid until the next is asked for.
 *
 * Why: DuckDB decodes these files fast on its own threads, but hands them to JS 2,048 rows at a
 * time through the libuv pool, with names as strings; for a full scan that hand-over cost more
 * than the decoding (docs/benchmarks.md, 2026-12-03).
 */
export async function* readChunksPages(
  plan: ScanPlan,
  columns: readonly ScanColumn[],
  dicts: ChunkDicts,
  pages: PagesPlan,
  opts: { tsInt64?: boolean; reuse?: boolean } = {},
): AsyncGenerator<Chunk> {
  const fileSite = plan.files.map((f) => dicts.site.id(f.site));
  if (plan.filter.assets?.size === 0 || plan.filter.signals?.size === 0) return;
  await loadZstd();
  const groups = new RowGroups(plan, columns, dicts, opts);
  for await (const { task, bytes, rg } of rowGroupBytes(rowGroupTasks(plan, pages.layouts, fileSite).tasks, groups.cols)) {
    const chunk = groups.read(bytes, rg, `${task.path}: row group ${task.index}`, task.site);
    if (chunk) yield chunk;
  }
}

/** One row group to read: its file, index and layout, its rows' offset in a whole scan, its site id. */
export interface RowGroupTask {
  path: string;
  index: number;
  rg: RowGroupInfo;
  at: number;
  site: number;
}

/** Each planned row group with rows, in stored order, at its offset in the scan's output. */
export function rowGroupTasks(plan: ScanPlan, layouts: readonly StoreFileLayout[], fileSite: readonly number[]): { tasks: RowGroupTask[]; total: number } {
  const tasks: RowGroupTask[] = [];
  let total = 0;
  for (const [fi, file] of plan.files.entries()) {
    const layout = layouts[fi]!;
    for (const g of file.rowGroups ?? layout.rowGroups.map((_, i) => i)) {
      const rg = layout.rowGroups[g];
      if (!rg) throw new MillwrightError('INTEGRITY', `store file ${file.path} has no row group ${g} (changed since the scan was planned?)`);
      if (rg.rows === 0) continue;
      tasks.push({ path: file.path, index: g, rg, at: total, site: fileSite[fi]! });
      total += rg.rows;
    }
  }
  return { tasks, total };
}

/**
 * The bytes of each task's column chunks `cols` (only those: a pruned scan skips the rest), with
 * the row group's layout at offsets into them; one open file at a time.
 */
export async function* rowGroupBytes(tasks: readonly RowGroupTask[], cols: readonly StoreColumnName[]): AsyncGenerator<{ task: RowGroupTask; bytes: Uint8Array; rg: RowGroupInfo }> {
  let fh: FileHandle | undefined;
  let open = '';
  try {
    for (const task of tasks) {
      if (!fh || task.path !== open) {
        await fh?.close();
        fh = undefined; // closed: not closed again below if the next open fails
        fh = await openOrVanished(task.path);
        open = task.path;
      }
      const { bytes, local } = await readColumns(fh, task.path, task.rg, cols);
      yield { task, bytes, rg: local };
    }
  } finally {
    await fh?.close();
  }
}

/** Opens a planned file; a missing one is a retryable {@link vanished} error. */
async function openOrVanished(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw vanished(path, err);
    throw err;
  }
}

/** One read of the span holding the given column chunks of a row group, and their offsets in it. */
async function readColumns(fh: FileHandle, path: string, rg: RowGroupInfo, cols: readonly StoreColumnName[]): Promise<{ bytes: Uint8Array; local: RowGroupInfo }> {
  let start = Infinity;
  let end = 0;
  for (const c of cols) {
    const info = rg.columns[c]!;
    start = Math.min(start, info.offset);
    end = Math.max(end, info.offset + info.size);
  }
  const bytes = new Uint8Array(end - start);
  const { bytesRead } = await fh.read(bytes, 0, bytes.length, start);
  if (bytesRead !== bytes.length) throw new MillwrightError('INTEGRITY', `store file ${path} ended ${bytes.length - bytesRead} bytes before its footer says (changed during the scan?)`);
  const local: RowGroupInfo = { rows: rg.rows, columns: {} };
  for (const c of cols) local.columns[c] = { ...rg.columns[c]!, offset: rg.columns[c]!.offset - start };
  return { bytes, local };
}

/** Decodes row groups into chunks of the scan's columns, the filter applied, with reused arrays. */
class RowGroups {
  private readonly want: Set<ScanColumn>;
  readonly cols: StoreColumnName[];
  /** The filter's columns, decoded first: a row group none of whose rows pass is not decoded further. */
  private readonly filterCols: StoreColumnName[];
  private readonly from: number;
  private readonly to: number;
  private readonly timeFilter: boolean;
  private readonly s = new Scratch();
  private readonly out = new Scratch();

  constructor(
    private readonly plan: ScanPlan,
    columns: readonly ScanColumn[],
    private readonly dicts: ChunkDicts,
    private readonly opts: { tsInt64?: boolean; reuse?: boolean },
  ) {
    const f = plan.filter;
    this.want = new Set(columns);
    this.cols = fileColumns(plan, columns);
    this.timeFilter = f.from !== undefined || f.to !== undefined;
    this.from = f.from ?? -Infinity;
    this.to = f.to ?? Infinity;
    this.filterCols = this.cols.filter((c) => (c === 'ts' && this.timeFilter) || (c === 'asset' && f.assets) || (c === 'signal' && f.signals));
  }

  /** The chunk of row group `rg` (rows > 0, see rowGroupTasks) of file `bytes`, or undefined when no row passes the filter. */
  read(bytes: Uint8Array, rg: RowGroupInfo, where: string, siteId: number): Chunk | undefined {
    const n = rg.rows;
    const { s, out, want, opts } = this;
    s.ensure(n);
    const names: Partial<Record<'asset' | 'signal', string[]>> = {};
    const decode = (c: StoreColumnName): void => {
      const dictionary = decodeColumn(bytes, rg, c, s[c], where);
      if (c === 'asset' || c === 'signal') names[c] = dictionary!;
    };
    for (const c of this.filterCols) decode(c);
    const sel = this.filterCols.length > 0 ? this.select(n, names) : undefined;
    if (sel === null) return undefined;
    for (const c of this.cols) if (!this.filterCols.includes(c)) decode(c);
    const len = sel ? sel.length : n;
    out.ensure(len);
    const chunk: Chunk = { length: len, siteId };
    const view = <T extends Float64Array | Int32Array | Uint8Array>(a: T): T => (opts.reuse ? (a.subarray(0, len) as T) : (a.slice(0, len) as T));
    if (want.has('ts')) {
      chunk.tsMs = view(pick(s.ts, sel, out.ts));
      if (opts.tsInt64) chunk.ts = toInt64(chunk.tsMs);
    }
    for (const c of ['asset', 'signal'] as const) if (want.has(c)) chunk[c] = view(scanIds(s[c], sel, len, names[c]!, this.dicts[c], out[c]));
    if (want.has('value')) chunk.value = view(pick(s.value, sel, out.value));
    if (want.has('quality')) chunk.quality = view(pick(s.quality, sel, out.quality));
    return chunk;
  }

  /** The rows passing the filter: undefined when all do, null when none does. */
  private select(n: number, names: Partial<Record<'asset' | 'signal', string[]>>): Int32Array | undefined | null {
    const { s, from, to, timeFilter } = this;
    const f = this.plan.filter;
    const keepAsset = f.assets && names.asset!.map((x) => (f.assets!.has(x) ? 1 : 0));
    const keepSignal = f.signals && names.signal!.map((x) => (f.signals!.has(x) ? 1 : 0));
    const tmp = new Int32Array(n);
    let m = 0;
    for (let i = 0; i < n; i++) {
      if (timeFilter && !(s.ts[i]! >= from && s.ts[i]! < to)) continue;
      if (keepAsset && !keepAsset[s.asset[i]!]) continue;
      if (keepSignal && !keepSignal[s.signal[i]!]) continue;
      tmp[m++] = i;
    }
    return m === 0 ? null : m < n ? tmp.subarray(0, m) : undefined;
  }
}

/** The selected rows of `src` in `dst` (or `src` itself when every row is selected). */
function pick<T extends Float64Array | Uint8Array>(src: T, sel: Int32Array | undefined, dst: T): T {
  if (!sel) return src;
  for (let i = 0; i < sel.length; i++) dst[i] = src[sel[i]!]!;
  return dst;
}

/** Local dictionary indices of the selected rows as scan-wide ids, given in order of first appearance (`dst` may be `local`). */
export function scanIds(local: Int32Array, sel: Int32Array | undefined, len: number, dictionary: string[], dict: ChunkDicts['asset'], dst: Int32Array): Int32Array {
  const map = new Int32Array(dictionary.length).fill(-1);
  const idOf = (l: number): number => {
    const id = map[l]!;
    return id >= 0 ? id : (map[l] = dict.id(dictionary[l]!));
  };
  if (sel) {
    for (let i = 0; i < len; i++) dst[i] = idOf(local[sel[i]!]!);
    return dst;
  }
  // every row: names come in runs (files are sorted by asset, signal)
  for (let i = 0; i < len; ) {
    const l = local[i]!;
    let j = i + 1;
    while (j < len && local[j] === l) j++;
    dst.fill(idOf(l), i, j);
    i = j;
  }
  return dst;
}

function toInt64(ms: Float64Array): BigInt64Array {
  const out = new BigInt64Array(ms.length);
  const w = new Int32Array(out.buffer);
  for (let i = 0; i < ms.length; i++) {
    const hi = Math.floor(ms[i]! / 4294967296);
    w[2 * i] = ms[i]! - hi * 4294967296;
    w[2 * i + 1] = hi;
  }
  return out;
}
