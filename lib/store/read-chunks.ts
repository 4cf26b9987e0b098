import * as arrow from 'apache-arrow';
import type { StringDictionary } from '../readings/dictionary.ts';
import * as pw from 'parquet-wasm/node';
import type { PlannedFile, ScanPlan } from './plan-scan.ts';
import { openFdBlob } from './fd-blob.ts';

/** Columns a scan can return, in output order. `site` comes from the partition path. */
export const SCAN_COLUMNS = ['ts', 'site', 'asset', 'signal', 'value', 'quality'] as const;
export type ScanColumn = (typeof SCAN_COLUMNS)[number];

/** Row groups read per parquet-wasm call: bounds memory of streaming scans (~0.5M rows). */
const ROW_GROUPS_PER_READ = 8;

/** One chunk of scan output: only the requested columns are set; strings are indices into the scan's dicts. */
export interface Chunk {
  length: number;
  /** ts as float64 epoch ms, and (when asked for) as int64 epoch ms, Arrow's storage. */
  tsMs?: Float64Array;
  ts?: BigInt64Array;
  /** Every row of a chunk comes from one file, hence one site. */
  siteId: number;
  asset?: Int32Array;
  signal?: Int32Array;
  /** Nulls (never written by millwright) are read as NaN. */
  value?: Float64Array;
  quality?: Uint8Array;
}

export interface ChunkDicts {
  site: StringDictionary;
  asset: StringDictionary;
  signal: StringDictionary;
}

function int64ToMs(v: BigInt64Array): Float64Array {
  const w = new Int32Array(v.buffer, v.byteOffset, v.length * 2);
  const out = new Float64Array(v.length);
  for (let i = 0; i < out.length; i++) out[i] = (w[2 * i] >>> 0) + w[2 * i + 1] * 4294967296;
  return out;
}

function pick<T extends Float64Array | Int32Array | Uint8Array | BigInt64Array>(src: T, sel: Int32Array | undefined): T {
  if (!sel) return src;
  const Ctor = src.constructor as new (n: number) => T;
  const out = new Ctor(sel.length);
  for (let i = 0; i < sel.length; i++) out[i] = src[sel[i]];
  return out;
}

/** Local dictionary indices → scan-wide indices (and a per-entry "wanted" mask for filtering). */
function remapDictionary(data: arrow.Data, dict: StringDictionary, wanted?: Set<string>): { map: Int32Array; keep?: Uint8Array } {
  const local = [...(data.dictionary as arrow.Vector<arrow.Utf8>)] as string[];
  const map = new Int32Array(local.length);
  const keep = wanted ? new Uint8Array(local.length) : undefined;
  local.forEach((s, i) => {
    map[i] = dict.id(s);
    if (keep && wanted!.has(s)) keep[i] = 1;
  });
  return { map, keep };
}

/**
 * Reads the planned row groups with parquet-wasm, applies the exact row filter (row groups only
 * bound the data), and yields chunks of the requested columns.
 */
export async function* readChunks(
  plan: ScanPlan,
  columns: readonly ScanColumn[],
  dicts: ChunkDicts,
  opts: { tsInt64?: boolean } = {},
): AsyncGenerator<Chunk> {
  const { filter } = plan;
  const want = new Set(columns);
  const fileColumns = ['ts', 'asset', 'signal', 'value', 'quality'].filter(
    (c) =>
      want.has(c as ScanColumn) ||
      (c === 'ts' && (filter.from !== undefined || filter.to !== undefined)) ||
      (c === 'asset' && filter.assets) ||
      (c === 'signal' && filter.signals),
  );
  for (const file of plan.files) {
    const siteId = dicts.site.id(file.site);
    for await (const table of readFile(file, fileColumns)) {
      for (const batch of table.batches) {
        const chunk = filterBatch(batch, filter, want, dicts, siteId, opts.tsInt64 ?? false);
        if (chunk.length > 0) yield chunk;
      }
    }
  }
}

async function* readFile(file: PlannedFile, columns: string[]): AsyncGenerator<arrow.Table> {
  const { blob, close } = await openFdBlob(file.path);
  const pf = await pw.ParquetFile.fromFile(blob as unknown as Blob);
  try {
    let groups = file.rowGroups;
    if (!groups) {
      const meta = pf.metadata();
      groups = Array.from({ length: meta.numRowGroups() }, (_, i) => i);
      meta.free();
    }
    for (let i = 0; i < groups.length; i += ROW_GROUPS_PER_READ) {
      const wasmTable = await pf.read({ columns, rowGroups: groups.slice(i, i + ROW_GROUPS_PER_READ), batchSize: 1 << 22 });
      yield arrow.tableFromIPC(wasmTable.intoIPCStream());
    }
  } finally {
    pf.free();
    await close();
  }
}

function filterBatch(
  batch: arrow.RecordBatch,
  filter: ScanPlan['filter'],
  want: Set<ScanColumn>,
  dicts: ChunkDicts,
  siteId: number,
  tsInt64: boolean,
): Chunk {
  const n = batch.numRows;
  const tsData = batch.getChild('ts')?.data[0];
  const assetData = batch.getChild('asset')?.data[0];
  const signalData = batch.getChild('signal')?.data[0];
  const tsMs = tsData ? int64ToMs(tsData.values as BigInt64Array) : undefined;
  const asset = assetData ? remapDictionary(assetData, dicts.asset, filter.assets) : undefined;
  const signal = signalData ? remapDictionary(signalData, dicts.signal, filter.signals) : undefined;

  // Selection vector, only when some row fails the filter.
  let sel: Int32Array | undefined;
  const needRowFilter = filter.from !== undefined || filter.to !== undefined || asset?.keep || signal?.keep;
  if (needRowFilter) {
    const from = filter.from ?? -Infinity;
    const to = filter.to ?? Infinity;
    const aIdx = assetData?.values as Int32Array | undefined;
    const sIdx = signalData?.values as Int32Array | undefined;
    const aKeep = asset?.keep;
    const sKeep = signal?.keep;
    const tmp = new Int32Array(n);
    let m = 0;
    for (let i = 0; i < n; i++) {
      if (tsMs && !(tsMs[i] >= from && tsMs[i] < to)) continue;
      if (aKeep && !aKeep[aIdx![i]]) continue;
      if (sKeep && !sKeep[sIdx![i]]) continue;
      tmp[m++] = i;
    }
    if (m < n) sel = tmp.subarray(0, m);
  }
  const length = sel ? sel.length : n;
  const chunk: Chunk = { length, siteId };
  if (want.has('ts')) {
    chunk.tsMs = pick(tsMs!, sel);
    if (tsInt64) chunk.ts = pick(tsData!.values as BigInt64Array, sel);
  }
  const remapped = (data: arrow.Data, map: Int32Array): Int32Array => {
    const idx = data.values as Int32Array;
    const out = new Int32Array(length);
    if (sel) for (let i = 0; i < length; i++) out[i] = map[idx[sel[i]]];
    else for (let i = 0; i < length; i++) out[i] = map[idx[i]];
    return out;
  };
  if (want.has('asset')) chunk.asset = remapped(assetData!, asset!.map);
  if (want.has('signal')) chunk.signal = remapped(signalData!, signal!.map);
  if (want.has('value')) {
    const data = batch.getChild('value')!.data[0];
    let values = data.values as Float64Array;
    if (data.nullCount > 0) {
      values = values.slice();
      for (let i = 0; i < n; i++) if (!data.getValid(i)) values[i] = NaN;
    }
    chunk.value = pick(values, sel);
  }
  if (want.has('quality')) chunk.quality = pick(batch.getChild('quality')!.data[0].values as Uint8Array, sel);
  return chunk;
}
