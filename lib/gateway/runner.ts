import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { MillwrightError } from '../errors/index.ts';
import { mkdirDurable } from '../durable/index.ts';
import { flushSpool } from '../spool/index.ts';
import { writeAssets, type EventRow, type EventSeverity } from '../store/index.ts';
import { assetRows, closestName } from './assets.ts';
import { unknownAssets, type GatewayConfig } from './config.ts';
import { flushEvents } from './event-spool.ts';
import { SOURCE_TYPES, type SourceType } from './sources/index.ts';
import { QUALITY, type Source, type SourceContext, type SourceEvent, type SourceReading, type SourceState } from './source.ts';
import { SpoolWriter, type SpoolAlarm } from './spool-writer.ts';
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
  'spool-full': 'error', 'disk-full': 'error', 'spool-ok': 'info', started: 'info', stopped: 'info',
};

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

const MIN_TS = Date.UTC(1900, 0, 1);

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
  const knownAssets = config.assetModel ? new Set(assetRows(config.assetModel, config.site).map((r) => r.asset)) : undefined;
  await mkdirDurable(config.spool.dir);
  await mkdirDurable(config.store);
  if (config.assetModel) await writeAssets(config.store, config.site, assetRows(config.assetModel, config.site));

  const stopper = new AbortController();
  const startedAt = Date.now();
  let wakeFlush: (() => void) | undefined;
  const writer = new SpoolWriter({
    dir: config.spool.dir, site: config.site, maxBytes: config.spool.maxBytes, linger: config.spool.linger,
    onAlarm: (a) => {
      log(`spool alarm: ${a.message}`);
      void record('gateway', { ts: Date.now(), kind: a.reason === 'disk-full' ? 'error' : 'paused', message: a.message }, a.reason).catch(() => {});
      wakeFlush?.();
    },
  });
  await writer.reserve();
  await writer.recount();
  const flushState: GatewayStatus['flush'] = { failures: 0, readings: 0, events: 0 };
  const tracked = new Map<string, Tracked>();

  function record(source: string, ev: SourceEvent, kindOverride?: string): Promise<void> {
    const kind = kindOverride ?? ev.kind;
    const row: EventRow = {
      ts: ev.ts, site: config.site, source, kind, asset: ev.asset, signal: ev.signal, from: ev.from, to: ev.to,
      severity: SEVERITY[kind] ?? 'info', message: ev.message, id: randomUUID(),
    };
    const t = tracked.get(source);
    if (t) t.events[kind] = (t.events[kind] ?? 0) + 1;
    return writer.event(row);
  }

  /** Splits readings into accepted and rejected (with one reject event per asset, signal and reason). */
  function screen(t: Tracked, name: string, readings: SourceReading[]): SourceReading[] {
    const now = Date.now();
    const limit = now + config.maxFutureSkew;
    const good: SourceReading[] = [];
    const rejects = new Map<string, { asset?: string; signal?: string; why: string; n: number; first: number }>();
    for (const r of readings) {
      let why: string | undefined;
      if (typeof r.asset !== 'string' || r.asset === '' || typeof r.signal !== 'string' || r.signal === '') why = 'asset and signal must be non-empty names';
      else if (typeof r.value !== 'number' || !Number.isFinite(r.value)) why = `value ${String(r.value)} is not a finite number`;
      else if (typeof r.ts !== 'number' || !Number.isFinite(r.ts) || r.ts < MIN_TS) why = `time stamp ${String(r.ts)} is not epoch milliseconds after 1900`;
      else if (r.ts > limit) why = `time stamp ${new Date(r.ts).toISOString()} is more than ${config.maxFutureSkew} ms ahead of the gateway clock (clock skew)`;
      else if (knownAssets && !knownAssets.has(r.asset)) {
        const hint = closestName(r.asset, knownAssets);
        why = `asset "${r.asset}" is not in the asset model${hint ? ` (did you mean ${hint}?)` : ''}`;
      }
      if (why === undefined) {
        good.push(r);
        continue;
      }
      const key = `${r.asset}\u0000${r.signal}\u0000${why.replace(/[-\d.:TZ]+/g, '#')}`;
      const e = rejects.get(key);
      if (e) e.n++;
      else rejects.set(key, { asset: typeof r.asset === 'string' && r.asset ? r.asset : undefined, signal: typeof r.signal === 'string' && r.signal ? r.signal : undefined, why, n: 1, first: r.ts });
    }
    for (const e of rejects.values()) {
      t.rejected += e.n;
      void record(name, { ts: now, kind: 'reject', asset: e.asset, signal: e.signal, message: `${e.n} reading(s) rejected: ${e.why}` }).catch(() => {});
    }
    return good;
  }

  for (const entry of config.sources) {
    const type = types.find((t) => t.type === entry.type);
    if (!type) throw new MillwrightError('BAD_INPUT', `source ${entry.name}: unknown type ${JSON.stringify(entry.type)} (expected one of ${types.map((t) => t.type).join(', ')})`);
    const source = type.create(entry);
    const name = entry.name;
    const stateDir = join(config.spool.dir, '.sources', name);
    const t: Tracked = { source, type: entry.type, readings: 0, rejected: 0, sinceHeartbeat: 0, state: 'starting', since: Date.now(), events: {}, samples: [], ctx: undefined as unknown as SourceContext };
    t.ctx = {
      site: config.site,
      signal: stopper.signal,
      stateDir,
      log: (line) => log(`${name}: ${line}`),
      waitForSpace: () => writer.waitForSpace(stopper.signal),
      emit: async (readings) => {
        const good = screen(t, name, readings);
        await writer.emit(name, good);
        t.readings += good.length;
        t.sinceHeartbeat += good.length;
        for (const r of good) if (t.lastValueTs === undefined || r.ts > t.lastValueTs) t.lastValueTs = r.ts;
      },
      event: async (ev) => {
        const next: Partial<Record<SourceEvent['kind'], SourceState>> = { connected: 'connected', resumed: 'connected', disconnected: 'disconnected', error: 'error', paused: 'paused' };
        const s = next[ev.kind];
        if (s && s !== t.state) {
          t.state = s;
          t.since = ev.ts;
        }
        if (ev.kind === 'error' || ev.kind === 'disconnected') t.lastError = ev.message;
        log(`${name}: ${ev.kind}${ev.message ? `: ${ev.message}` : ''}`);
        await record(name, ev);
      },
    };
    tracked.set(name, t);
  }

  for (const [name, t] of tracked) {
    try {
      await t.source.start(t.ctx);
    } catch (err) {
      t.state = 'error';
      t.lastError = (err as Error).message;
      log(`${name}: failed to start: ${(err as Error).message}`);
      await record(name, { ts: Date.now(), kind: 'error', message: `failed to start: ${(err as Error).message}` });
    }
  }

  const heartbeat = setInterval(() => {
    const now = Date.now();
    for (const [name, t] of tracked) {
      const up = t.state === 'connected';
      const n = t.sinceHeartbeat;
      t.sinceHeartbeat = 0;
      writer.emit(name, [{ ts: now, asset: name, signal: '_heartbeat', value: n, quality: up ? QUALITY.good : QUALITY.commFailure }]).catch(() => {
        t.sinceHeartbeat += n; // refused (spool full): the count carries over
      });
    }
  }, config.heartbeat);
  const sampler = setInterval(() => {
    const at = Date.now();
    for (const t of tracked.values()) {
      t.samples.push({ at, readings: t.readings });
      if (t.samples.length > 11) t.samples.shift();
    }
  }, 1000);
  heartbeat.unref();
  sampler.unref();

  async function flushOnce(): Promise<void> {
    let freed = false;
    try {
      const r = await flushSpool({ spool: config.spool.dir, store: config.store, log });
      const e = await flushEvents(config.spool.dir, config.store, log);
      freed = r.segments > 0 || e.files > 0;
      flushState.readings += r.rows;
      flushState.events += e.rows;
      flushState.lastAt = Date.now();
      if (flushState.failures > 0) log(`store ${config.store} writable again after ${flushState.failures} failed attempt(s)`);
      flushState.failures = 0;
      flushState.lastError = undefined;
    } catch (err) {
      flushState.failures++;
      flushState.lastError = (err as Error).message;
      log(`flush failed (attempt ${flushState.failures}): ${(err as Error).message}`);
    }
    const wasFull = writer.alarm;
    await writer.afterFlush(freed).catch(() => {});
    if (wasFull && !writer.alarm) {
      log('spool has room again');
      void record('gateway', { ts: Date.now(), kind: 'resumed', message: `spool has room again (${writer.bytes} bytes)` }, 'spool-ok').catch(() => {});
    }
  }

  let flushing: Promise<void> = Promise.resolve();
  const runFlush = () => (flushing = flushing.then(flushOnce));
  const loop = (async () => {
    while (!stopper.signal.aborted) {
      await runFlush();
      const wait = flushState.failures > 0 ? Math.min(300_000, config.spool.flushEvery * 2 ** Math.min(flushState.failures, 10)) : config.spool.flushEvery;
      const woken = new Promise<void>((resolve) => (wakeFlush = resolve));
      await Promise.race([sleep(wait, undefined, { signal: stopper.signal }).catch(() => {}), woken]);
      wakeFlush = undefined;
    }
  })();

  function status(): GatewayStatus {
    const now = Date.now();
    const bytes = writer.sourceBytes();
    return {
      site: config.site, startedAt, now, store: config.store,
      spool: { dir: config.spool.dir, bytes: writer.bytes, maxBytes: config.spool.maxBytes, full: writer.alarm !== undefined, alarm: writer.alarm },
      flush: { ...flushState },
      sources: [...tracked].map(([name, t]) => {
        const first = t.samples[0];
        const rate = first && now > first.at ? ((t.readings - first.readings) * 1000) / (now - first.at) : 0;
        const s = t.source.status();
        return {
          name, type: t.type, state: t.state === 'starting' ? s.state : t.state, since: t.since, readings: t.readings, rejected: t.rejected,
          readingsPerSec: Math.round(rate * 10) / 10, lastValueTs: t.lastValueTs, lagMs: t.lastValueTs === undefined ? undefined : now - t.lastValueTs,
          spoolBytes: bytes.get(name) ?? 0, lastError: t.lastError ?? s.lastError, events: { ...t.events },
        };
      }),
    };
  }

  let server: StatusServer | undefined;
  if (config.http) server = await startStatusServer({ host: config.http.host, port: config.http.port, status });
  log(`started: ${tracked.size} source(s), spool ${config.spool.dir} (${writer.bytes} of ${config.spool.maxBytes} bytes) -> store ${config.store}${server ? `, status on ${server.url}` : ''}`);

  let stopped: Promise<void> | undefined;
  return {
    status,
    url: server?.url,
    flush: () => runFlush(),
    stop: () =>
      (stopped ??= (async () => {
        stopper.abort();
        writer.release();
        clearInterval(heartbeat);
        clearInterval(sampler);
        await Promise.all([...tracked.values()].map((t) => t.source.stop().catch((err) => log(`${t.source.name}: stop failed: ${(err as Error).message}`))));
        await writer.drain();
        await loop;
        await runFlush();
        await server?.close();
        log('stopped');
      })()),
  };
}
