import { MillwrightError } from '../../errors/index.ts';

/**
 * The window-poll wire format: length-prefixed binary frames over TCP, big-endian, one request
 * answered by one response with the same request id (docs/gateway.md, "The window-poll protocol").
 *
 * Header (12 bytes): `'W' 'P' | u8 version (1) | u8 type | u32 requestId | u32 payloadLength`.
 */
export const WP_MAGIC = 0x5750; // 'WP'
export const WP_VERSION = 1;
export const WP_HEADER_BYTES = 12;
/** Largest payload either side accepts: a frame claiming more is a protocol error, not an allocation. */
export const WP_MAX_PAYLOAD = 16 * 1024 * 1024;

/** Frame types. Responses have the high bit set. */
export const WP_TYPE = {
  infoRequest: 0x01,
  readRequest: 0x02,
  infoResponse: 0x81,
  readResponse: 0x82,
  error: 0xff,
} as const;

/** Per-tag status of a READ response. */
export const WP_TAG_STATUS = { ok: 0, unknownTag: 1 } as const;

/** One reading as the device holds it. */
export interface WpReading {
  ts: number;
  value: number;
  quality: number;
}

/** What a device says about itself (INFO). */
export interface WpInfo {
  deviceNow: number;
  windowMs: number;
  tags: number[];
}

/** One tag of a READ response. */
export interface WpTagData {
  tagId: number;
  status: number;
  readings: WpReading[];
}

/** A READ response: everything the device holds for the tags asked (within `spanMs` of `deviceNow`). */
export interface WpReadResponse {
  deviceNow: number;
  /** The device holds every reading with ts > heldAfter (older ones were discarded). */
  heldAfter: number;
  tags: WpTagData[];
}

/** A decoded frame. */
export type WpFrame =
  | { type: typeof WP_TYPE.infoRequest; requestId: number }
  | { type: typeof WP_TYPE.readRequest; requestId: number; spanMs: number; tags: number[] }
  | { type: typeof WP_TYPE.infoResponse; requestId: number; info: WpInfo }
  | { type: typeof WP_TYPE.readResponse; requestId: number; data: WpReadResponse }
  | { type: typeof WP_TYPE.error; requestId: number; code: number; message: string };

function frame(type: number, requestId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(WP_HEADER_BYTES);
  head.writeUInt16BE(WP_MAGIC, 0);
  head.writeUInt8(WP_VERSION, 2);
  head.writeUInt8(type, 3);
  head.writeUInt32BE(requestId >>> 0, 4);
  head.writeUInt32BE(payload.length, 8);
  return Buffer.concat([head, payload]);
}

/** Encodes one frame. */
export function encodeFrame(f: WpFrame): Buffer {
  switch (f.type) {
    case WP_TYPE.infoRequest:
      return frame(f.type, f.requestId, Buffer.alloc(0));
    case WP_TYPE.readRequest: {
      const p = Buffer.alloc(6 + 4 * f.tags.length);
      p.writeUInt32BE(f.spanMs >>> 0, 0);
      p.writeUInt16BE(f.tags.length, 4);
      f.tags.forEach((t, i) => p.writeUInt32BE(t >>> 0, 6 + 4 * i));
      return frame(f.type, f.requestId, p);
    }
    case WP_TYPE.infoResponse: {
      const p = Buffer.alloc(14 + 4 * f.info.tags.length);
      p.writeDoubleBE(f.info.deviceNow, 0);
      p.writeUInt32BE(f.info.windowMs >>> 0, 8);
      p.writeUInt16BE(f.info.tags.length, 12);
      f.info.tags.forEach((t, i) => p.writeUInt32BE(t >>> 0, 14 + 4 * i));
      return frame(f.type, f.requestId, p);
    }
    case WP_TYPE.readResponse: {
      const { data } = f;
      let size = 18;
      for (const t of data.tags) size += 9 + 17 * t.readings.length;
      const p = Buffer.alloc(size);
      p.writeDoubleBE(data.deviceNow, 0);
      p.writeDoubleBE(data.heldAfter, 8);
      p.writeUInt16BE(data.tags.length, 16);
      let o = 18;
      for (const t of data.tags) {
        p.writeUInt32BE(t.tagId >>> 0, o);
        p.writeUInt8(t.status, o + 4);
        p.writeUInt32BE(t.readings.length, o + 5);
        o += 9;
        for (const r of t.readings) {
          p.writeDoubleBE(r.ts, o);
          p.writeDoubleBE(r.value, o + 8);
          p.writeUInt8(r.quality, o + 16);
          o += 17;
        }
      }
      return frame(f.type, f.requestId, p);
    }
    case WP_TYPE.error: {
      const msg = Buffer.from(f.message, 'utf8');
      const p = Buffer.alloc(2 + msg.length);
      p.writeUInt16BE(f.code, 0);
      msg.copy(p, 2);
      return frame(f.type, f.requestId, p);
    }
  }
}

function protocolError(why: string): MillwrightError {
  return new MillwrightError('BAD_INPUT', `window-poll protocol error: ${why}`);
}

function decodePayload(type: number, requestId: number, p: Buffer): WpFrame {
  const need = (n: number) => {
    if (p.length < n) throw protocolError(`frame type 0x${type.toString(16)} has ${p.length} payload bytes, expected at least ${n}`);
  };
  switch (type) {
    case WP_TYPE.infoRequest:
      return { type, requestId };
    case WP_TYPE.readRequest: {
      need(6);
      const n = p.readUInt16BE(4);
      need(6 + 4 * n);
      const tags = Array.from({ length: n }, (_, i) => p.readUInt32BE(6 + 4 * i));
      return { type, requestId, spanMs: p.readUInt32BE(0), tags };
    }
    case WP_TYPE.infoResponse: {
      need(14);
      const n = p.readUInt16BE(12);
      need(14 + 4 * n);
      const tags = Array.from({ length: n }, (_, i) => p.readUInt32BE(14 + 4 * i));
      return { type, requestId, info: { deviceNow: p.readDoubleBE(0), windowMs: p.readUInt32BE(8), tags } };
    }
    case WP_TYPE.readResponse: {
      need(18);
      const data: WpReadResponse = { deviceNow: p.readDoubleBE(0), heldAfter: p.readDoubleBE(8), tags: [] };
      const n = p.readUInt16BE(16);
      let o = 18;
      for (let t = 0; t < n; t++) {
        need(o + 9);
        const tagId = p.readUInt32BE(o);
        const status = p.readUInt8(o + 4);
        const count = p.readUInt32BE(o + 5);
        o += 9;
        need(o + 17 * count);
        const readings: WpReading[] = new Array(count);
        for (let i = 0; i < count; i++, o += 17) readings[i] = { ts: p.readDoubleBE(o), value: p.readDoubleBE(o + 8), quality: p.readUInt8(o + 16) };
        data.tags.push({ tagId, status, readings });
      }
      return { type, requestId, data };
    }
    case WP_TYPE.error:
      need(2);
      return { type, requestId, code: p.readUInt16BE(0), message: p.subarray(2).toString('utf8') };
    default:
      throw protocolError(`unknown frame type 0x${type.toString(16)}`);
  }
}

/**
 * Reassembles frames from a TCP byte stream (frames may arrive split or several per chunk).
 * Throws a BAD_INPUT MillwrightError on a wrong magic, version or oversized length: the caller
 * closes the connection, since the stream cannot be resynchronised.
 */
export class FrameReader {
  // Chunks not consumed yet, joined only once a whole frame has arrived: joining on every chunk
  // copied a 700 kB response about 10 times over (and churned that much native memory per poll).
  private chunks: Buffer[] = [];
  private have = 0;
  /** Bytes the frame at the front needs (header + payload), once its header has arrived. */
  private need = WP_HEADER_BYTES;

  /** Adds bytes; returns every complete frame now available. */
  push(chunk: Buffer): WpFrame[] {
    this.chunks.push(chunk);
    this.have += chunk.length;
    const out: WpFrame[] = [];
    if (this.have < this.need) return out;
    let buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.have);
    while (buf.length >= WP_HEADER_BYTES) {
      if (buf.readUInt16BE(0) !== WP_MAGIC) throw protocolError('wrong magic (expected "WP")');
      const version = buf.readUInt8(2);
      if (version !== WP_VERSION) throw protocolError(`version ${version}, expected ${WP_VERSION}`);
      const len = buf.readUInt32BE(8);
      if (len > WP_MAX_PAYLOAD) throw protocolError(`payload of ${len} bytes exceeds the ${WP_MAX_PAYLOAD}-byte limit`);
      if (buf.length < WP_HEADER_BYTES + len) break;
      const type = buf.readUInt8(3);
      const requestId = buf.readUInt32BE(4);
      const payload = buf.subarray(WP_HEADER_BYTES, WP_HEADER_BYTES + len);
      out.push(decodePayload(type, requestId, payload));
      buf = buf.subarray(WP_HEADER_BYTES + len);
    }
    // A partial frame is kept as its own copy, so it does not pin the joined buffer.
    this.chunks = buf.length === 0 ? [] : [Buffer.from(buf)];
    this.have = buf.length;
    this.need = buf.length >= WP_HEADER_BYTES ? WP_HEADER_BYTES + buf.readUInt32BE(8) : WP_HEADER_BYTES;
    return out;
  }
}
