import { MillwrightError } from '../errors/index.ts';

/** One parsed CSV record with the 1-based line it started on (for error messages). */
export interface CsvRecord {
  cells: string[];
  line: number;
}

/**
 * Parses RFC 4180 CSV (comma separated, `"` quoting with `""` escapes, LF or CRLF line ends).
 * Blank lines are skipped. Unquoted fields are trimmed of surrounding spaces, as SageMaker
 * clients sometimes pad values. Throws BAD_INPUT on an unterminated quote or stray quote.
 *
 * @example
 * parseCsv('1,2\n3,"4"\n') // => [{cells: ['1','2'], line: 1}, {cells: ['3','4'], line: 2}]
 */
export function parseCsv(text: string): CsvRecord[] {
  // Fast path: no quotes means a line/comma split is exact, and it is what almost every request looks like.
  if (!text.includes('"')) return splitSimple(text);
  return parseQuoted(text);
}

function splitSimple(text: string): CsvRecord[] {
  const out: CsvRecord[] = [];
  let start = 0;
  let line = 0;
  const n = text.length;
  while (start <= n) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = n;
    line++;
    let stop = end;
    if (stop > start && text.charCodeAt(stop - 1) === 13) stop--;
    if (stop > start) {
      const raw = text.slice(start, stop);
      if (raw.trim() !== '') {
        const cells = raw.split(',');
        for (let i = 0; i < cells.length; i++) cells[i] = cells[i]!.trim();
        out.push({ cells, line });
      }
    }
    start = end + 1;
  }
  return out;
}

function parseQuoted(text: string): CsvRecord[] {
  const out: CsvRecord[] = [];
  const n = text.length;
  let i = 0;
  let line = 1;
  while (i < n) {
    const startLine = line;
    const cells: string[] = [];
    let rowHasContent = false;
    for (;;) {
      // One field.
      let value = '';
      let quoted = false;
      while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
      if (text[i] === '"') {
        quoted = true;
        i++;
        let chunkStart = i;
        for (;;) {
          if (i >= n) throw new MillwrightError('BAD_INPUT', `CSV line ${startLine}: unterminated quoted field (a '"' opened a value that never closes)`);
          const ch = text[i];
          if (ch === '"') {
            value += text.slice(chunkStart, i);
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              chunkStart = i;
              continue;
            }
            i++;
            break;
          }
          if (ch === '\n') line++;
          i++;
        }
        while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r')) i++;
        if (i < n && text[i] !== ',' && text[i] !== '\n') {
          throw new MillwrightError('BAD_INPUT', `CSV line ${line}: unexpected character after a closing quote (expected ',' or end of line)`);
        }
      } else {
        const start = i;
        while (i < n && text[i] !== ',' && text[i] !== '\n') {
          if (text[i] === '"') throw new MillwrightError('BAD_INPUT', `CSV line ${line}: stray '"' inside an unquoted value (quote the whole value and double inner quotes)`);
          i++;
        }
        value = text.slice(start, i).trim();
      }
      if (quoted || value !== '') rowHasContent = true;
      cells.push(value);
      if (i < n && text[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (i < n && text[i] === '\n') {
      i++;
      line++;
    }
    if (rowHasContent || cells.length > 1) out.push({ cells, line: startLine });
  }
  return out;
}

/** Quotes one CSV output value when needed. */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
