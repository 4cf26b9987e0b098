import { crc32 } from 'node:zlib';
import type { ReadingBatch } from '../readings/index.ts';
import type { BatchOrigin } from '../readings/index.ts';
import type { EncodedReadings } from '../store/index.ts';
import type { ReadingChunk } from '../store/write-chunks.ts';

/** First 8 bytes of every spool segment. */
export const SEGMENT_MAGIC = Buffer.from('MWSPOOL1', 'ascii');
/** Magic + payload length (u32) + CRC-32 of the payload (u32). */
export const HEADER_BYTES = 16;

/** Extra facts stored with a spooled batch (for logs and diagnostics). */
export interface SegmentMeta extends Partial<BatchOrigin> {
  /** When the batch was acknowledged (ISO-8601). */
  spooledAt?: string;
}

/**
 * Serialises a batch as one spool segment:
 * `MWSPOOL1 | u32 payload length | u32 CRC-32(payload) | payload`, all little-endian. The payload
 * is `u32 rows | u32 flags (1 = quality) | u32 meta length | meta JSON (dictionary of names +
 * origin) | pad to 8 | f64 ts[] | f64 value[] | i32 site[] | i32 asset[] | i32 signal[] | u8 quality[]`.
 * A reader that finds a short file, a wrong length or a CRC mismatch knows the segment is torn.
 */
export function encodeSegment(batch: ReadingBatch, meta: SegmentMeta = {}): Buffer {
  const n = batch.ts.length;
  const dict: string[] = [];
  const ids = new Map<string, number>();
  const encode = (col: string[]): Int32Array => {
    const out = new Int32Array(n);
    let last: string | undefined;
    let lastId = -1;
    for (let i = 0; i < n; i++) {
      const v = col[i];
      if (v !== last) {
        let id = ids.get(v);
        if (id === undefined) {
          id = dict.length;
          ids.set(v, id);
          dict.push(v);
        }
        last = v;
        lastId = id;
      }
      out[i] = lastId;
    }
    return out;
  };
  const site = encode(batch.site);
  const asset = encode(batch.asset);
  const signal = encode(batch.signal);
  const metaBytes = Buffer.from(JSON.stringify({ ...meta, dict }), 'utf8');
  const hasQuality = batch.quality !== undefined;
  const head = 12 + metaBytes.length;
  const pad = (8 - (head % 8)) % 8;
  const payloadLen = head + pad + n * (8 + 8 + 4 + 4 + 4) + (hasQuality ? n : 0);
  const buf = Buffer.alloc(HEADER_BYTES + payloadLen);
  SEGMENT_MAGIC.copy(buf, 0);
  buf.writeUInt32LE(payloadLen, 8);
  let o = HEADER_BYTES;
  buf.writeUInt32LE(n, o);
  buf.writeUInt32LE(hasQuality ? 1 : 0, o + 4);
  buf.writeUInt32LE(metaBytes.length, o + 8);
  metaBytes.copy(buf, o + 12);
  o += head + pad;
  const put = (a: Float64Array | Int32Array | Uint8Array) => {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    buf.set(bytes, o);
    o += bytes.length;
  };
  put(batch.ts);
  put(batch.value);
  put(site);
  put(asset);
  put(signal);
  if (batch.quality) put(batch.quality);
  buf.writeUInt32LE(crc32(buf.subarray(HEADER_BYTES)), 12);
  return buf;
}

/** Why a segment cannot be trusted. */
export interface TornSegment {
  torn: string;
}

/** A segment's readings as written: name columns as ids into the segment's dictionary. */
export interface EncodedSegment {
  batch: EncodedReadings;
  /** The names the ids refer to (site, asset and signal names share one dictionary). */
  dict: string[];
  meta: SegmentMeta;
}

/**
 * Decodes a segment written by {@link encodeSegment}, or explains why it is torn or corrupt
 * (short file, wrong magic, length mismatch, CRC mismatch).
 */
export function decodeSegment(buf: Buffer): { batch: ReadingBatch; meta: SegmentMeta } | TornSegment {
  const seg = decodeSegmentEncoded(buf);
  if ('torn' in seg) return seg;
  const { batch: enc, dict, meta } = seg;
  const n = enc.ts.length;
  const [site, asset, signal] = [enc.site, enc.asset, enc.signal].map((col) => {
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = dict[col[i]];
    return out;
  });
  const batch: ReadingBatch = { ts: enc.ts, site, asset, signal, value: enc.value };
  if (enc.quality) batch.quality = enc.quality;
  return { batch, meta };
}

/**
 * Like {@link decodeSegment}, without turning ids back into names: the columns are the segment's
 * own bytes (copied into aligned arrays), ready for the store's `writeEncodedReadings`.
 */
export function decodeSegmentEncoded(buf: Buffer): EncodedSegment | TornSegment {
  const seg = openSegment(buf);
  if ('torn' in seg) return seg;
  const n = seg.rows;
  const batch: EncodedReadings = { ts: new Float64Array(n), value: new Float64Array(n), site: new Int32Array(n), asset: new Int32Array(n), signal: new Int32Array(n) };
  if (seg.hasQuality) batch.quality = new Uint8Array(n);
  copySegment(seg, batch, 0);
  return { batch, dict: seg.dict, meta: seg.meta };
}

/** A checked segment (magic, length, CRC) whose columns are still in the file's bytes. */
export interface OpenSegment {
  rows: number;
  hasQuality: boolean;
  dict: string[];
  meta: SegmentMeta;
  /** The payload and where its columns start. */
  payload: Buffer;
  columnsAt: number;
}

/** Checks a segment and reads its header and dictionary, leaving the columns in place. */
export function openSegment(buf: Buffer): OpenSegment | TornSegment {
  if (buf.length < HEADER_BYTES) return { torn: `only ${buf.length} bytes (a segment header is ${HEADER_BYTES})` };
  if (!buf.subarray(0, 8).equals(SEGMENT_MAGIC)) return { torn: 'wrong magic (not a millwright spool segment)' };
  const payloadLen = buf.readUInt32LE(8);
  if (buf.length !== HEADER_BYTES + payloadLen) return { torn: `length ${buf.length - HEADER_BYTES} bytes, header says ${payloadLen} (torn write)` };
  const payload = buf.subarray(HEADER_BYTES);
  if (crc32(payload) !== buf.readUInt32LE(12)) return { torn: 'CRC-32 mismatch (corrupt or torn write)' };
  const rows = payload.readUInt32LE(0);
  const hasQuality = (payload.readUInt32LE(4) & 1) === 1;
  const metaLen = payload.readUInt32LE(8);
  const { dict, ...meta } = JSON.parse(payload.subarray(12, 12 + metaLen).toString('utf8')) as SegmentMeta & { dict: string[] };
  const head = 12 + metaLen;
  return { rows, hasQuality, dict, meta, payload, columnsAt: head + ((8 - (head % 8)) % 8) };
}

/**
 * Copies an open segment's columns into `out` from row `at` on (one byte copy per column: the
 * file buffer's alignment is not guaranteed). A segment without quality leaves `out.quality` as
 * it is (zeros when fresh).
 */
export function copySegment(seg: OpenSegment, out: EncodedReadings, at: number): void {
  const n = seg.rows;
  let o = seg.columnsAt;
  const put = (a: Float64Array | Int32Array | Uint8Array, width: number) => {
    new Uint8Array(a.buffer, a.byteOffset + at * width, n * width).set(seg.payload.subarray(o, o + n * width));
    o += n * width;
  };
  put(out.ts, 8);
  put(out.value, 8);
  put(out.site, 4);
  put(out.asset, 4);
  put(out.signal, 4);
  if (seg.hasQuality && out.quality) put(out.quality, 1);
}

/**
 * An open segment's rows as a store write chunk, the name ids still pointing into the segment's
 * own dictionary. The columns are views of the file's bytes when the buffer is 8-byte aligned
 * (a whole-file read is: the columns start on a multiple of 8), else copies; either way nothing
 * per row is decoded.
 */
export function segmentChunk(seg: OpenSegment): ReadingChunk {
  const n = seg.rows;
  const { buffer, byteOffset } = seg.payload;
  const base = byteOffset + seg.columnsAt;
  if (base % 8 !== 0) {
    const batch: EncodedReadings = { ts: new Float64Array(n), value: new Float64Array(n), site: new Int32Array(n), asset: new Int32Array(n), signal: new Int32Array(n) };
    if (seg.hasQuality) batch.quality = new Uint8Array(n);
    copySegment(seg, batch, 0);
    return { ts: batch.ts, value: batch.value, quality: batch.quality, site: batch.site, asset: batch.asset, signal: batch.signal, dict: seg.dict };
  }
  return {
    ts: new Float64Array(buffer, base, n),
    value: new Float64Array(buffer, base + 8 * n, n),
    quality: seg.hasQuality ? new Uint8Array(buffer, base + 28 * n, n) : undefined,
    site: new Int32Array(buffer, base + 16 * n, n),
    asset: new Int32Array(buffer, base + 20 * n, n),
    signal: new Int32Array(buffer, base + 24 * n, n),
    dict: seg.dict,
  };
}

/** Rows recorded in a segment header (without decoding the rest), or undefined when too short. */
export function segmentRows(head: Buffer): number | undefined {
  return head.length >= HEADER_BYTES + 4 && head.subarray(0, 8).equals(SEGMENT_MAGIC) ? head.readUInt32LE(HEADER_BYTES) : undefined;
}
