import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { MillwrightError, isErrorCode } from '../errors/index.ts';
import { mkdirDurable } from '../durable/index.ts';
import { flushSpool } from '../spool/index.ts';
import { forwardToS3, type LandingDestination } from '../landing/index.ts';
import { writeAssets, type EventRow, type EventSeverity } from '../store/index.ts';
import { AlarmSession } from '../alarms/index.ts';
import { AlarmFeed, createOutbox, type AlarmFeedSnapshot } from '../notify/index.ts';
import { assetRows } from './assets.ts';
import { unknownAssets, type GatewayConfig, type SourceConfig } from './config.ts';
import { flushEvents } from './event-spool.ts';
import { SOURCE_TYPES, type SourceType } from './sources/index.ts';
import { QUALITY, type Source, type SourceContext, type SourceEvent, type SourceReading, type SourceState } from './source.ts';
import { SpoolWriter, type SpoolAlarm } from './spool-writer.ts';
import { screenReadings } from './screen.ts';
import { startStatusServer, type StatusServer } from './status-server.ts';

/** Per-source figures of {@link GatewayStatus}. */
export interface SourceReport {
  name: string;
  type: string;
  state: SourceState;
  since: number;
  readings: number;
  rejected: number;
  /** Readings per second over the last 10 seconds. */
  readingsPerSec: number;
  lastValueTs?: number;
  /** ms between now and the newest reading's time stamp. */
  lagMs?: number;
  /** Spool bytes of this source's readings not yet flushed (segments written by this run). */
  spoolBytes: number;
  lastError?: string;
  events: Record<string, number>;
}

/** What `/status` answers and {@link GatewayHandle.status} returns. */
export interface GatewayStatus {
  site: string;
  startedAt: number;
  now: number;
  spool: { dir: string; bytes: number; maxBytes: number; full: boolean; alarm?: SpoolAlarm };
  store: string;
  flush: { lastAt?: number; lastError?: string; failures: number; readings: number; events: number };
  sources: SourceReport[];
}

/** A running gateway. */
export interface GatewayHandle {
  status(): GatewayStatus;
  /** Address of the status server, when `http` is configured. */
  readonly url: string | undefined;
  /** Flushes now (tests and `stop`); resolves after one flush cycle. */
  flush(): Promise<void>;
  /** Stops sources, commits what is queued, flushes once more and closes the status server. */
  stop(): Promise<void>;
}

/** Options of {@link startGateway} beyond the config. */
export interface StartOptions {
  /** One line per event (default: none). */
  log?: (line: string) => void;
  /** Source types to build from (default: every registered type). */
  types?: readonly SourceType[];
}

const SEVERITY: Record<string, EventSeverity> = {
  connected: 'info', resumed: 'info', disconnected: 'warning', paused: 'warning', gap: 'warning', reject: 'warning', error: 'error',
  'spool-full': 'error', 'disk-full': 'error', 'spool-ok': 'info',
};

/** Longest time the gateway's alarm state goes unsaved while readings arrive and no alarm changes. */
const ALARM_COMMIT_MS = 1000;

/** The state a source's event puts it in. */
const STATE_OF: Partial<Record<SourceEvent['kind'], SourceState>> = { connected: 'connected', resumed: 'connected', disconnected: 'disconnected', error: 'error', paused: 'paused' };

interface Tracked {
  source: Source;
  type: string;
  ctx: SourceContext;
  readings: number;
  rejected: number;
  sinceHeartbeat: number;
  lastValueTs?: number;
  state: SourceState;
  since: number;
  lastError?: string;
  events: Record<string, number>;
  samples: { at: number; readings: number }[];
}

/** One running gateway: the sources, the spool writer, the flush loop, heartbeats and status. */
class Gateway implements GatewayHandle {
  readonly tracked = new Map<string, Tracked>();
  readonly writer: SpoolWriter;
  private readonly stopper = new AbortController();
  private readonly startedAt = Date.now();
  private readonly flushState: GatewayStatus['flush'] = { failures: 0, readings: 0, events: 0 };
  private readonly knownAssets: Set<string> | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  /** Raw landing (`forward.s3`): a flushed batch leaves the spool only once every destination confirmed it. */
  private readonly destinations: LandingDestination[];
  private wakeFlush: (() => void) | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private loop: Promise<void> = Promise.resolve();
  private server: StatusServer | undefined;
  private stopped: Promise<void> | undefined;
  /** Alarm rules (`alarms` key): evaluated on each acknowledged batch, one batch at a time. */
  alarms: AlarmSession | undefined;
  private alarmChain: Promise<void> = Promise.resolve();
  /** Acknowledged batches waiting for the evaluator: evaluated together when it falls behind. */
  private alarmQueue: SourceReading[][] = [];
  private alarmBusy = false;
  private lastAlarmCommit = 0;
  /** With `notify:`: alarm rows go into the outbox; `delivery` is the in-process deliverer (when `deliver` is on). */
  notifier: AlarmFeed | undefined;
  private delivery: Promise<unknown> = Promise.resolve();

  constructor(private readonly config: GatewayConfig, private readonly types: readonly SourceType[], private readonly log: (line: string) => void) {
    this.destinations = config.forward?.s3 ? [forwardToS3(config.forward.s3)] : [];
    this.knownAssets = config.assetModel ? new Set(assetRows(config.assetModel, config.site).map((r) => r.asset)) : undefined;
    this.writer = new SpoolWriter({
      dir: config.spool.dir, site: config.site, maxBytes: config.spool.maxBytes, linger: config.spool.linger,
      onAlarm: (a) => {
        log(`spool alarm: ${a.message}`);
        this.record('gateway', { ts: Date.now(), kind: a.reason === 'disk-full' ? 'error' : 'paused', message: a.message }, a.reason).catch(() => {});
        this.wakeFlush?.();
      },
    });
  }

  get url(): string | undefined {
    return this.server?.url;
  }

  /** Queues one event row (durable when the promise resolves). */
  record(source: string, ev: SourceEvent, kindOverride?: string): Promise<void> {
    const kind = kindOverride ?? ev.kind;
    const row: EventRow = {
      ts: ev.ts, site: this.config.site, source, kind, asset: ev.asset, signal: ev.signal, from: ev.from, to: ev.to,
      severity: SEVERITY[kind] ?? 'info', message: ev.message, id: randomUUID(),
    };
    const t = this.tracked.get(source);
    if (t) t.events[kind] = (t.events[kind] ?? 0) + 1;
    return this.writer.event(row);
  }

  private async emit(name: string, t: Tracked, readings: SourceReading[]): Promise<void> {
    const now = Date.now();
    const { good, rejects } = screenReadings(readings, { now, maxFutureSkew: this.config.maxFutureSkew, knownAssets: this.knownAssets });
    for (const g of rejects) {
      t.rejected += g.n;
      this.record(name, { ts: now, kind: 'reject', asset: g.asset, signal: g.signal, message: `${g.n} reading(s) rejected: ${g.why}` }).catch(() => {});
    }
    // Only what the acknowledgement needs is kept through the fsync (the readings themselves only
    // for alarm rules): readings held there get promoted to the old generation (see the soak bench).
    let newest = -Infinity;
    for (const r of good) if (r.ts > newest) newest = r.ts;
    const n = good.length;
    const forAlarms = this.alarms && n > 0 ? good : undefined;
    await this.writer.emit(name, good);
    if (forAlarms) {
      this.alarmQueue.push(forAlarms);
      if (!this.alarmBusy) this.alarmChain = this.drainAlarms();
    }
    t.readings += n;
    t.sinceHeartbeat += n;
    if (n > 0 && (t.lastValueTs === undefined || newest > t.lastValueTs)) t.lastValueTs = newest;
  }

  /**
   * Evaluates the queued batches until none is left. Batches that arrived while the evaluator was
   * busy (with the previous batch's fsyncs) are evaluated as one, so a fast poll does not queue
   * one evaluation and one state save per batch behind a slow disk: the delay from a reading to
   * its alarm stays about one evaluation, whatever the batch rate.
   */
  private async drainAlarms(): Promise<void> {
    this.alarmBusy = true;
    try {
      while (this.alarmQueue.length > 0) {
        const batches = this.alarmQueue;
        this.alarmQueue = [];
        await this.evaluate(batches.length === 1 ? batches[0]! : batches.flat()).catch((err) => this.log(`alarms: ${(err as Error).message}`));
      }
    } finally {
      this.alarmBusy = false;
    }
  }

  /** Alarm rows of acknowledged readings, through the spool into the events table (as every gateway event). */
  private async evaluate(good: SourceReading[]): Promise<void> {
    const session = this.alarms!;
    const n = good.length;
    const ts = new Float64Array(n);
    const value = new Float64Array(n);
    const quality = new Uint8Array(n);
    const asset = new Array<string>(n);
    const signal = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const r = good[i]!;
      ts[i] = r.ts;
      asset[i] = r.asset;
      signal[i] = r.signal;
      value[i] = r.value;
      quality[i] = r.quality;
    }
    const rows = await session.process({ ts, asset, signal, value, quality }, this.log);
    // The readings are acknowledged already (they are not evaluated again after a crash), so the
    // rows they made are saved with the new state first (one atomic write), then written to the
    // spool and the outbox: a crash in between leaves them pending in the state, and the next
    // start writes them again (the events table takes an `id` twice, the outbox drops a key it has).
    if (rows.length > 0) await this.commitAlarms(rows);
    await this.settle(rows);
    // The state is saved with every batch that changed an alarm (clearing its pending rows), else
    // at most once a second (and at stop): readings are not evaluated again after a crash either
    // way, so a save per batch would buy nothing but an fsync per poll.
    const now = Date.now();
    if (rows.length > 0 || now - this.lastAlarmCommit >= ALARM_COMMIT_MS || this.stopper.signal.aborted) {
      await this.commitAlarms();
      this.lastAlarmCommit = now;
    }
  }

  /** Alarm rows into the spool's events, then their notifications into the outbox (durable when it resolves). */
  async settle(rows: EventRow[]): Promise<void> {
    if (rows.length === 0) return;
    await Promise.all(rows.map((r) => this.writer.event(r)));
    if (this.notifier) await this.notifier.push(rows);
  }

  /**
   * Saves the alarm state with the feed's flood windows (and `pending`, rows not yet in the spool
   * and the outbox) in the same atomic write, so they agree after a crash.
   */
  async commitAlarms(pending?: EventRow[]): Promise<void> {
    await this.alarms?.commit({ ...(this.notifier ? { notify: this.notifier.snapshot() } : {}), ...(pending ? { pending } : {}) });
  }

  private async onEvent(name: string, t: Tracked, ev: SourceEvent): Promise<void> {
    const s = STATE_OF[ev.kind];
    if (s && s !== t.state) {
      t.state = s;
      t.since = ev.ts;
    }
    if (ev.kind === 'error' || ev.kind === 'disconnected') t.lastError = ev.message;
    this.log(`${name}: ${ev.kind}${ev.message ? `: ${ev.message}` : ''}`);
    await this.record(name, ev);
  }

  /** Builds each configured source and its context (nothing is started yet). */
  build(): void {
    for (const entry of this.config.sources) this.buildOne(entry);
  }

  private buildOne(entry: SourceConfig): void {
    const type = this.types.find((x) => x.type === entry.type);
    if (!type) throw new MillwrightError('BAD_INPUT', `source ${entry.name}: unknown type ${JSON.stringify(entry.type)} (expected one of ${this.types.map((x) => x.type).join(', ')})`);
    const name = entry.name;
    const t: Tracked = { source: type.create(entry), type: entry.type, readings: 0, rejected: 0, sinceHeartbeat: 0, state: 'starting', since: Date.now(), events: {}, samples: [], ctx: undefined as unknown as SourceContext };
    t.ctx = {
      site: this.config.site,
      signal: this.stopper.signal,
      stateDir: join(this.config.spool.dir, '.sources', name),
      log: (line) => this.log(`${name}: ${line}`),
      waitForSpace: () => this.writer.waitForSpace(this.stopper.signal),
      emit: (readings) => this.emit(name, t, readings),
      event: (ev) => this.onEvent(name, t, ev),
    };
    this.tracked.set(name, t);
  }

  /** Starts every source (a failing one is recorded as an error and the rest run), heartbeats, the flush loop, the server. */
  async start(): Promise<void> {
    for (const [name, t] of this.tracked) {
      try {
        await t.source.start(t.ctx);
      } catch (err) {
        t.state = 'error';
        t.lastError = (err as Error).message;
        this.log(`${name}: failed to start: ${(err as Error).message}`);
        await this.record(name, { ts: Date.now(), kind: 'error', message: `failed to start: ${(err as Error).message}` });
      }
    }
    this.timers.push(setInterval(() => this.heartbeat(), this.config.heartbeat), setInterval(() => this.sample(), 1000));
    for (const t of this.timers) t.unref();
    this.loop = this.flushLoop();
    if (this.notifier && this.config.notify?.deliver) this.delivery = this.deliver(this.notifier);
    if (this.config.http) this.server = await startStatusServer({ host: this.config.http.host, port: this.config.http.port, status: () => this.status() });
  }

  /** Delivers the outbox until stop; another deliverer on the same outbox (`notify run`) is left to it. */
  private async deliver(feed: AlarmFeed): Promise<void> {
    try {
      await feed.outbox.run(this.stopper.signal);
    } catch (err) {
      if (!isErrorCode(err, 'CONFLICT')) throw err;
      this.log(`notify: ${(err as Error).message}; this gateway only enqueues`);
    }
  }

  private heartbeat(): void {
    const now = Date.now();
    for (const [name, t] of this.tracked) {
      const n = t.sinceHeartbeat;
      t.sinceHeartbeat = 0;
      const quality = t.state === 'connected' ? QUALITY.good : QUALITY.commFailure;
      this.writer.emit(name, [{ ts: now, asset: name, signal: '_heartbeat', value: n, quality }]).catch(() => {
        t.sinceHeartbeat += n; // refused (spool full): the count carries over
      });
    }
  }

  private sample(): void {
    const at = Date.now();
    for (const t of this.tracked.values()) {
      t.samples.push({ at, readings: t.readings });
      if (t.samples.length > 11) t.samples.shift();
    }
  }

  private async flushOnce(): Promise<void> {
    const { spool, store } = { spool: this.config.spool.dir, store: this.config.store };
    const fs = this.flushState;
    let freed = false;
    try {
      const r = await flushSpool({ spool, store, log: this.log, ...(this.destinations.length ? { destinations: this.destinations } : {}) });
      const e = await flushEvents(spool, store, this.log);
      freed = r.segments > 0 || e.files > 0;
      fs.readings += r.rows;
      fs.events += e.rows;
      fs.lastAt = Date.now();
      if (fs.failures > 0) this.log(`store ${store} writable again after ${fs.failures} failed attempt(s)`);
      fs.failures = 0;
      fs.lastError = undefined;
    } catch (err) {
      fs.failures++;
      fs.lastError = (err as Error).message;
      this.log(`flush failed (attempt ${fs.failures}): ${(err as Error).message}`);
    }
    const wasFull = this.writer.alarm;
    await this.writer.afterFlush(freed).catch(() => {});
    if (wasFull && !this.writer.alarm) {
      this.log('spool has room again');
      this.record('gateway', { ts: Date.now(), kind: 'resumed', message: `spool has room again (${this.writer.bytes} bytes)` }, 'spool-ok').catch(() => {});
    }
  }

  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushOnce());
    return this.flushing;
  }

  private async flushLoop(): Promise<void> {
    const every = this.config.spool.flushEvery;
    while (!this.stopper.signal.aborted) {
      await this.flush();
      const failures = this.flushState.failures;
      const wait = failures > 0 ? Math.min(300_000, every * 2 ** Math.min(failures, 10)) : every;
      const woken = new Promise<void>((resolve) => (this.wakeFlush = resolve));
      await Promise.race([sleep(wait, undefined, { signal: this.stopper.signal }).catch(() => {}), woken]);
      this.wakeFlush = undefined;
    }
  }

  private report(name: string, t: Tracked, now: number, bytes: Map<string, number>): SourceReport {
    const first = t.samples[0];
    const rate = first && now > first.at ? ((t.readings - first.readings) * 1000) / (now - first.at) : 0;
    const s = t.source.status();
    return {
      name, type: t.type, state: t.state === 'starting' ? s.state : t.state, since: t.since, readings: t.readings, rejected: t.rejected,
      readingsPerSec: Math.round(rate * 10) / 10, lastValueTs: t.lastValueTs, lagMs: t.lastValueTs === undefined ? undefined : now - t.lastValueTs,
      spoolBytes: bytes.get(name) ?? 0, lastError: t.lastError ?? s.lastError, events: { ...t.events },
    };
  }

  status(): GatewayStatus {
    const now = Date.now();
    const bytes = this.writer.sourceBytes();
    const { site, store, spool } = this.config;
    return {
      site, startedAt: this.startedAt, now, store,
      spool: { dir: spool.dir, bytes: this.writer.bytes, maxBytes: spool.maxBytes, full: this.writer.alarm !== undefined, alarm: this.writer.alarm },
      flush: { ...this.flushState },
      sources: [...this.tracked].map(([name, t]) => this.report(name, t, now, bytes)),
    };
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopper.abort();
      this.writer.release();
      for (const t of this.timers) clearInterval(t);
      await Promise.all([...this.tracked.values()].map((t) => t.source.stop().catch((err) => this.log(`${t.source.name}: stop failed: ${(err as Error).message}`))));
      await this.alarmChain;
      await this.commitAlarms();
      await this.delivery.catch((err) => this.log(`notify: delivery failed: ${(err as Error).message}`));
      await this.notifier?.outbox.close();
      await this.writer.drain();
      await this.loop;
      await this.flush();
      await this.server?.close();
      this.log('stopped');
    })();
    return this.stopped;
  }
}

/**
 * Starts the gateway a config describes: one {@link Source} per entry, all writing through one
 * bounded, group-committing spool; a flush loop moving the spool into the store (readings with
 * `flushSpool`, events into the `events` table); a heartbeat reading (`_heartbeat`) per source;
 * and, with `http`, the status server (`/health`, `/metrics`, `/status`). Readings that cannot be
 * trusted are refused with a `reject` event instead of being stored: a non-finite value or time
 * stamp, a time stamp more than `maxFutureSkew` ahead of the gateway's clock, an asset the asset
 * model does not know.
 *
 * @example
 * import { loadGatewayConfig, startGateway } from 'millwright';
 * const gw = await startGateway(await loadGatewayConfig('gateway.yaml'), { log: console.error });
 * process.once('SIGTERM', () => gw.stop());
 */
export async function startGateway(config: GatewayConfig, opts: StartOptions = {}): Promise<GatewayHandle> {
  const types = opts.types ?? SOURCE_TYPES;
  const log = opts.log ?? (() => {});
  if (config.assetModel) {
    const bad = unknownAssets(config, config.assetModel, types);
    if (bad.length > 0) throw new MillwrightError('BAD_INPUT', `gateway config is invalid (${bad.length} problem${bad.length === 1 ? '' : 's'}):\n  ${bad.join('\n  ')}`, { details: { issues: bad } });
  }
  await mkdirDurable(config.spool.dir);
  await mkdirDurable(config.store);
  if (config.assetModel) await writeAssets(config.store, config.site, assetRows(config.assetModel, config.site));
  const gw = new Gateway(config, types, log);
  if (config.alarmRules) gw.alarms = await AlarmSession.open(config.alarmRules, { site: config.site, stateDir: join(config.spool.dir, '.alarms') });
  if (config.notify && gw.alarms) {
    const n = config.notify.config;
    gw.notifier = new AlarmFeed(await createOutbox({ dir: n.outbox, channels: n.channels, routes: n.routes, link: n.link, retry: n.retry, log }), gw.alarms.attached.notify as AlarmFeedSnapshot | undefined);
  }
  gw.build();
  await gw.writer.reserve();
  await gw.writer.recount();
  // Alarm rows saved with the state but maybe not in the spool and the outbox (a crash in between): again.
  const pending = gw.alarms?.attached.pending as EventRow[] | undefined;
  if (pending && pending.length > 0) {
    await gw.settle(pending);
    await gw.commitAlarms();
    log(`alarms: ${pending.length} alarm row(s) of the last run written again (spool events, outbox)`);
  }
  await gw.start();
  log(`started: ${gw.tracked.size} source(s), spool ${config.spool.dir} (${gw.writer.bytes} of ${config.spool.maxBytes} bytes) -> store ${config.store}${gw.url ? `, status on ${gw.url}` : ''}`);
  return gw;
}
