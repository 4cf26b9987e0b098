/**
 * SourceContexts for the MQTT and Sparkplug tests. `MemoryContext` keeps readings and events in
 * memory (emit can be slowed down or made to fail with RESOURCE_EXHAUSTED); `SpoolContext`
 * really appends each emit to a spool with appendToSpool (so "acknowledged" means fsynced in a
 * real spool segment) and refuses appends past a byte bound, as the gateway's runner does.
 */
import { waitFor as waitUntil } from '../../helpers/wait.ts';
import { appendFile, mkdtemp, open, readFile, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MillwrightError } from '../../../lib/errors/index.ts';
import { appendToSpool, decodeSegment, listSegments, spoolStatus } from '../../../lib/spool/index.ts';
import type { ReadingBatch } from '../../../lib/readings/index.ts';
import type { SourceContext, SourceEvent, SourceReading } from '../../../lib/gateway/source.ts';

/** test/helpers/wait.ts's waitFor with the gateway tests' argument order (what first) and a 10 s default. */
export function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  return waitUntil(check, timeoutMs, what);
}

function spoolFull(message: string): MillwrightError {
  return new MillwrightError('RESOURCE_EXHAUSTED', message);
}

export function toBatch(site: string, readings: SourceReading[]): ReadingBatch {
  const n = readings.length;
  const batch: ReadingBatch = { ts: new Float64Array(n), site: new Array<string>(n).fill(site), asset: new Array<string>(n), signal: new Array<string>(n), value: new Float64Array(n), quality: new Uint8Array(n) };
  for (let i = 0; i < n; i++) {
    const r = readings[i];
    batch.ts[i] = r.ts;
    batch.asset[i] = r.asset;
    batch.signal[i] = r.signal;
    batch.value[i] = r.value;
    batch.quality![i] = r.quality;
  }
  return batch;
}

abstract class BaseContext implements SourceContext {
  readonly site: string;
  readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  readonly stateDir: string;
  readonly logs: string[] = [];

  constructor(site: string, stateDir: string) {
    this.site = site;
    this.stateDir = stateDir;
  }

  abstract emit(readings: SourceReading[]): Promise<void>;
  abstract event(event: SourceEvent): Promise<void>;
  protected abstract hasSpace(): Promise<boolean>;

  log(line: string): void {
    this.logs.push(line);
  }

  /** Resolves when hasSpace() (polled every 20 ms) or on abort. */
  waitForSpace(): Promise<void> {
    return new Promise((resolve) => {
      const tick = async (): Promise<void> => {
        if (this.signal.aborted || (await this.hasSpace())) return resolve();
        setTimeout(() => void tick(), 20);
      };
      void tick();
    });
  }
}

/** Readings and events in memory. */
export class MemoryContext extends BaseContext {
  readonly readings: SourceReading[] = [];
  readonly events: SourceEvent[] = [];
  /** While true, emit() rejects with RESOURCE_EXHAUSTED. */
  full = false;
  /** Extra latency of each emit (a slow disk). */
  delayMs = 0;
  emits = 0;
  refused = 0;
  /** Once this many readings are in, emit() waits for release(): the broker keeps the rest in flight. */
  holdAt = Infinity;
  private held?: Promise<void>;
  private unhold?: () => void;

  constructor(site = 'plant-a', stateDir = tmpdir()) {
    super(site, stateDir);
  }

  async emit(readings: SourceReading[]): Promise<void> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.readings.length >= this.holdAt) {
      this.held ??= new Promise<void>((r) => (this.unhold = r));
      await this.held;
    }
    if (this.full) {
      this.refused++;
      throw spoolFull('spool is full (test)');
    }
    this.emits++;
    for (const r of readings) this.readings.push(r);
  }

  async event(event: SourceEvent): Promise<void> {
    if (this.full && event.kind === 'reject') throw spoolFull('spool is full (test)');
    this.events.push(event);
  }

  protected async hasSpace(): Promise<boolean> {
    return !this.full;
  }

  /** Lets emit() go on after holdAt. */
  release(): void {
    this.holdAt = Infinity;
    this.unhold?.();
  }

  eventsOf(kind: SourceEvent['kind']): SourceEvent[] {
    return this.events.filter((e) => e.kind === kind);
  }
}

/**
 * Readings into a real spool (one fsynced segment per emit), events into `events.ndjson` beside
 * it (appended and fsynced), refusing an append that would take the spool past `maxBytes`.
 */
export class SpoolContext extends BaseContext {
  readonly dir: string;
  maxBytes: number;

  constructor(dir: string, options: { site?: string; maxBytes?: number; stateDir?: string } = {}) {
    super(options.site ?? 'plant-a', options.stateDir ?? join(dir, '..', 'state'));
    this.dir = dir;
    this.maxBytes = options.maxBytes ?? Number.MAX_SAFE_INTEGER;
  }

  async emit(readings: SourceReading[]): Promise<void> {
    const { bytes } = await spoolStatus(this.dir);
    // ~29 bytes per reading in a segment, plus its header and dictionary.
    if (bytes + readings.length * 29 + 256 > this.maxBytes) throw spoolFull(`spool ${this.dir} holds ${bytes} bytes, maxBytes ${this.maxBytes}`);
    await appendToSpool(this.dir, toBatch(this.site, readings));
  }

  async event(event: SourceEvent): Promise<void> {
    const path = join(this.dir, '..', 'events.ndjson');
    await appendFile(path, JSON.stringify(event) + '\n');
    const fh = await open(path, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  protected async hasSpace(): Promise<boolean> {
    const { bytes } = await spoolStatus(this.dir);
    return bytes + 4096 <= this.maxBytes;
  }
}

/** Every reading in a spool's segments (oldest first); throws on a torn segment. */
export async function readSpool(dir: string, options: { remove?: boolean } = {}): Promise<SourceReading[]> {
  const out: SourceReading[] = [];
  for (const seg of await listSegments(dir)) {
    const decoded = decodeSegment(await readFile(seg));
    if ('torn' in decoded) throw new Error(`segment ${seg} is torn: ${decoded.torn}`);
    const b = decoded.batch;
    for (let i = 0; i < b.ts.length; i++) out.push({ ts: b.ts[i], asset: b.asset[i], signal: b.signal[i], value: b.value[i], quality: (b.quality?.[i] ?? 0) as SourceReading['quality'] });
    if (options.remove) await unlink(seg);
  }
  return out;
}

/** Events a SpoolContext recorded. */
export async function readSpoolEvents(dir: string): Promise<SourceEvent[]> {
  const text = await readFile(join(dir, '..', 'events.ndjson'), 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as SourceEvent);
}

/** A temp dir removed by the returned cleanup. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
