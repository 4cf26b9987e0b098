import type { BatchOrigin, ReadingBatch } from '../readings/index.ts';
import { StringDictionary } from '../readings/dictionary.ts';

/** A parsed batch and where it came from. */
export interface ParsedBatch extends BatchOrigin {
  batch: ReadingBatch;
}

/**
 * A batch with its names as ids into the reader's dictionary: typed arrays only, so it moves
 * between threads without copying (see parse-worker.ts).
 */
export interface EncodedBatch extends BatchOrigin {
  ts: Float64Array;
  value: Float64Array;
  quality?: Uint8Array;
  site: Int32Array;
  asset: Int32Array;
  signal: Int32Array;
  /** Dictionary entries needed to decode this batch: ids are below this. */
  dictSize: number;
  /** Each row's line number, when the builder tracks them (a slice of a split parse: see csv-split.ts). */
  lines?: Int32Array;
}

/** Turns an encoded batch back into a {@link ReadingBatch} (names shared, not copied). */
export function decodeBatch(enc: EncodedBatch, dict: readonly string[]): ParsedBatch {
  const n = enc.ts.length;
  const site = new Array<string>(n);
  const asset = new Array<string>(n);
  const signal = new Array<string>(n);
  const s = enc.site;
  const a = enc.asset;
  const g = enc.signal;
  for (let i = 0; i < n; i++) {
    site[i] = dict[s[i]];
    asset[i] = dict[a[i]];
    signal[i] = dict[g[i]];
  }
  const batch: ReadingBatch = { ts: enc.ts, site, asset, signal, value: enc.value };
  if (enc.quality) batch.quality = enc.quality;
  return { batch, source: enc.source, firstLine: enc.firstLine, lastLine: enc.lastLine };
}

/**
 * Accumulates readings column by column into fixed-capacity typed arrays. A full builder hands
 * its arrays over (`take`) and starts fresh ones, so a batch is never copied.
 */
export class BatchBuilder {
  ts!: Float64Array;
  value!: Float64Array;
  quality!: Uint8Array;
  site!: Int32Array;
  asset!: Int32Array;
  signal!: Int32Array;
  length = 0;
  firstLine = 0;
  lastLine = 0;
  /** True once any row carried a non-zero quality flag: only then does the batch get a quality column. */
  hasQuality = false;
  readonly dict = new StringDictionary();
  /** Each row's line number (only with `trackLines`). */
  lines: Int32Array | undefined;

  constructor(
    readonly capacity: number,
    private readonly trackLines = false,
  ) {
    this.reset();
  }

  private reset(): void {
    const n = this.capacity;
    this.ts = new Float64Array(n);
    this.value = new Float64Array(n);
    this.quality = new Uint8Array(n);
    this.site = new Int32Array(n);
    this.asset = new Int32Array(n);
    this.signal = new Int32Array(n);
    this.lines = this.trackLines ? new Int32Array(n) : undefined;
    this.length = 0;
    this.hasQuality = false;
  }

  get full(): boolean {
    return this.length >= this.capacity;
  }

  /** Appends one reading (the caller has validated every field; names are dictionary ids). */
  push(line: number, ts: number, site: number, asset: number, signal: number, value: number, quality: number): void {
    const i = this.length++;
    if (i === 0) this.firstLine = line;
    this.lastLine = line;
    this.ts[i] = ts;
    this.value[i] = value;
    this.quality[i] = quality;
    this.site[i] = site;
    this.asset[i] = asset;
    this.signal[i] = signal;
    if (this.lines) this.lines[i] = line;
  }

  /**
   * Appends rows [from, to) of another builder's batch (a slice of a split parse, with its
   * `lines`): names through `map` (its dictionary's ids to this batch's), lines shifted by `lineOffset`.
   */
  appendMapped(piece: EncodedBatch, from: number, to: number, map: Int32Array, lineOffset: number): void {
    const at = this.length;
    const m = to - from;
    if (at === 0) this.firstLine = piece.lines![from]! + lineOffset;
    this.lastLine = piece.lines![to - 1]! + lineOffset;
    this.ts.set(piece.ts.subarray(from, to), at);
    this.value.set(piece.value.subarray(from, to), at);
    if (piece.quality) {
      this.quality.set(piece.quality.subarray(from, to), at);
      this.hasQuality = true;
    }
    const { site, asset, signal } = this;
    const s = piece.site;
    const a = piece.asset;
    const g = piece.signal;
    for (let i = 0; i < m; i++) {
      site[at + i] = map[s[from + i]!]!;
      asset[at + i] = map[a[from + i]!]!;
      signal[at + i] = map[g[from + i]!]!;
    }
    this.length += m;
  }

  /** Hands over the rows so far (undefined when empty) and starts a new batch; `dictSize` defaults to this builder's dictionary's. */
  takeEncoded(source: string, dictSize = this.dict.values.length): EncodedBatch | undefined {
    const n = this.length;
    if (n === 0) return undefined;
    const cut = <T extends Float64Array | Int32Array | Uint8Array>(a: T): T => (n === this.capacity ? a : (a.slice(0, n) as T));
    const out: EncodedBatch = {
      source,
      firstLine: this.firstLine,
      lastLine: this.lastLine,
      ts: cut(this.ts),
      value: cut(this.value),
      site: cut(this.site),
      asset: cut(this.asset),
      signal: cut(this.signal),
      dictSize,
    };
    if (this.hasQuality) out.quality = cut(this.quality);
    if (this.lines) out.lines = cut(this.lines);
    this.reset();
    return out;
  }

  /** Like {@link takeEncoded}, decoded to a {@link ParsedBatch}. */
  take(source: string): ParsedBatch | undefined {
    const enc = this.takeEncoded(source);
    return enc && decodeBatch(enc, this.dict.values);
  }
}
