import { connect, type IClientOptions, type IConnackPacket, type IPublishPacket, type MqttClient } from 'mqtt';
import { isErrorCode, MillwrightError } from '../../errors/index.ts';
import type { SourceContext, SourceEvent, SourceReading, SourceState, SourceStatus } from '../source.ts';
import type { Decoded } from './mqtt-mapping.ts';
import { tapPublishes } from './mqtt-publish-tap.ts';

/**
 * The MQTT client under the `mqtt` and `sparkplug` sources: one MQTT 5 persistent session
 * (fixed client id, `clean: false`, a session expiry) subscribed at QoS 1, whose PUBACKs are sent
 * only after what the messages turned into is durable in the spool.
 *
 * Why the acks are pipelined rather than sent from mqtt.js's `handleMessage` callback: that
 * callback serialises the client (the next packet is not processed until it returns), so the
 * gateway could durably commit only one message per spool fsync, a few hundred messages/s.
 * Instead every QoS 1 message is decoded on arrival and queued un-acknowledged (the callback is
 * told to skip its own PUBACK); one commit loop takes everything queued, makes it durable with a
 * single `ctx.emit()` (group commit) and then sends the PUBACKs in arrival order, as MQTT
 * requires. The broker never has more than `inflight` (MQTT 5 Receive Maximum) messages out
 * un-acknowledged, which bounds the queue; when the spool is full the loop stops acknowledging,
 * the window fills, and the broker keeps everything else in the session until space frees.
 * A message is acknowledged only on the connection it arrived on: after a reconnect the broker
 * redelivers whatever was not acknowledged (at least once; `compact` removes duplicates).
 * PUBLISH packets normally reach `accept` through the tap in mqtt-publish-tap.ts (read off the
 * socket in place) and the PUBACKs of a batch leave as one socket write; mqtt.js keeps the
 * connection, subscriptions and keepalive, and parses whatever the tap passes through.
 */
export interface MqttSessionOptions {
  name: string;
  type: string;
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /** Topic filters to subscribe to (at `qos`). */
  subscriptions: string[];
  qos: 0 | 1;
  /** MQTT 5 Session Expiry Interval in seconds: how long the broker keeps the session (and its queued messages) while the gateway is away. */
  sessionExpiry: number;
  /** MQTT 5 Receive Maximum: un-acknowledged messages the broker may have in flight to us. */
  inflight: number;
  /** Keepalive in seconds. */
  keepalive: number;
  /** Reconnect delay in ms. */
  reconnectMs: number;
  /** Turns one message into readings and events; called in arrival order, never concurrently. */
  decode(topic: string, payload: Buffer, receivedAt: number): Decoded;
  /** Runs after a batch is durable and before its PUBACKs (e.g. Sparkplug saves its birth state). */
  beforeAck?(): Promise<void>;
  /** Called on every (re)connection, after the subscriptions were requested. */
  onConnect?(client: MqttClient, sessionPresent: boolean): void;
  /** For benchmarks: called after each batch's PUBACKs with each message's arrival time (performance.now()). */
  onAck?(arrivals: number[], ackedAt: number): void;
}

/** Readings (plus messages) decoded between yields to the event loop. */
const YIELD_EVERY = 2000;

/** Largest group commit, in readings (a ~3 MB spool segment). */
const MAX_BATCH_READINGS = 100_000;

interface Pending {
  /** Packet id to acknowledge (QoS 1), or undefined (QoS 0). */
  messageId: number | undefined;
  /** Connection the message came on; its PUBACK is only valid there. */
  gen: number;
  decoded: Decoded;
  arrival: number;
}

/** Told to mqtt.js's handleMessage callback so that it skips its own PUBACK (we send it later). */
const ACK_LATER = new Error('PUBACK deferred until the readings are durable');

/** mqtt.js logs through `debug` on every packet unless given a logger; formatting those calls costs a few % of the CPU at 100k+ messages/s. */
const NO_LOG = (): void => {};

/**
 * Writes the PUBACKs of a batch as one buffer on the client's socket: `0x40 0x02 <packet id>` each,
 * the exact bytes mqtt.js writes for a PUBACK with reason code 0 (Success; MQTT 5 lets the reason
 * code and properties be left out then, 3.4.2.1) and with no properties. mqtt.js has no public
 * "send this PUBACK now" and its per-packet path costs three socket writes per message; this is
 * one write per group commit. Safe to interleave with mqtt.js's own writes: each of them writes a
 * whole packet synchronously, and so does this.
 */
function writePubacks(client: MqttClient, ids: number[]): void {
  if (ids.length === 0) return;
  const buf = Buffer.allocUnsafe(4 * ids.length);
  for (let i = 0, o = 0; i < ids.length; i++, o += 4) {
    const id = ids[i];
    buf[o] = 0x40;
    buf[o + 1] = 0x02;
    buf[o + 2] = id >> 8;
    buf[o + 3] = id & 0xff;
  }
  client.stream.write(buf);
}

export class MqttSession {
  private readonly opts: MqttSessionOptions;
  private ctx: SourceContext | undefined;
  private client: MqttClient | undefined;
  private queue: Pending[] = [];
  private gen = 0;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  /** Aborted by stop(): ends the waits for space and the back-off sleeps. */
  private halt = new AbortController();
  private haltedPromise: Promise<void> = Promise.resolve();
  private paused = false;
  private droppedQos0 = 0;
  private sinceYield = 0;
  private wasConnected = false;
  private lastErrorEvent = '';
  private st: SourceStatus;

  constructor(opts: MqttSessionOptions) {
    this.opts = opts;
    this.st = { name: opts.name, type: opts.type, state: 'stopped', since: Date.now(), readings: 0 };
  }

  status(): SourceStatus {
    return { ...this.st };
  }

  /** The connected client (Sparkplug publishes rebirth requests with it), if any. */
  get mqtt(): MqttClient | undefined {
    return this.client?.connected ? this.client : undefined;
  }

  private setState(state: SourceState, error?: string): void {
    if (error !== undefined) this.st.lastError = error;
    if (this.st.state === state) return;
    this.st.state = state;
    this.st.since = Date.now();
  }

  /** Records an event without blocking the caller; a failure (full spool) is logged, not thrown. */
  private note(event: SourceEvent): void {
    const ctx = this.ctx;
    if (!ctx) return;
    ctx.event(event).catch((err: unknown) => ctx.log(`could not record ${event.kind} event (${(err as Error).message}): ${event.message ?? ''}`));
  }

  async start(ctx: SourceContext): Promise<void> {
    if (this.client) throw new MillwrightError('CONFLICT', `source ${this.opts.name} is already started`);
    this.ctx = ctx;
    this.stopping = false;
    this.stopped = undefined;
    this.halt = new AbortController();
    const signal = this.halt.signal;
    this.haltedPromise = new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    this.setState('starting');
    const o = this.opts;
    const options: IClientOptions = {
      protocolVersion: 5,
      clean: false,
      clientId: o.clientId,
      username: o.username,
      password: o.password,
      keepalive: o.keepalive,
      reconnectPeriod: o.reconnectMs,
      connectTimeout: 10_000,
      resubscribe: false,
      manualConnect: true,
      log: NO_LOG,
      properties: { sessionExpiryInterval: o.sessionExpiry, receiveMaximum: o.inflight },
    };
    const client = connect(o.url, options);
    this.client = client;
    client.handleMessage = (packet, done) => this.onPublish(packet, done);
    if (!tapPublishes(client, (topic, qos, messageId, payload) => this.accept(topic, qos, messageId, payload))) {
      ctx.log('this mqtt package has no stream builder to tap: every message goes through mqtt.js\'s own parser (correct, slower)');
    }
    client.on('connect', (connack) => this.onConnect(client, connack));
    client.on('close', () => this.onClose());
    client.on('error', (err) => this.onError(err));
    ctx.signal.addEventListener('abort', () => void this.stop(), { once: true });
    client.connect();
  }

  private onConnect(client: MqttClient, connack: IConnackPacket): void {
    const o = this.opts;
    const present = connack.sessionPresent;
    this.wasConnected = true;
    this.lastErrorEvent = '';
    this.setState(this.paused ? 'paused' : 'connected');
    this.ctx?.log(`connected to ${o.url} as ${o.clientId} (session ${present ? 'resumed' : 'new'})`);
    this.note({ ts: Date.now(), kind: 'connected', message: `${o.url} as ${o.clientId}, session ${present ? 'resumed' : 'new'}` });
    // Retain handling 1: retained messages only for a new subscription, not on every resume.
    client.subscribe(o.subscriptions, { qos: o.qos, rh: 1 }, (err, granted) => {
      const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
      if (err || refused.length > 0) {
        const message = err ? `subscribe failed: ${err.message}` : `broker refused the subscription to ${refused.join(', ')}`;
        this.setState(this.st.state, message);
        this.note({ ts: Date.now(), kind: 'error', message });
      }
    });
    o.onConnect?.(client, present);
  }

  private onClose(): void {
    // Un-acknowledged messages of the old connection are redelivered by the broker on the next
    // one; acknowledging them there could ack a different message that reuses the packet id.
    this.gen++;
    this.queue = this.queue.filter((p) => p.messageId === undefined);
    if (this.stopping) return;
    if (this.wasConnected) {
      this.wasConnected = false;
      this.setState('disconnected');
      this.note({ ts: Date.now(), kind: 'disconnected', message: this.st.lastError ?? 'connection closed' });
    }
  }

  private onError(err: Error): void {
    const message = err.message;
    this.setState(this.client?.connected ? this.st.state : 'error', message);
    this.ctx?.log(`mqtt: ${message}`);
    // A broker that stays down repeats the same error every reconnect: record it once.
    if (message !== this.lastErrorEvent) {
      this.lastErrorEvent = message;
      this.note({ ts: Date.now(), kind: 'error', message });
    }
  }

  /** A PUBLISH that mqtt.js parsed (the tap passed it through; see mqtt-publish-tap.ts). */
  private onPublish(packet: IPublishPacket, done: (err?: Error) => void): void {
    const raw = packet.payload;
    // mqtt-packet hands a Buffer (a view into its receive buffer); a plain Uint8Array is viewed, not copied.
    const payload = typeof raw === 'string' ? Buffer.from(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from((raw as Uint8Array).buffer, (raw as Uint8Array).byteOffset, (raw as Uint8Array).byteLength);
    const pause = this.accept(packet.topic, packet.qos, packet.messageId, payload);
    // A QoS 1 message is acknowledged later (after the spool write), so mqtt.js must not: ACK_LATER.
    const result = packet.qos > 0 || this.stopping ? ACK_LATER : undefined;
    if (pause) setImmediate(() => done(result));
    else done(result);
  }

  /**
   * Takes one message: decodes it and queues it un-acknowledged for the commit loop. Returns true
   * when the caller should yield to the event loop before the next message: mqtt.js (and the tap)
   * work through a socket chunk's packets without returning to the event loop, which starves I/O
   * callbacks: without a yield now and then, the spool's fsync completes (and PUBACKs go out)
   * only once the whole backlog is parsed, and the ack latency grows with the backlog.
   */
  private accept(topic: string, qos: number, messageId: number | undefined, payload: Buffer): boolean {
    if (this.stopping) return false;
    const receivedAt = Date.now();
    const arrival = performance.now();
    if (qos === 0 && this.paused) {
      // QoS 0 cannot be refused: count what the full spool costs and say so on resume.
      this.droppedQos0++;
      return false;
    }
    let decoded: Decoded;
    try {
      decoded = this.opts.decode(topic, payload, receivedAt);
    } catch (err) {
      decoded = { readings: [], events: [{ ts: receivedAt, kind: 'reject', message: `topic ${topic}: ${(err as Error).message}` }] };
    }
    this.queue.push({ messageId: qos > 0 ? messageId : undefined, gen: this.gen, decoded, arrival });
    this.kick();
    this.sinceYield += decoded.readings.length + 1;
    if (this.sinceYield < YIELD_EVERY) return false;
    this.sinceYield = 0;
    return true;
  }

  private kick(): void {
    this.loop ??= this.commitLoop().finally(() => {
      this.loop = undefined;
      if (this.queue.length > 0 && !this.stopping) this.kick();
    });
  }

  private takeBatch(): Pending[] {
    let readings = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || readings + this.queue[n].decoded.readings.length <= MAX_BATCH_READINGS)) {
      readings += this.queue[n].decoded.readings.length;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private async commitLoop(): Promise<void> {
    while (!this.stopping && this.queue.length > 0) {
      let batch = this.takeBatch();
      let result = await this.commit(batch);
      // Refused by a full spool: retry with the first half, so a batch larger than what the spool
      // can take at once never blocks the source (the rest goes back, in order, to the queue head).
      while (result === 'smaller' && batch.length > 1) {
        const keep = Math.ceil(batch.length / 2);
        this.queue.unshift(...batch.slice(keep));
        batch = batch.slice(0, keep);
        result = await this.commit(batch);
      }
      if (result === 'stopped') return;
      if (this.opts.beforeAck) await this.opts.beforeAck();
      this.acknowledge(batch);
    }
  }

  private acknowledge(batch: Pending[]): void {
    const client = this.client;
    const live = client?.connected === true;
    const ids: number[] = [];
    let readings = 0;
    let last = this.st.lastValueTs;
    for (const p of batch) {
      const rs = p.decoded.readings;
      for (let i = 0; i < rs.length; i++) {
        const ts = rs[i].ts;
        if (last === undefined || ts > last) last = ts;
      }
      readings += rs.length;
      if (p.messageId !== undefined && p.gen === this.gen && live) ids.push(p.messageId);
    }
    // In arrival order, as MQTT requires; only on the connection the messages came on.
    if (live) writePubacks(client, ids);
    this.st.readings += readings;
    this.st.lastValueTs = last;
    if (this.opts.onAck) this.opts.onAck(batch.map((p) => p.arrival), performance.now());
  }

  /**
   * Makes a batch durable; retries until it is or the source stops. 'smaller' when a full spool
   * refused the readings of a batch of several messages (after waiting for space).
   */
  private async commit(batch: Pending[]): Promise<'done' | 'stopped' | 'smaller'> {
    const ctx = this.ctx;
    if (!ctx) return 'stopped';
    let readings: SourceReading[] = [];
    const events: SourceEvent[] = [];
    for (const p of batch) {
      if (batch.length === 1) readings = p.decoded.readings;
      else for (const r of p.decoded.readings) readings.push(r);
      for (const e of p.decoded.events) events.push(e);
    }
    let readingsDone = readings.length === 0;
    let eventsDone = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        if (!readingsDone) {
          await ctx.emit(readings);
          readingsDone = true;
        }
        for (; eventsDone < events.length; eventsDone++) await ctx.event(events[eventsDone]);
        if (this.paused) this.resume();
        return 'done';
      } catch (err) {
        if (this.stopping) return 'stopped';
        if (isErrorCode(err, 'RESOURCE_EXHAUSTED')) {
          await this.pauseUntilSpace(err.message);
          if (this.stopping) return 'stopped';
          if (!readingsDone && batch.length > 1) return 'smaller';
        } else {
          // Not a full spool (an I/O error, a bug): say so, back off, try the same batch again.
          const message = `could not spool ${readings.length} readings: ${(err as Error).message}`;
          ctx.log(message);
          if (attempt === 0) this.note({ ts: Date.now(), kind: 'error', message });
          await this.sleep(Math.min(30_000, 500 * 2 ** Math.min(attempt, 6)));
        }
        if (this.stopping) return 'stopped';
      }
    }
  }

  private async pauseUntilSpace(reason: string): Promise<void> {
    const ctx = this.ctx!;
    if (!this.paused) {
      this.paused = true;
      this.setState('paused', reason);
      ctx.log(`spool full, not acknowledging (the broker keeps the messages): ${reason}`);
      this.note({ ts: Date.now(), kind: 'paused', message: `spool full, not acknowledging MQTT messages: ${reason}` });
    }
    await Promise.race([ctx.waitForSpace(), this.halted()]);
  }

  private resume(): void {
    this.paused = false;
    this.setState(this.client?.connected ? 'connected' : 'disconnected');
    const dropped = this.droppedQos0;
    this.droppedQos0 = 0;
    this.note({ ts: Date.now(), kind: 'resumed', message: 'spool has room again, acknowledging' });
    if (dropped > 0) this.note({ ts: Date.now(), kind: 'gap', message: `${dropped} QoS 0 messages dropped while the spool was full (QoS 0 cannot be refused; subscribe with qos: 1)` });
  }

  private halted(): Promise<void> {
    return this.haltedPromise;
  }

  private sleep(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), this.halted()]).finally(() => clearTimeout(timer));
  }

  /** Stops: lets the batch being committed finish (and acknowledges it), then closes the session. */
  stop(): Promise<void> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<void> {
    this.stopping = true;
    this.halt.abort();
    const client = this.client;
    if (this.loop) await this.loop.catch(() => {});
    this.queue = [];
    if (client) {
      // end(false) flushes what is written (the last PUBACKs) before DISCONNECT.
      await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    }
    this.client = undefined;
    this.setState('stopped');
  }
}
