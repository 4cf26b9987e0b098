import { MillwrightError } from '../errors/index.ts';
import type { BatchBuilder, EncodedBatch } from './batch-builder.ts';
import type { ReadOptions } from './csv.ts';
import { lineChunks, MAX_LINE_BYTES } from './line-chunks.ts';

/** A row parser behind a header line (long and wide CSV). */
export interface HeaderedParser {
  readonly builder: BatchBuilder;
  /** Line number of the last line read (the header's, before the first row). */
  line: number;
  /** True when the next row might not fit in the batch: it is handed on first. */
  readonly full: boolean;
  /** Parses rows of `text` from `pos` until it ends or the batch fills; returns the position reached. */
  parse(text: string, pos: number): number;
  /** Sees the first run of rows before they are parsed (wide CSV tells text columns apart here); '' at the end when there were none. */
  begin?(text: string, pos: number): void;
  /** {@link parse} over the run's bytes (`pos` a byte offset), when the parser has a byte-level path: the run is then never decoded whole. */
  parseBytes?(bytes: Buffer, pos: number): number;
}

/**
 * The read loop the CSV readers share: decoded runs of whole lines, the first non-blank line
 * handed to `header` to make the row parser, over-long lines rejected, full batches yielded as
 * they fill. `empty` is the message of the BAD_INPUT thrown when the input has no header line.
 * With `slice` (a parser made from the file's header), the stream is a slice of the file after
 * the header: every line is a row, a leading byte-order mark is data, and the last batch is
 * handed on at the slice's end.
 */
export async function* readHeadered(
  stream: AsyncIterable<Buffer | Uint8Array | string>,
  opts: ReadOptions,
  header: (line: string) => HeaderedParser,
  empty: string,
  slice?: HeaderedParser,
): AsyncGenerator<{ batch: EncodedBatch; dict: readonly string[] }> {
  let parser: HeaderedParser | undefined = slice;
  let headerLine = 0;
  for await (const run of lineChunks(stream, { bom: !slice })) {
    opts.onBytes?.(run.bytesRead);
    if (run.kind === 'long') {
      if (!parser) throw new MillwrightError('BAD_INPUT', `${opts.source}: the header line is longer than ${MAX_LINE_BYTES} bytes`);
      parser.line++;
      opts.onReject({ source: opts.source, line: parser.line, reason: `line longer than ${MAX_LINE_BYTES} bytes`, raw: `${run.head}…` });
      continue;
    }
    if (parser?.parseBytes) {
      yield* byteRows(parser, run.bytes, 0, opts.source);
      continue;
    }
    const text = run.text;
    let pos = 0;
    if (!parser) {
      while (pos < text.length) {
        let nl = text.indexOf('\n', pos);
        if (nl < 0) nl = text.length;
        let le = nl;
        if (le > pos && text.charCodeAt(le - 1) === 13) le--;
        headerLine++;
        const line = text.slice(pos, le);
        pos = nl + 1;
        if (line.trim() === '') continue;
        parser = header(line);
        parser.line = headerLine;
        break;
      }
      if (!parser) continue;
    }
    if (pos < text.length) parser.begin?.(text, pos);
    if (parser.parseBytes) {
      // The header's run: the rest of it by bytes too, from the byte after the header line.
      // Counted in newlines, not bytes of the decoded text: invalid UTF-8 decodes to a different length.
      let at = 0;
      for (let nl = text.indexOf('\n'); nl >= 0 && nl < pos; nl = text.indexOf('\n', nl + 1)) at = run.bytes.indexOf(10, at) + 1;
      yield* byteRows(parser, run.bytes, at, opts.source);
      continue;
    }
    while (pos < text.length) {
      pos = parser.parse(text, pos);
      if (parser.full) {
        const b = parser.builder.takeEncoded(opts.source);
        if (b) yield { batch: b, dict: parser.builder.dict.values };
      }
    }
  }
  if (!parser) throw new MillwrightError('BAD_INPUT', `${opts.source}: ${empty}`);
  parser.begin?.('', 0);
  const last = parser.builder.takeEncoded(opts.source);
  if (last) yield { batch: last, dict: parser.builder.dict.values };
}

/** The rows of a run from byte `from` on, through the parser's byte-level path; full batches as they fill. */
function* byteRows(parser: HeaderedParser, bytes: Buffer, from: number, source: string): Generator<{ batch: EncodedBatch; dict: readonly string[] }> {
  for (let pos = from; pos < bytes.length; ) {
    pos = parser.parseBytes!(bytes, pos);
    if (parser.full) {
      const b = parser.builder.takeEncoded(source);
      if (b) yield { batch: b, dict: parser.builder.dict.values };
    }
  }
}
