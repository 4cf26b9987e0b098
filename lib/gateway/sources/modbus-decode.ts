import { wordsOf, type ModbusKind, type ModbusRegister, type ModbusRegisterType } from './modbus-config.ts';

/**
 * Decodes one value from its 16-bit words as read from the device. Modbus sends each word high
 * byte first; `wordOrder` says whether the most significant word comes first (`big`, ABCD) or
 * last (`little`, CDAB, the "word-swapped" layout many PLCs use for 32/64-bit values).
 *
 * @example
 * import { decodeWords } from 'millwright';
 * decodeWords([0x0000, 0x3fc0], 'float32', 'little'); // 1.5
 */
export function decodeWords(words: ArrayLike<number>, type: ModbusRegisterType, wordOrder: 'big' | 'little'): number {
  const n = wordsOf(type);
  if (words.length < n) throw new RangeError(`a ${type} needs ${n} registers, got ${words.length}`);
  const buf = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    const w = words[wordOrder === 'big' ? i : n - 1 - i];
    buf.writeUInt16BE(w & 0xffff, i * 2);
  }
  switch (type) {
    case 'int16': return buf.readInt16BE(0);
    case 'uint16': return buf.readUInt16BE(0);
    case 'int32': return buf.readInt32BE(0);
    case 'uint32': return buf.readUInt32BE(0);
    case 'float32': return buf.readFloatBE(0);
    case 'float64': return buf.readDoubleBE(0);
  }
}

/**
 * The words a device must hold so that {@link decodeWords} returns `value` (tests and simulators
 * write registers with it).
 *
 * @example
 * import { encodeWords } from 'millwright';
 * encodeWords(1.5, 'float32', 'big'); // [0x3fc0, 0x0000]
 */
export function encodeWords(value: number, type: ModbusRegisterType, wordOrder: 'big' | 'little'): number[] {
  const n = wordsOf(type);
  const buf = Buffer.alloc(n * 2);
  switch (type) {
    case 'int16': buf.writeInt16BE(value, 0); break;
    case 'uint16': buf.writeUInt16BE(value, 0); break;
    case 'int32': buf.writeInt32BE(value, 0); break;
    case 'uint32': buf.writeUInt32BE(value, 0); break;
    case 'float32': buf.writeFloatBE(value, 0); break;
    case 'float64': buf.writeDoubleBE(value, 0); break;
  }
  const words = Array.from({ length: n }, (_, i) => buf.readUInt16BE(i * 2));
  return wordOrder === 'big' ? words : words.reverse();
}

/** One Modbus read covering one or more configured tags of the same table. */
export interface ModbusRequest {
  kind: ModbusKind;
  start: number;
  count: number;
  tags: ModbusRegister[];
}

/** Modbus' own limits per read: 125 registers (FC 3/4), 2000 bits (FC 1/2). */
const MAX_WORDS = 125;
const MAX_BITS = 2000;

/**
 * Groups tags into as few reads as possible: tags of one table whose addresses are contiguous
 * or overlap share a read, up to the protocol's per-request limit. Holes are not bridged, since a
 * device may answer "illegal address" for a register nobody configured.
 */
export function planRequests(registers: readonly ModbusRegister[]): ModbusRequest[] {
  const sorted = [...registers].sort((a, b) => (a.kind === b.kind ? a.address - b.address : a.kind < b.kind ? -1 : 1));
  const out: ModbusRequest[] = [];
  let current: ModbusRequest | undefined;
  for (const reg of sorted) {
    const width = wordsOf(reg.type);
    const limit = reg.kind === 'coil' || reg.kind === 'discrete' ? MAX_BITS : MAX_WORDS;
    const end = reg.address + width; // exclusive
    if (current !== undefined && current.kind === reg.kind && reg.address <= current.start + current.count && Math.max(end, current.start + current.count) - current.start <= limit) {
      current.count = Math.max(end, current.start + current.count) - current.start;
      current.tags.push(reg);
      continue;
    }
    current = { kind: reg.kind, start: reg.address, count: width, tags: [reg] };
    out.push(current);
  }
  return out;
}

/**
 * The tag's value from the data of the read that covered it, scaled (`raw * scale + offset`), or
 * undefined when the raw value is not a finite number (a NaN or infinite float the device holds).
 */
export function tagValue(tag: ModbusRegister, request: ModbusRequest, data: ArrayLike<number | boolean>): { raw: number; value: number | undefined } {
  const at = tag.address - request.start;
  if (tag.type === 'boolean') {
    const raw = data[at] ? 1 : 0;
    return { raw, value: raw * tag.scale + tag.offset };
  }
  const words = Array.from({ length: wordsOf(tag.type) }, (_, i) => Number(data[at + i]));
  const raw = decodeWords(words, tag.type, tag.wordOrder);
  const value = raw * tag.scale + tag.offset;
  return { raw, value: Number.isFinite(value) ? value : undefined };
}
