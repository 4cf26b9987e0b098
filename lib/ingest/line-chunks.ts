/** Longest line the readers accept (bytes): longer lines are rejected, not buffered forever. */
export const MAX_LINE_BYTES = 1 << 20;

/**
 * A run of complete lines (ends with `\n`, except the last run of the input): its bytes, and
 * `text`, the bytes decoded as UTF-8 when first asked for (a byte-level parser never asks).
 */
export class TextRun {
  readonly kind = 'text';
  private decoded: string | undefined;
  constructor(
    readonly bytes: Buffer,
    /** Input bytes consumed so far, this run included (for progress). */
    readonly bytesRead: number,
  ) {}
  get text(): string {
    this.decoded ??= this.bytes.toString('utf8');
    return this.decoded;
  }
}

/** A line longer than {@link MAX_LINE_BYTES}: reported once with its beginning, then skipped. */
export interface LongLine {
  kind: 'long';
  head: string;
  bytesRead: number;
}

/**
 * Splits a byte stream into runs of whole lines. Splitting on the `\n` byte is safe for UTF-8
 * (it never occurs inside a multi-byte sequence), so each run decodes on its own; a leading
 * UTF-8 byte-order mark is dropped (unless `bom` is false: a slice of a file that starts mid-file).
 */
export async function* lineChunks(stream: AsyncIterable<Buffer | Uint8Array | string>, opts: { bom?: boolean } = {}): AsyncGenerator<TextRun | LongLine> {
  let carry: Buffer | undefined;
  let bytesRead = 0;
  let first = opts.bom ?? true;
  let skipping = false; // inside an over-long line: drop bytes up to the next newline
  for await (const part of stream) {
    let chunk = typeof part === 'string' ? Buffer.from(part) : Buffer.isBuffer(part) ? part : Buffer.from(part.buffer, part.byteOffset, part.byteLength);
    bytesRead += chunk.length;
    if (first && chunk.length > 0) {
      first = false;
      if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
    }
    if (skipping) {
      const nl = chunk.indexOf(10);
      if (nl < 0) continue;
      chunk = chunk.subarray(nl + 1);
      skipping = false;
    }
    const last = chunk.lastIndexOf(10);
    if (last < 0) {
      carry = carry ? Buffer.concat([carry, chunk]) : Buffer.from(chunk);
      if (carry.length > MAX_LINE_BYTES) {
        yield { kind: 'long', head: carry.subarray(0, 200).toString('utf8'), bytesRead };
        carry = undefined;
        skipping = true;
      }
      continue;
    }
    const body = carry ? Buffer.concat([carry, chunk.subarray(0, last + 1)]) : chunk.subarray(0, last + 1);
    carry = last + 1 < chunk.length ? Buffer.from(chunk.subarray(last + 1)) : undefined;
    yield new TextRun(body, bytesRead);
  }
  if (carry && carry.length > 0 && !skipping) yield new TextRun(carry, bytesRead);
}
