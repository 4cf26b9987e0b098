/** One refused input row, as written (one JSON object per line) to the rejects file. */
export interface Reject {
  /** File path, or `-` for stdin. */
  source: string;
  /** 1-based line number in the source (the CSV header is line 1); for Parquet, the 1-based row. */
  line: number;
  /** The column at fault, for a wide input (one reject per bad cell) or a Parquet file. */
  column?: string;
  /** What was wrong and what was expected. */
  reason: string;
  /** The raw line (truncated to 4096 characters). */
  raw: string;
}

const MAX_RAW = 4096;

/** Truncates a raw line for the rejects file. */
export function rawLine(text: string, start: number, end: number): string {
  return end - start > MAX_RAW ? `${text.slice(start, start + MAX_RAW)}…` : text.slice(start, end);
}
