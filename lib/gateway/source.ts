/**
 * The one interface every gateway source implements (OPC UA, Modbus TCP, MQTT, Sparkplug B,
 * window-poll devices, watched folders). A source turns a protocol into readings with a quality
 * code and hands them to the gateway through {@link SourceContext.emit}; it never writes to the
 * spool or the store itself, so durability, the spool bound and heartbeats live in one place.
 */

/**
 * Quality of one reading (the `quality` column of the store). 0 is good; the rest say why a value
 * should not be trusted, in the spirit of OPC UA's Good / Uncertain / Bad status classes.
 */
export const QUALITY = {
  /** A value the device reported as good. */
  good: 0,
  /** The device says the value may be inaccurate (OPC UA Uncertain*, a sensor at its limit). */
  uncertain: 1,
  /** The device says the value is wrong (OPC UA Bad*, a Modbus exception for this register). */
  bad: 2,
  /** The last known value, re-stated after the source lost contact (Sparkplug NDEATH/DDEATH). */
  stale: 3,
  /** No value could be read because the link failed (timeout, connection refused). */
  commFailure: 4,
  /** The raw value is outside the configured or physical range of the signal. */
  outOfRange: 5,
} as const;

/** One of the {@link QUALITY} codes. */
export type QualityCode = (typeof QUALITY)[keyof typeof QUALITY];

/** One reading as a source produces it; the gateway adds the site. */
export interface SourceReading {
  /** Epoch milliseconds, UTC (the device's time stamp when it gives one, else the receive time). */
  ts: number;
  asset: string;
  signal: string;
  value: number;
  quality: QualityCode;
}

/** Connection state of a source, as `/status` and the `events` table report it. */
export type SourceState = 'starting' | 'connected' | 'disconnected' | 'paused' | 'error' | 'stopped';

/**
 * Something that happened at a source that is not a reading: a state change, an error, a lost
 * interval (`gap`). The gateway stores each one as a row of the `events` table.
 */
export interface SourceEvent {
  /** Epoch ms when it happened. */
  ts: number;
  kind: 'connected' | 'disconnected' | 'error' | 'gap' | 'paused' | 'resumed' | 'reject';
  /** The asset concerned, when there is one (a gap of one device's tag, a rejected message). */
  asset?: string;
  signal?: string;
  /** For a gap: the first and last instant (epoch ms) whose data was lost. */
  from?: number;
  to?: number;
  /** Human-readable reason (an error message, "poll came 30 s after the window closed"). */
  message?: string;
}

/** What the gateway gives a source when it starts it. */
export interface SourceContext {
  /** The gateway's site (the `site` partition of everything this source emits). */
  site: string;
  /**
   * Hands readings to the gateway. Resolves when they are durable in the spool (acknowledged):
   * only then may a source acknowledge them upstream (MQTT PUBACK, a poll's high-water mark).
   * Rejects with a `RESOURCE_EXHAUSTED` MillwrightError when the spool is full or the disk is:
   * the source must then stop taking data it can refuse (pause its MQTT client, skip polls and
   * record the lost interval as a `gap` event) and retry after {@link SourceContext.waitForSpace}.
   */
  emit(readings: SourceReading[]): Promise<void>;
  /** Records an event durably (same guarantee as {@link emit}); also updates the source's state. */
  event(event: SourceEvent): Promise<void>;
  /** Resolves when the spool has room again (or the gateway stops). */
  waitForSpace(): Promise<void>;
  /** One log line (the gateway prefixes time and source name). */
  log(line: string): void;
  /** Aborted when the gateway stops: end loops, close connections. */
  signal: AbortSignal;
  /** A folder this source may keep state in (certificates, MQTT session store, poll cursors). */
  stateDir: string;
}

/** Counters a source keeps for `/status` and `millwright gateway status`. */
export interface SourceStatus {
  name: string;
  type: string;
  state: SourceState;
  /** Epoch ms of the last state change. */
  since: number;
  /** Readings emitted (acknowledged) since start. */
  readings: number;
  /** Epoch ms of the newest reading's time stamp, if any. */
  lastValueTs?: number;
  /** The last error message, if the source is in `error` or `disconnected`. */
  lastError?: string;
}

/** A running source. Each protocol module exports a factory that makes one from its config. */
export interface Source {
  readonly name: string;
  readonly type: string;
  /** Connects and starts producing; resolves once started (not when connected: a source retries). */
  start(ctx: SourceContext): Promise<void>;
  /** Stops producing and closes connections; resolves when nothing more will be emitted. */
  stop(): Promise<void>;
  status(): SourceStatus;
}
