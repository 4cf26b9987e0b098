/**
 * The event and inference ids of scanned capture records, kept as bytes until something reads
 * them. A day of capture is 1.7M ids; as strings they were a fifth of the capture read (making
 * them, and the garbage collector moving them), and only a ground-truth merge looks at them.
 * The frame's `eventId`/`inferenceId` columns decode them on first access, once.
 */
import type { CategoricalColumn } from './data.ts';

/** Latin1 text of `buf[start, end)` (Buffer's own `latin1Slice` when it has one: no argument checks per id). */
export const latin1: (buf: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as unknown as { latin1Slice?: unknown }).latin1Slice === 'function'
    ? (buf, start, end) => (buf as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(start, end)
    : (buf, start, end) => buf.toString('latin1', start, end);

/** A growing list of short ASCII strings stored as bytes: id `i` is `bytes[ends[i - 1], ends[i])`. */
export class CapturedIds {
  private bytes = Buffer.allocUnsafe(1 << 16);
  private used = 0;
  private ends = new Int32Array(1024);
  /** How many ids it holds. */
  length = 0;

  /** Appends `buf[start, end)`. */
  push(buf: Uint8Array, start: number, end: number): void {
    const len = end - start;
    if (this.used + len > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.used + len));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    if (this.length === this.ends.length) {
      const grown = new Int32Array(2 * this.ends.length);
      grown.set(this.ends);
      this.ends = grown;
    }
    // A byte loop: ids are short, and a view per id to copy from would be garbage per record.
    const to = this.bytes;
    for (let k = 0, o = this.used; k < len; k++) to[o + k] = buf[start + k]!;
    this.used += len;
    this.ends[this.length++] = this.used;
  }

  /** Id `i` as a string. */
  at(i: number): string {
    return latin1(this.bytes, i === 0 ? 0 : this.ends[i - 1]!, this.ends[i]!);
  }

  /** Every id as a string, in order. */
  strings(): string[] {
    const out = new Array<string>(this.length);
    for (let i = 0, s = 0; i < this.length; i++) {
      const e = this.ends[i]!;
      out[i] = latin1(this.bytes, s, e);
      s = e;
    }
    return out;
  }

  /** Empties it (keeping its capacity). */
  clear(): void {
    this.used = 0;
    this.length = 0;
  }
}

/**
 * A categorical column whose values are made on first access (then kept as a plain property),
 * so a report that never reads the ids never makes them.
 */
export function lazyColumn(name: string, decode: () => string[]): CategoricalColumn {
  const col = { kind: 'categorical', name } as CategoricalColumn;
  Object.defineProperty(col, 'values', {
    enumerable: true,
    configurable: true,
    get(): string[] {
      const values = decode();
      Object.defineProperty(col, 'values', { value: values, enumerable: true, writable: true, configurable: true });
      return values;
    },
  });
  return col;
}
