import { MillwrightError } from '../lib/errors/index.ts';

/** How one column of a delimited file is parsed. */
export type ColumnKind = 'number' | 'string';

/** Options of {@link parseDelimited}. */
export interface DelimitedOptions {
  /** Field separator; `'whitespace'` splits on runs of blanks (default `','`). */
  delimiter?: string | 'whitespace';
  /** The first line is a header (default true). */
  header?: boolean;
  /** Column names when there is no header (or to check the header against). */
  names?: string[];
  /** Kind of each column by name (default: every column is a number). */
  kinds?: Record<string, ColumnKind>;
  /** Label used in error messages, usually the file path. */
  source?: string;
}

/** Parsed columns: numbers as Float64Array, strings as string[]; `rows` is the row count. */
export interface DelimitedColumns {
  names: string[];
  columns: Record<string, Float64Array | string[]>;
  rows: number;
}

/**
 * Parses a small unquoted delimited text file (every real dataset here is one) into typed columns.
 * Strips a UTF-8 BOM, accepts CRLF, ignores trailing blanks and empty lines, and refuses a
 * ragged row or a non-numeric value in a number column with the line number, so a corrupt
 * download is reported rather than half-read.
 *
 * @example
 * parseDelimited('a;b\n1;2\n', { delimiter: ';' }).columns.a; // Float64Array [1]
 */
export function parseDelimited(text: string, options: DelimitedOptions = {}): DelimitedColumns {
  const { delimiter = ',', header = true, kinds = {}, source = 'input' } = options;
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split(/\r?\n/);
  const split = delimiter === 'whitespace' ? (l: string) => l.trim().split(/\s+/) : (l: string) => l.split(delimiter);
  let first = 0;
  let names = options.names;
  if (header) {
    while (first < lines.length && lines[first]!.trim() === '') first++;
    const found = split(lines[first] ?? '').map((s) => s.trim());
    if (names && names.join() !== found.join()) {
      throw new MillwrightError('BAD_INPUT', `${source}: header is "${found.join(',')}", expected "${names.join(',')}"`);
    }
    names = found;
    first++;
  }
  if (!names) throw new MillwrightError('BAD_INPUT', `${source}: no header and no column names given`);
  let count = 0;
  for (let i = first; i < lines.length; i++) if (lines[i]!.trim() !== '') count++;
  const cols = names.map((n) => ((kinds[n] ?? 'number') === 'number' ? new Float64Array(count) : new Array<string>(count)));
  let row = 0;
  for (let i = first; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const fields = split(delimiter === 'whitespace' ? line : line.trimEnd());
    if (fields.length !== names.length) {
      throw new MillwrightError('BAD_INPUT', `${source} line ${i + 1}: ${fields.length} fields, expected ${names.length} (${names.join(',')})`);
    }
    for (let c = 0; c < names.length; c++) {
      const col = cols[c]!;
      const field = fields[c]!;
      if (col instanceof Float64Array) {
        const v = field === '' ? Number.NaN : Number(field);
        if (Number.isNaN(v) && field !== '' && field !== 'NaN') {
          throw new MillwrightError('BAD_INPUT', `${source} line ${i + 1}: column ${names[c]} value "${field}" is not a number`);
        }
        col[row] = v;
      } else {
        col[row] = field;
      }
    }
    row++;
  }
  const columns: Record<string, Float64Array | string[]> = {};
  names.forEach((n, c) => (columns[n] = cols[c]!));
  return { names, columns, rows: count };
}
