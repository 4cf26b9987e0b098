import { crc32 } from 'node:zlib';
import type { ReadingBatch } from '../readings/index.ts';
import type { BatchOrigin } from '../readings/index.ts';

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

/**
 * Decodes a segment written by {@link encodeSegment}, or explains why it is torn or corrupt
 * (short file, wrong magic, length mismatch, CRC mismatch).
 */
export function decodeSegment(buf: Buffer): { batch: ReadingBatch; meta: SegmentMeta } | TornSegment {
  if (buf.length < HEADER_BYTES) return { torn: `only ${buf.length} bytes (a segment header is ${HEADER_BYTES})` };
  if (!buf.subarray(0, 8).equals(SEGMENT_MAGIC)) return { torn: 'wrong magic (not a millwright spool segment)' };
  const payloadLen = buf.readUInt32LE(8);
  if (buf.length !== HEADER_BYTES + payloadLen) return { torn: `length ${buf.length - HEADER_BYTES} bytes, header says ${payloadLen} (torn write)` };
  const payload = buf.subarray(HEADER_BYTES);
  if (crc32(payload) !== buf.readUInt32LE(12)) return { torn: 'CRC-32 mismatch (corrupt or torn write)' };
  const n = payload.readUInt32LE(0);
  const hasQuality = (payload.readUInt32LE(4) & 1) === 1;
  const metaLen = payload.readUInt32LE(8);
  const meta = JSON.parse(payload.subarray(12, 12 + metaLen).toString('utf8')) as SegmentMeta & { dict: string[] };
  let o = 12 + metaLen;
  o += (8 - (o % 8)) % 8;
  // Copy each column into its own aligned buffer (the file buffer's alignment is not guaranteed).
  const take = (bytes: number): ArrayBuffer => {
    const ab = new ArrayBuffer(bytes);
    new Uint8Array(ab).set(payload.subarray(o, o + bytes));
    o += bytes;
    return ab;
  };
  const ts = new Float64Array(take(n * 8));
  const value = new Float64Array(take(n * 8));
  const ids = [new Int32Array(take(n * 4)), new Int32Array(take(n * 4)), new Int32Array(take(n * 4))];
  const dict = meta.dict;
  const [site, asset, signal] = ids.map((col) => {
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = dict[col[i]];
    return out;
  });
  const batch: ReadingBatch = { ts, site, asset, signal, value };
  if (hasQuality) batch.quality = new Uint8Array(take(n));
  const { dict: _dict, ...rest } = meta;
  return { batch, meta: rest };
}

/** Rows recorded in a segment header (without decoding the rest), or undefined when too short. */
export function segmentRows(head: Buffer): number | undefined {
  return head.length >= HEADER_BYTES + 4 && head.subarray(0, 8).equals(SEGMENT_MAGIC) ? head.readUInt32LE(HEADER_BYTES) : undefined;
}
