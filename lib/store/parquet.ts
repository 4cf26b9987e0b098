import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm/node';

/** Rows per Parquet row group by default: small enough for asset/signal/ts pruning, large enough for fast scans. */
export const DEFAULT_ROW_GROUP_SIZE = 65_536;
/** zstd level used by default (3 = zstd's own default: good ratio at high speed). */
export const DEFAULT_ZSTD_LEVEL = 3;

/** Arrow schema of a stored file (partition columns `site`/`date` live in the path, not the file). */
export const fileSchema = new arrow.Schema([
  new arrow.Field('ts', new arrow.TimestampMillisecond('UTC'), false),
  new arrow.Field('asset', new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()), false),
  new arrow.Field('signal', new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()), false),
  new arrow.Field('value', new arrow.Float64(), true),
  new arrow.Field('quality', new arrow.Uint8(), false),
]);

/** Sorted, already-validated columns of one partition file. */
export interface FileColumns {
  /** Epoch ms as float64 (integers); stored as INT64 TIMESTAMP(MILLIS, UTC). */
  ts: Float64Array;
  /** Dictionary indices into `assets`. */
  assetIdx: Int32Array;
  assets: string[];
  signalIdx: Int32Array;
  signals: string[];
  value: Float64Array;
  quality: Uint8Array;
}

/** Epoch-ms doubles → int64 without a BigInt per value (lo/hi words, little-endian). */
export function msToInt64(ts: Float64Array): BigInt64Array {
  const out = new BigInt64Array(ts.length);
  const words = new Int32Array(out.buffer);
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i];
    const hi = Math.floor(t / 4294967296);
    words[2 * i] = (t - hi * 4294967296) | 0;
    words[2 * i + 1] = hi;
  }
  return out;
}

function dictVector(indices: Int32Array, values: string[], type: arrow.Dictionary<arrow.Utf8, arrow.Int32>): arrow.Vector {
  const dictionary = arrow.vectorFromArray(values, new arrow.Utf8());
  return arrow.makeVector(arrow.makeData({ type, length: indices.length, data: indices, dictionary }));
}

/** Builds the Arrow table of one file from its columns (zero-copy for the numeric columns). */
export function fileTable(cols: FileColumns): arrow.Table {
  const n = cols.ts.length;
  const [tsF, assetF, signalF] = fileSchema.fields;
  const children = [
    arrow.makeData({ type: tsF.type as arrow.TimestampMillisecond, length: n, data: msToInt64(cols.ts) }),
    dictVector(cols.assetIdx, cols.assets, assetF.type as arrow.Dictionary<arrow.Utf8, arrow.Int32>).data[0],
    dictVector(cols.signalIdx, cols.signals, signalF.type as arrow.Dictionary<arrow.Utf8, arrow.Int32>).data[0],
    arrow.makeData({ type: new arrow.Float64(), length: n, data: cols.value }),
    arrow.makeData({ type: new arrow.Uint8(), length: n, data: cols.quality }),
  ];
  const struct = arrow.makeData({ type: new arrow.Struct(fileSchema.fields), length: n, children });
  return new arrow.Table(fileSchema, [new arrow.RecordBatch(fileSchema, struct)]);
}

/** Parquet writer options (see {@link encodeParquet}). */
export interface ParquetWriteOptions {
  /** Max rows per row group (default {@link DEFAULT_ROW_GROUP_SIZE}). */
  rowGroupSize?: number;
  /** Extra key-value metadata stored in the file footer. */
  metadata?: Record<string, string>;
}

/**
 * Encodes an Arrow table as Parquet bytes: zstd, row-group (chunk) statistics on every column,
 * dictionary-encoded asset/signal, delta-encoded ts (parquet-wasm: the Rust `parquet` crate
 * compiled to WebAssembly).
 */
export function encodeParquet(table: arrow.Table, opts: ParquetWriteOptions = {}): Uint8Array {
  let builder = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression.ZSTD)
    .setMaxRowGroupSize(opts.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE)
    .setStatisticsEnabled(pw.EnabledStatistics.Chunk)
    // ts and value are (nearly) unique per row: a dictionary attempt only costs time. Sorted
    // timestamps delta-encode to a fraction of their size (measured: file 46% smaller, encode
    // 30% faster than the defaults); DuckDB, Spark, Trino and arrow-rs all read DELTA_BINARY_PACKED.
    .setColumnDictionaryEnabled('ts', false)
    .setColumnDictionaryEnabled('value', false)
    .setColumnEncoding('ts', pw.Encoding.DELTA_BINARY_PACKED)
    .setCreatedBy('millwright (parquet-wasm)');
  if (opts.metadata) builder = builder.setKeyValueMetadata(new Map(Object.entries(opts.metadata)));
  const props = builder.build();
  const wasmTable = pw.Table.fromIPCStream(arrow.tableToIPC(table, 'stream'));
  return pw.writeParquet(wasmTable, props);
}
