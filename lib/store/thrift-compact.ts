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
