/**
 * A reader for the Thrift compact protocol, the encoding of every Parquet footer and page header.
 * Structs decode generically into maps of field id to value (ids are what the Parquet spec
 * names), so the caller picks the fields it knows and skips the rest, as Thrift itself does.
 * 64-bit integers come as numbers: Parquet's offsets, sizes and counts are far below 2^53; a
 * larger one is refused rather than rounded.
 */

/** A decoded struct: field id -> value (number, boolean, Uint8Array, list or struct). */
export type ThriftStruct = Map<number, ThriftValue>;
export type ThriftValue = number | boolean | Uint8Array | ThriftValue[] | ThriftStruct;

/** A cursor over Thrift compact bytes. */
export class ThriftReader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
  ) {
    this.pos = start;
  }

  /** One struct from the cursor (ends at its stop field). */
  struct(): ThriftStruct {
    const out: ThriftStruct = new Map();
    let id = 0;
    for (;;) {
      const head = this.byte();
      if (head === 0) return out;
      const type = head & 0x0f;
      const delta = head >> 4;
      id = delta === 0 ? this.zigzag() : id + delta;
      out.set(id, this.value(type));
    }
  }

  private value(type: number): ThriftValue {
    switch (type) {
      case 1:
        return true;
      case 2:
        return false;
      case 3:
        return (this.byte() << 24) >> 24;
      case 4:
      case 5:
      case 6:
        return this.zigzag();
      case 7: {
        const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8).getFloat64(0, true);
        this.pos += 8;
        return v;
      }
      case 8: {
        const n = this.varint();
        const end = this.pos + n;
        if (end > this.bytes.length) throw new RangeError('thrift: binary field runs past the end');
        const v = this.bytes.subarray(this.pos, end);
        this.pos = end;
        return v;
      }
      case 9:
      case 10: {
        const head = this.byte();
        const n = head >> 4 === 15 ? this.varint() : head >> 4;
        const et = head & 0x0f;
        const list: ThriftValue[] = [];
        // in lists, booleans take a byte each
        for (let i = 0; i < n; i++) list.push(et === 1 || et === 2 ? this.byte() === 1 : this.value(et));
        return list;
      }
      case 11: {
        const n = this.varint();
        const list: ThriftValue[] = [];
        if (n > 0) {
          const kv = this.byte();
          for (let i = 0; i < n; i++) list.push([this.value(kv >> 4), this.value(kv & 0x0f)]);
        }
        return list;
      }
      case 12:
        return this.struct();
      default:
        throw new RangeError(`thrift: unknown compact type ${type} at byte ${this.pos}`);
    }
  }

  private byte(): number {
    if (this.pos >= this.bytes.length) throw new RangeError('thrift: unexpected end of data');
    return this.bytes[this.pos++]!;
  }

  varint(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      v += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 128;
      if (scale > 2 ** 56) throw new RangeError('thrift: varint longer than 64 bits');
    }
    if (v > Number.MAX_SAFE_INTEGER) throw new RangeError('thrift: integer beyond 2^53');
    return v;
  }

  private zigzag(): number {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }
}

/** Field `id` of `s` as a number (undefined when absent). */
export function num(s: ThriftStruct, id: number): number | undefined {
  const v = s.get(id);
  return typeof v === 'number' ? v : undefined;
}

/** Field `id` of `s` as a struct (undefined when absent). */
export function sub(s: ThriftStruct, id: number): ThriftStruct | undefined {
  const v = s.get(id);
  return v instanceof Map ? v : undefined;
}

/** Field `id` of `s` as a list (empty when absent). */
export function list(s: ThriftStruct, id: number): ThriftValue[] {
  const v = s.get(id);
  return Array.isArray(v) ? v : [];
}

/** Compact-protocol type ids of the fields a Parquet footer or page header holds. */
export const TTYPE = { TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, BINARY: 8, LIST: 9, STRUCT: 12 } as const;

/**
 * A writer for the Thrift compact protocol: the store's own Parquet encoder writes its page
 * headers and footers with it. Fields go in increasing id order inside each struct (the short
 * form's delta needs it; Parquet's structs list their ids in order anyway). Integers are numbers
 * below 2^52 (offsets, sizes, counts).
 */
export class ThriftWriter {
  private buf = new Uint8Array(256);
  private len = 0;
  /** Last field id of each open struct (the innermost last). */
  private readonly ids: number[] = [0];

  /** The bytes written so far (a view: copy it before writing more). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /** Starts over, keeping the buffer. */
  reset(): this {
    this.len = 0;
    this.ids.length = 1;
    this.ids[0] = 0;
    return this;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private byte(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
  }

  private varint(v: number): void {
    this.room(10);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }

  private zigzag(v: number): void {
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  private field(id: number, type: number): void {
    const last = this.ids[this.ids.length - 1]!;
    const delta = id - last;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.zigzag(id);
    }
    this.ids[this.ids.length - 1] = id;
  }

  i16(id: number, v: number): this {
    this.field(id, TTYPE.I16);
    this.zigzag(v);
    return this;
  }

  i32(id: number, v: number): this {
    this.field(id, TTYPE.I32);
    this.zigzag(v);
    return this;
  }

  i64(id: number, v: number): this {
    this.field(id, TTYPE.I64);
    this.zigzag(v);
    return this;
  }

  /** An i8 field (one raw byte). */
  i8(id: number, v: number): this {
    this.field(id, TTYPE.BYTE);
    this.byte(v & 0xff);
    return this;
  }

  bool(id: number, v: boolean): this {
    this.field(id, v ? TTYPE.TRUE : TTYPE.FALSE);
    return this;
  }

  binary(id: number, v: Uint8Array | string): this {
    this.field(id, TTYPE.BINARY);
    this.rawBinary(v);
    return this;
  }

  private rawBinary(v: Uint8Array | string): void {
    const b = typeof v === 'string' ? utf8Encoder.encode(v) : v;
    this.varint(b.length);
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** Opens a struct field; close it with {@link end}. */
  struct(id: number): this {
    this.field(id, TTYPE.STRUCT);
    this.ids.push(0);
    return this;
  }

  /** Closes the innermost struct (a list element opened with {@link element}, or a {@link struct} field). */
  end(): this {
    this.byte(0);
    this.ids.pop();
    return this;
  }

  /** Opens a list field of `n` elements of `type`; write them with {@link element}, {@link listI32} or {@link listBinary}. */
  list(id: number, type: number, n: number): this {
    this.field(id, TTYPE.LIST);
    if (n < 15) this.byte((n << 4) | type);
    else {
      this.byte(0xf0 | type);
      this.varint(n);
    }
    return this;
  }

  /** Opens one struct element of a list; close it with {@link end}. */
  element(): this {
    this.ids.push(0);
    return this;
  }

  listI32(id: number, values: readonly number[]): this {
    this.list(id, TTYPE.I32, values.length);
    for (const v of values) this.zigzag(v);
    return this;
  }

  listBinary(id: number, values: readonly (Uint8Array | string)[]): this {
    this.list(id, TTYPE.BINARY, values.length);
    for (const v of values) this.rawBinary(v);
    return this;
  }

  /** Ends the outermost struct (its stop byte). */
  finish(): Uint8Array {
    this.byte(0);
    return this.bytes();
  }
}

const utf8Encoder = new TextEncoder();
