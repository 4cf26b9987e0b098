/** Where a batch came from: enough to find its rows again (acks, rejects, crash tests). */
export interface BatchOrigin {
  /** File path or `-` for stdin. */
  source: string;
  /** 1-based line number of the first and last row in the batch (both inclusive). */
  firstLine: number;
  lastLine: number;
}
