/**
 * The page encodings the store's own Parquet writer uses (the inverse of the decoders in
 * parquet-pages.ts): DELTA_BINARY_PACKED for timestamps, the RLE / bit-packed hybrid for
 * dictionary indices and definition levels. Values are non-negative integers below 2^53 held in
 * doubles, so the bit packing works on doubles, exact to 53 bits, with no BigInt per value.
 */

/** A growable byte buffer. */
export class ByteSink {
  buf: Uint8Array;
  len = 0;
  constructor(capacity = 1 << 16) {
    this.buf = new Uint8Array(capacity);
  }

  /** Makes room for `n` more bytes. */
  room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** Unsigned LEB128. */
  varint(v: number): void {
    this.room(10);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }

  zigzag(v: number): void {
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  u32(v: number): void {
    this.room(4);
    const b = this.buf;
    const p = this.len;
    b[p] = v & 0xff;
    b[p + 1] = (v >>> 8) & 0xff;
    b[p + 2] = (v >>> 16) & 0xff;
    b[p + 3] = (v >>> 24) & 0xff;
    this.len += 4;
  }

  /** The bytes written (a view). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/** Bits needed for `max` (0 for 0). */
export function bitWidth(max: number): number {
  let w = 0;
  while (max >= 1) {
    max = Math.floor(max / 2);
    w++;
  }
  return w;
}

/**
 * Packs `count` values of `width` bits, least significant bit first (Parquet's bit packing),
 * `get(k)` giving the k-th; values past the end are written as 0 up to `padTo` values.
 */
function bitPack(sink: ByteSink, width: number, count: number, padTo: number, get: (k: number) => number): void {
  if (width === 0) return;
  sink.room(Math.ceil((padTo * width) / 8) + 8);
  const b = sink.buf;
  let p = sink.len;
  // At most 7 bits wait in acc, so 24 more still fit in 31: wider values go in 24-bit pieces,
  // lowest first (the same bits in the same order).
  let acc = 0;
  let bits = 0;
  for (let k = 0; k < padTo; k++) {
    let v = k < count ? get(k) : 0;
    let left = width;
    while (left > 24) {
      const low = v % 16_777_216;
      acc |= low << bits;
      bits += 24;
      while (bits >= 8) {
        b[p++] = acc & 0xff;
        acc >>>= 8;
        bits -= 8;
      }
      v = (v - low) / 16_777_216;
      left -= 24;
    }
    acc |= v << bits;
    bits += left;
    while (bits >= 8) {
      b[p++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) b[p++] = acc & 0xff;
  sink.len = p;
}

const BLOCK = 128;
const MINIBLOCKS = 4;
const MINI = BLOCK / MINIBLOCKS;

/**
 * DELTA_BINARY_PACKED of `values[lo, hi)` (integers in doubles, |v| < 2^52): blocks of 128
 * deltas in 4 miniblocks of 32, as parquet-mr and arrow-rs write it. Regularly sampled series
 * cost nothing per value (every delta equals the block's minimum: width 0).
 */
export function encodeDeltaBinaryPacked(sink: ByteSink, values: Float64Array, lo: number, hi: number): void {
  const n = hi - lo;
  sink.varint(BLOCK);
  sink.varint(MINIBLOCKS);
  sink.varint(n);
  sink.zigzag(n > 0 ? values[lo]! : 0);
  const deltas = new Float64Array(BLOCK);
  for (let start = lo + 1; start < hi; start += BLOCK) {
    const m = Math.min(BLOCK, hi - start);
    let min = Infinity;
    for (let k = 0; k < m; k++) {
      const d = values[start + k]! - values[start + k - 1]!;
      deltas[k] = d;
      if (d < min) min = d;
    }
    sink.zigzag(min);
    const widths = [0, 0, 0, 0];
    for (let j = 0; j * MINI < m; j++) {
      let max = 0;
      for (let k = j * MINI; k < Math.min(m, (j + 1) * MINI); k++) if (deltas[k]! - min > max) max = deltas[k]! - min;
      widths[j] = bitWidth(max);
    }
    for (const w of widths) sink.byte(w);
    for (let j = 0; j * MINI < m; j++) {
      const base = j * MINI;
      bitPack(sink, widths[j]!, Math.min(MINI, m - base), MINI, (k) => deltas[base + k]! - min);
    }
  }
}

/** Longest bit-packed run (groups of 8) in one header: 63 groups keep the header one byte, as parquet-mr writes. */
const MAX_GROUPS = 63;

/**
 * The RLE / bit-packed hybrid of `values[lo, hi)` (each below 2^width): runs of 8 or more equal
 * values as RLE runs, the rest bit-packed in groups of 8. No length prefix (the caller adds one
 * where the page layout needs it).
 */
export function encodeRleHybrid(sink: ByteSink, values: ArrayLike<number>, lo: number, hi: number, width: number): void {
  const valueBytes = Math.ceil(width / 8);
  let pending = lo; // first value not yet written (a literal stretch runs from here to i)
  let i = lo;
  const flushLiterals = (end: number) => {
    // bit-pack [pending, end), padding the last group with zeros
    while (pending < end) {
      const count = Math.min(end - pending, MAX_GROUPS * 8);
      const groups = Math.ceil(count / 8);
      sink.varint((groups << 1) | 1);
      const at = pending;
      bitPack(sink, width, count, groups * 8, (k) => values[at + k]!);
      pending += count;
    }
  };
  while (i < hi) {
    const v = values[i]!;
    let j = i + 1;
    while (j < hi && values[j] === v) j++;
    // A literal stretch must end on a multiple of 8: the run lends it the values it needs.
    const fill = (8 - ((i - pending) % 8)) % 8;
    if (j - i >= 8 + fill) {
      flushLiterals(i + fill);
      const run = j - pending;
      sink.varint(run * 2);
      let x = v;
      for (let b = 0; b < valueBytes; b++) {
        sink.byte(x & 0xff);
        x >>>= 8;
      }
      pending = j;
    }
    i = j;
  }
  flushLiterals(hi);
}
