import { randomUUID } from 'node:crypto';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { captureRecord, listCaptureFiles, pathSegment, type CaptureEvent } from '../lib/capture/index.ts';

/** Options of the data-capture writer. Defaults suit a factory server with a modest disk. */
export interface CaptureOptions {
  /** Root directory of capture files. */
  dir: string;
  /** Share of successful requests captured, 0..1 (default 0.1). */
  sampleRate?: number;
  /** Start a new file when the current one would exceed this many bytes (default 16 MiB). */
  maxFileBytes?: number;
  /** Start a new file after this long (default 1 h; files also never span an hour directory). */
  maxFileAgeMs?: number;
  /** Keep at most this many capture files; the oldest are deleted first (default 500). */
  maxFiles?: number;
  /** Keep at most this many bytes of capture files in total (default 1 GiB). */
  maxTotalBytes?: number;
  /** Buffered lines are written at least this often (default 1000 ms). */
  flushIntervalMs?: number;
  /** Variant directory name, as in SageMaker (default `AllTraffic`). */
  variant?: string;
  /** Clock (tests). */
  now?: () => Date;
  /** Random source for sampling (tests). */
  random?: () => number;
}

/**
 * Appends a sampled share of requests and responses as JSON Lines, in the layout SageMaker uses
 * in S3: `<dir>/<endpoint>/<variant>/YYYY/MM/DD/HH/<mm>-<ss>-<mmm>-<uuid>.jsonl` (UTC).
 * Files rotate by size, age and hour; the oldest files are deleted to stay under maxFiles and
 * maxTotalBytes. Lines are buffered and written whole, at least every flushIntervalMs.
 *
 * @example
 * const capture = new CaptureWriter({ dir: '/var/lib/millwright/capture', sampleRate: 0.1 });
 * capture.offer({ endpoint: 'press-energy', inputContentType: 'text/csv', input: '1,2,3', outputContentType: 'application/json', output: '{"predictions":[4]}' });
 * await capture.close();
 */
export class CaptureWriter {
  readonly options: Required<Omit<CaptureOptions, 'now' | 'random'>> & Pick<CaptureOptions, 'now' | 'random'>;
  private buffer: string[] = [];
  private bufferedBytes = 0;
  private current?: { path: string; fh: FileHandle; bytes: number; openedAt: number; hour: string; endpoint: string };
  private files: { path: string; bytes: number }[] | undefined;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout;
  private closed = false;
  /** Lines written since start (for tests and metrics). */
  written = 0;

  constructor(options: CaptureOptions) {
    this.options = {
      sampleRate: 0.1,
      maxFileBytes: 16 * 1024 * 1024,
      maxFileAgeMs: 60 * 60 * 1000,
      maxFiles: 500,
      maxTotalBytes: 1024 * 1024 * 1024,
      flushIntervalMs: 1000,
      variant: 'AllTraffic',
      ...options,
    };
    this.timer = setInterval(() => void this.flush(), this.options.flushIntervalMs);
    this.timer.unref();
  }

  /** Decides by sampling whether to capture the exchange; returns true when it was queued. */
  offer(event: CaptureEvent): boolean {
    if (this.closed) return false;
    const r = (this.options.random ?? Math.random)();
    if (!(r < this.options.sampleRate)) return false;
    const line = `${JSON.stringify(captureRecord({ ...event, inferenceTime: event.inferenceTime ?? this.now() }))}\n`;
    this.buffer.push(`${pathSegment(event.endpoint)}\u0000${line}`);
    this.bufferedBytes += line.length;
    if (this.bufferedBytes > 256 * 1024) void this.flush();
    return true;
  }

  /** Writes buffered lines now. */
  flush(): Promise<void> {
    const lines = this.buffer;
    if (lines.length === 0) return this.chain;
    this.buffer = [];
    this.bufferedBytes = 0;
    this.chain = this.chain.then(() => this.write(lines)).catch((err: Error) => {
      // Capture must never break serving: report and carry on.
      process.emitWarning(`data capture write failed: ${err.message}`);
    });
    return this.chain;
  }

  /** Flushes and closes the current file. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
    await this.chain;
    await this.current?.fh.close();
    this.current = undefined;
  }

  private now(): Date {
    return this.options.now ? this.options.now() : new Date();
  }

  private async write(entries: string[]): Promise<void> {
    // Group consecutive lines by endpoint so each goes to its own directory.
    let i = 0;
    while (i < entries.length) {
      const endpoint = entries[i]!.slice(0, entries[i]!.indexOf('\u0000'));
      let chunk = '';
      while (i < entries.length && entries[i]!.startsWith(`${endpoint}\u0000`)) {
        chunk += entries[i]!.slice(endpoint.length + 1);
        i++;
        this.written++;
      }
      const bytes = Buffer.byteLength(chunk);
      const file = await this.fileFor(endpoint, bytes);
      await file.fh.write(chunk);
      file.bytes += bytes;
      const tracked = this.files?.find((f) => f.path === file.path);
      if (tracked) tracked.bytes = file.bytes;
    }
  }

  private async fileFor(endpoint: string, incoming: number) {
    const now = this.now();
    const iso = now.toISOString();
    const hour = `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(11, 13)}`;
    const cur = this.current;
    if (
      cur &&
      cur.endpoint === endpoint &&
      cur.hour === hour &&
      cur.bytes + incoming <= this.options.maxFileBytes &&
      now.getTime() - cur.openedAt < this.options.maxFileAgeMs
    ) {
      return cur;
    }
    await cur?.fh.close();
    this.current = undefined;
    const name = `${iso.slice(14, 16)}-${iso.slice(17, 19)}-${iso.slice(20, 23)}-${randomUUID()}.jsonl`;
    const path = join(this.options.dir, endpoint, pathSegment(this.options.variant), hour, name);
    await mkdir(dirname(path), { recursive: true });
    const fh = await open(path, 'a');
    this.current = { path, fh, bytes: 0, openedAt: now.getTime(), hour, endpoint };
    await this.track(path);
    return this.current;
  }

  /** Records the new file and deletes the oldest ones beyond the bounds (never the file being written). */
  private async track(path: string): Promise<void> {
    if (!this.files) {
      // Files from earlier runs: names sort by time within an hour directory and directories by
      // time, so a sort on the path below <endpoint>/<variant>/ is a time sort.
      const key = (p: string) => relative(this.options.dir, p).split(/[\\/]/).slice(2).join('/');
      this.files = (await listCaptureFiles(this.options.dir)).sort((a, b) => (key(a.path) < key(b.path) ? -1 : 1));
    }
    // A new file is always the newest, whatever its name (clock steps, same-millisecond names).
    this.files = this.files.filter((f) => f.path !== path);
    this.files.push({ path, bytes: 0 });
    let total = this.files.reduce((s, f) => s + f.bytes, 0);
    while (this.files.length > 1 && (this.files.length > this.options.maxFiles || total > this.options.maxTotalBytes)) {
      const victim = this.files.shift()!;
      total -= victim.bytes;
      await rm(victim.path, { force: true });
    }
  }
}
