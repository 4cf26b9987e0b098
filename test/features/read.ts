import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Drive-end column of a CWRU csv.gz (first `limit` samples). */
export function readCwru(dir: string, name: string, limit = Infinity): Float64Array {
  const lines = gunzipSync(readFileSync(join(dir, 'cwru-bearing', `${name}.csv.gz`))).toString('utf8').split('\n');
  const header = lines[0]!.split(',');
  const col = header.indexOf('DE_g');
  const out: number[] = [];
  for (let i = 1; i < lines.length && out.length < limit; i++) {
    if (lines[i] === '') continue;
    out.push(Number(lines[i]!.split(',')[col]));
  }
  return Float64Array.from(out);
}

/** The 4 bearing channels of an IMS raw snapshot (tab-separated, no header). */
export function readIms(dir: string, file: string): Float64Array[] {
  const rows = readFileSync(join(dir, 'nasa-ims-bearing', 'raw_2nd_test', file), 'utf8').trim().split('\n');
  const ch = [0, 1, 2, 3].map(() => new Float64Array(rows.length));
  rows.forEach((r, i) => r.split('\t').forEach((v, c) => (ch[c]![i] = Number(v))));
  return ch;
}

/** Relative closeness assertion helper value. */
export function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1e-300, Math.abs(b));
}
