import { rmSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MillwrightError } from '../errors/index.ts';
import { appendToSpool, listSegments } from '../spool/index.ts';
import type { EventRow } from '../store/index.ts';
import { appendEvents, listEventFiles } from './event-spool.ts';

/** Why the spool refuses data. */
export type SpoolAlarm = { reason: 'spool-full' | 'disk-full'; since: number; message: string; /** Estimated bytes of the refused emit. */ needed: number };

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Pending {
  ts: number[];
  value: number[];
  asset: string[];
  signal: string[];
  quality: number[];
  bySource: Map<string, number>;
  waiters: Waiter[];
  events: EventRow[];
  eventWaiters: Waiter[];
}

function empty(): Pending {
  return { ts: [], value: [], asset: [], signal: [], quality: [], bySource: new Map(), waiters: [], events: [], eventWaiters: [] };
}

/** Estimated bytes of a segment holding `n` readings (29 bytes per reading, plus header and the names' dictionary). */
const segmentBytes = (n: number) => 29 * n + 384;

/** How long a disk-full alarm stays when no flush frees anything, before sources may try again. */
export const DISK_RETRY_MS = 30_000;

/**
 * Bytes kept free on the spool's disk as a `.reserve` file: when the disk fills, it is deleted so
 * the flush can still take its lock and the events saying what happened can still be written.
 */
export const RESERVE_BYTES = 64 * 1024;

/** Options of {@link SpoolWriter}. */
export interface SpoolWriterOptions {
  dir: string;
  site: string;
  maxBytes: number;
  /** ms an emit waits for others to share its fsync. */
  linger: number;
  /** A commit starts at once when this many readings wait (default 100,000). */
  maxRows?: number;
  /** Called when the spool raises its alarm (the runner wakes the flush then). */
  onAlarm?: (alarm: SpoolAlarm) => void;
}

/**
 * The gateway's one writer into the spool. Emits from every source are coalesced (group commit:
 * whatever arrives during one fsync, or within `linger`, becomes one segment), acknowledged only
 * when the segment is durable, and refused with RESOURCE_EXHAUSTED when the spool would pass
 * `maxBytes` or the disk is full (ENOSPC). Refusing stays in force until a flush frees space
 * (below 90 % of `maxBytes`), so sources see one clear on/off signal rather than flapping.
 */
export class SpoolWriter {
  /** Bytes of acknowledged segments and event files in the spool (recounted after each flush). */
  bytes = 0;
  alarm: SpoolAlarm | undefined;
  /** Bytes per source of the segments this process wrote and that are not flushed yet. */
  private readonly segmentSources = new Map<string, Map<string, number>>();
  private pending = empty();
  private pendingBytes = 0;
  private committing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private spaceWaiters: (() => void)[] = [];
  private readonly maxRows: number;

  constructor(private readonly opts: SpoolWriterOptions) {
    this.maxRows = opts.maxRows ?? 100_000;
  }

  /** Creates the `.reserve` file if it is missing (failures are ignored: the disk may be full now). */
  async reserve(): Promise<void> {
    const path = join(this.opts.dir, '.reserve');
    if ((await stat(path).catch(() => undefined))?.size === RESERVE_BYTES) return;
    try {
      const fh = await open(path, 'w');
      try {
        await fh.writeFile(Buffer.alloc(RESERVE_BYTES, 0x2e));
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch {
      rmSync(path, { force: true });
    }
  }

  /** Counts what the spool already holds (segments of an earlier run are kept and counted). */
  async recount(): Promise<void> {
    let total = 0;
    const live = new Set<string>();
    for (const f of [...(await listSegments(this.opts.dir)), ...(await listEventFiles(this.opts.dir))]) {
      const st = await stat(f).catch(() => undefined);
      if (st) {
        total += st.size;
        live.add(f);
      }
    }
    for (const k of this.segmentSources.keys()) if (!live.has(k)) this.segmentSources.delete(k);
    this.bytes = total;
  }

  /** Spool bytes per source among the segments this process wrote. */
  sourceBytes(): Map<string, number> {
    const out = new Map<string, number>();
    for (const m of this.segmentSources.values()) for (const [s, b] of m) out.set(s, (out.get(s) ?? 0) + b);
    return out;
  }

  private refuse(message: string, reason: SpoolAlarm['reason'], needed = 0): MillwrightError {
    if (!this.alarm) {
      this.alarm = { reason, since: Date.now(), message, needed };
      this.opts.onAlarm?.(this.alarm);
    }
    return new MillwrightError('RESOURCE_EXHAUSTED', this.alarm.message, { details: { reason: this.alarm.reason } });
  }

  /**
   * Readings may fill the spool up to maxBytes minus a reserve for events (1/8 of the bound, at
   * most 64 KiB): the events that say why data is missing (paused, gap, spool-full) are never
   * refused, and with the reserve they still fit inside maxBytes.
   */
  private readingsBound(): number {
    return this.opts.maxBytes - Math.min(64 * 1024, Math.floor(this.opts.maxBytes / 8));
  }

  /** Queues readings of one source; resolves when durable. Rejects RESOURCE_EXHAUSTED when full. */
  emit(source: string, rows: { ts: number; asset: string; signal: string; value: number; quality: number }[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    if (this.alarm) return Promise.reject(this.refuse(this.alarm.message, this.alarm.reason));
    const add = segmentBytes(rows.length);
    if (this.bytes + this.pendingBytes + add > this.readingsBound()) {
      return Promise.reject(this.refuse(`spool ${this.opts.dir} is full (${this.bytes + this.pendingBytes} of ${this.opts.maxBytes} bytes); new data is refused until the flush frees space`, 'spool-full', add));
    }
    this.pendingBytes += add;
    const p = this.pending;
    for (const r of rows) {
      p.ts.push(r.ts);
      p.value.push(r.value);
      p.asset.push(r.asset);
      p.signal.push(r.signal);
      p.quality.push(r.quality);
    }
    p.bySource.set(source, (p.bySource.get(source) ?? 0) + rows.length);
    return new Promise((resolve, reject) => {
      p.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  /** Queues events; resolves when durable. Events are not refused by maxBytes (they are few and say why data is missing). */
  event(row: EventRow): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.events.push(row);
      this.pending.eventWaiters.push({ resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.committing) return; // the commit in flight picks the rest up when it ends
    if (this.pending.ts.length >= this.maxRows) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.startCommit();
    } else this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.startCommit();
    }, this.opts.linger);
  }

  private startCommit(): void {
    if (this.committing) return;
    this.committing = this.commit().finally(() => {
      this.committing = undefined;
      if (this.pending.ts.length > 0 || this.pending.events.length > 0) this.schedule();
    });
  }

  private async commit(): Promise<void> {
    const p = this.pending;
    this.pending = empty();
    const reserved = this.pendingBytes;
    this.pendingBytes = 0;
    if (p.events.length > 0) {
      try {
        const { bytes } = await appendEvents(this.opts.dir, p.events);
        this.bytes += bytes;
        for (const w of p.eventWaiters) w.resolve();
      } catch (err) {
        const e = this.writeError(err);
        for (const w of p.eventWaiters) w.reject(e);
      }
    }
    if (p.ts.length === 0) return;
    const n = p.ts.length;
    try {
      const ack = await appendToSpool(this.opts.dir, {
        ts: Float64Array.from(p.ts), value: Float64Array.from(p.value), asset: p.asset, signal: p.signal,
        site: new Array<string>(n).fill(this.opts.site), quality: Uint8Array.from(p.quality),
      });
      const size = (await stat(ack.segment).catch(() => undefined))?.size ?? reserved;
      this.bytes += size;
      const share = new Map<string, number>();
      for (const [s, c] of p.bySource) share.set(s, Math.round((size * c) / n));
      this.segmentSources.set(ack.segment, share);
      for (const w of p.waiters) w.resolve();
    } catch (err) {
      const e = this.writeError(err);
      for (const w of p.waiters) w.reject(e);
    }
  }

  private writeError(err: unknown): Error {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      rmSync(join(this.opts.dir, '.reserve'), { force: true });
      return this.refuse(`disk of spool ${this.opts.dir} is full (${code}); new data is refused until the flush frees space`, 'disk-full');
    }
    return err as Error;
  }

  /** After a flush: recount, and lift the alarm once there is room (below 90 % of maxBytes). */
  async afterFlush(freed: boolean): Promise<void> {
    await this.recount();
    if (!this.alarm) return;
    const used = this.bytes + this.pendingBytes;
    const room = used <= 0.9 * this.readingsBound() && used + this.alarm.needed <= this.readingsBound();
    // A full disk is usually freed by a flush that deleted spool files; something else may free it
    // too, so without a flush that freed anything the sources are let to try again every 30 s.
    const retry = this.alarm.reason === 'spool-full' || freed || Date.now() - this.alarm.since >= DISK_RETRY_MS;
    if (room && retry) {
      this.alarm = undefined;
      await this.reserve();
      const ws = this.spaceWaiters;
      this.spaceWaiters = [];
      for (const w of ws) w();
    }
  }

  /** Resolves when the alarm is lifted (at once when there is none) or `signal` aborts. */
  waitForSpace(signal: AbortSignal): Promise<void> {
    if (!this.alarm || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.spaceWaiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Waits for everything queued to be committed (at stop). */
  async drain(): Promise<void> {
    for (let i = 0; i < 1000 && (this.committing || this.timer || this.pending.ts.length > 0 || this.pending.events.length > 0); i++) {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
        this.startCommit();
      }
      if (!this.committing && (this.pending.ts.length > 0 || this.pending.events.length > 0)) this.startCommit();
      await this.committing;
    }
  }

  /** Lifts every wait at stop. */
  release(): void {
    const ws = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const w of ws) w();
  }
}
