import { openSync, writeSync, fsyncSync, closeSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Reject } from './reject.ts';

/**
 * The rejects file: one JSON object per refused row (`{"source","line","reason","raw"}`, plus `"column"` for a bad cell of a wide or Parquet input),
 * created only when the first reject arrives, appended to (never truncated), fsynced on close.
 */
export class RejectsFile {
  private fd: number | undefined;
  private buf: string[] = [];
  private size = 0;
  count = 0;
  constructor(readonly path: string) {}

  add(r: Reject): void {
    const obj = r.column === undefined ? { source: r.source, line: r.line, reason: r.reason, raw: r.raw } : { source: r.source, line: r.line, column: r.column, reason: r.reason, raw: r.raw };
    const line = `${JSON.stringify(obj)}\n`;
    this.buf.push(line);
    this.size += line.length;
    this.count++;
    if (this.size > 1 << 16) this.flush();
  }

  private flush(): void {
    if (this.buf.length === 0) return;
    if (this.fd === undefined) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.fd = openSync(this.path, 'a', 0o644);
    }
    writeSync(this.fd, this.buf.join(''));
    this.buf = [];
    this.size = 0;
  }

  /** Writes what is buffered, fsyncs and closes. Returns the path when anything was written. */
  close(): string | undefined {
    this.flush();
    if (this.fd === undefined) return undefined;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
    return this.path;
  }
}
