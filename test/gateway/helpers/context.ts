import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MillwrightError } from '../../../lib/errors/index.ts';
import type { SourceContext, SourceEvent, SourceReading } from '../../../lib/gateway/source.ts';

/**
 * A SourceContext for source tests: records what a source emits and its events in memory, and can
 * play a full spool (emit and event reject with RESOURCE_EXHAUSTED until {@link TestContext.freeSpace}).
 */
export class TestContext implements SourceContext {
  readonly site = 'test-site';
  readonly readings: SourceReading[] = [];
  readonly events: SourceEvent[] = [];
  readonly logs: string[] = [];
  /** Emit calls refused while the spool was "full". */
  refused = 0;
  private readonly controller = new AbortController();
  private full = false;
  private spaceWaiters: (() => void)[] = [];
  private changeWaiters: (() => void)[] = [];
  readonly stateDir: string;

  private constructor(stateDir: string) {
    this.stateDir = stateDir;
  }

  static async create(): Promise<TestContext> {
    return new TestContext(await mkdtemp(join(tmpdir(), 'mw-src-')));
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  emit(readings: SourceReading[]): Promise<void> {
    if (this.full) {
      this.refused++;
      return Promise.reject(new MillwrightError('RESOURCE_EXHAUSTED', 'spool full (test)'));
    }
    for (const r of readings) this.readings.push(r);
    this.changed();
    return Promise.resolve();
  }

  event(event: SourceEvent): Promise<void> {
    // Events take the same path as readings in the real spool; the test spool keeps them even
    // when "full" so a test can see the gap the source records once space returns.
    this.events.push(event);
    this.changed();
    return Promise.resolve();
  }

  waitForSpace(): Promise<void> {
    if (!this.full || this.controller.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  log(line: string): void {
    this.logs.push(line);
  }

  /** Makes emit reject with RESOURCE_EXHAUSTED from now on. */
  fillSpool(): void {
    this.full = true;
  }

  /** Lets emit succeed again and wakes waitForSpace. */
  freeSpace(): void {
    this.full = false;
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const w of waiters) w();
  }

  abort(): void {
    this.controller.abort();
    this.freeSpace();
  }

  /** Resolves when `predicate` holds (checked after every emit/event), rejects after `timeoutMs`. */
  async until(what: string, predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; events: ${JSON.stringify(this.events.map((e) => [e.kind, e.message]))}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.changeWaiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  eventsOf(kind: SourceEvent['kind']): SourceEvent[] {
    return this.events.filter((e) => e.kind === kind);
  }

  async cleanup(): Promise<void> {
    this.abort();
    await rm(this.stateDir, { recursive: true, force: true });
  }

  private changed(): void {
    const waiters = this.changeWaiters;
    this.changeWaiters = [];
    for (const w of waiters) w();
  }
}
