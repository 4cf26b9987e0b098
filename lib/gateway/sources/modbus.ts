import modbusSerial from 'modbus-serial';
import { QUALITY, type Source, type SourceContext, type SourceEvent, type SourceReading, type SourceStatus } from '../source.ts';
import type { SourceType } from './registry.ts';
import { modbusSchema, wordsOf, type ModbusConfig, type ModbusRegister } from './modbus-config.ts';
import { planRequests, tagValue, type ModbusRequest } from './modbus-decode.ts';
import { isSpoolFull, sleep, unlessAborted } from './abortable.ts';
import { SourceStatusTracker } from '../source-status.ts';

export { modbusSchema, MODBUS_REGISTER_TYPES, MODBUS_KINDS, type ModbusConfig, type ModbusRegister } from './modbus-config.ts';
export { decodeWords, encodeWords, planRequests } from './modbus-decode.ts';

// modbus-serial is CommonJS; it also sets module.exports.default to the client class, which is the
// one spelling both NodeNext's typing of its `export default` and Node's CJS interop agree on.
const ModbusRTU = modbusSerial.default;
type ModbusClient = InstanceType<typeof ModbusRTU>;

/** First reconnect delay; doubles per failed attempt up to {@link MAX_BACKOFF_MS}. */
const FIRST_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 15_000;


/** What one poll produced: readings, per-tag problems, or a failed link. */
interface PollResult {
  readings: SourceReading[];
  /** Set when the link failed (timeout, closed socket): the rest of the poll was not read. */
  commError?: string;
}

/**
 * A Modbus TCP device polled every `poll`: contiguous registers of one table are read in one
 * request, decoded (int16..float64, word order) and scaled. A Modbus exception marks the tags it
 * covers `bad` (with one `error` event naming the exception); a timeout or a lost connection marks
 * every tag `commFailure`, records `disconnected`, and reconnects with backoff; the interval the
 * device was unreachable is a `gap` event once it answers again. A NaN or infinite value is no
 * reading but a `reject` event. When the spool is full the source stops polling and, once there
 * is room, records the skipped interval as a `gap` event.
 *
 * @example
 * import { modbusSource } from 'millwright';
 * const source = modbusSource.create(modbusSource.schema.parse({
 *   name: 'pump', type: 'modbus', host: '10.0.0.7', poll: '1s',
 *   registers: [{ kind: 'holding', address: 0, type: 'float32', asset: 'pump1', signal: 'pressure', unit: 'bar' }],
 * }));
 */
export class ModbusSource implements Source {
  readonly type = 'modbus';
  readonly name: string;
  private readonly config: ModbusConfig;
  private readonly plan: ModbusRequest[];
  private readonly timeoutMs: number;
  private client: ModbusClient | undefined;
  private ctx: SourceContext | undefined;
  private loop: Promise<void> | undefined;
  private readonly stopper = new AbortController();
  private readonly st = new SourceStatusTracker();
  /** Tags whose last poll gave an exception or a rejected value (one event per run of them). */
  private readonly troubled = new Map<ModbusRegister, string>();
  /** Start of the interval the device has been unreachable, when it is. */
  private downSince: number | undefined;

  constructor(config: ModbusConfig) {
    this.config = config;
    this.name = config.name;
    this.plan = planRequests(config.registers);
    this.timeoutMs = config.timeout ?? Math.min(config.poll, 5000);
  }

  start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    this.st.set('starting');
    const signal = AbortSignal.any([ctx.signal, this.stopper.signal]);
    this.loop = this.run(ctx, signal).catch((err: unknown) => {
      this.st.lastError = err instanceof Error ? err.message : String(err);
      this.st.set('error');
      ctx.log(`modbus ${this.name}: stopped on an unexpected error: ${this.st.lastError}`);
    });
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    this.closeClient();
    await this.loop;
    this.st.set('stopped');
  }

  status(): SourceStatus {
    return this.st.snapshot(this);
  }

  private async run(ctx: SourceContext, signal: AbortSignal): Promise<void> {
    let failures = 0;
    let next = Date.now();
    const backoff = (): Promise<void> => sleep(Math.min(FIRST_BACKOFF_MS * 2 ** (failures++), MAX_BACKOFF_MS), signal);
    while (!signal.aborted) {
      if (this.client === undefined) {
        if (!(await this.connect(ctx, signal))) {
          await backoff();
          continue;
        }
        next = Date.now();
      }
      const ts = Date.now();
      const result = await this.pollOnce(ts);
      if (signal.aborted) break;
      if (result.commError !== undefined) {
        await this.linkLost(ctx, ts, result.commError);
        await backoff();
        continue;
      }
      // `connected` means the device answers, not merely that TCP connected: a hung device that
      // accepts connections and never replies stays disconnected (one event, one gap).
      if (this.st.state !== 'connected' && this.st.state !== 'paused') await this.answered(ctx);
      failures = 0;
      if (result.readings.length > 0 && !(await this.deliver(ctx, result.readings, ts, signal))) {
        next = Date.now();
        continue;
      }
      next += this.config.poll;
      const now = Date.now();
      if (next < now) next = now; // a slow device: poll again at once rather than bunch up
      await sleep(next - now, signal);
    }
  }

  /** Opens the TCP connection; on failure records `disconnected` once and returns false. */
  private async connect(ctx: SourceContext, signal: AbortSignal): Promise<boolean> {
    const client = new ModbusRTU();
    const { host, port } = this.config;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.connectTCP(host, { port }),
        new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no connection within ${this.timeoutMs} ms`)), this.timeoutMs); }),
      ]);
    } catch (err) {
      clearTimeout(timer);
      client.close(() => undefined);
      this.downSince ??= Date.now();
      if (this.st.state !== 'disconnected' && !signal.aborted) await this.stateEvent(ctx, 'disconnected', `cannot connect to ${host}:${port}: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
    clearTimeout(timer);
    if (signal.aborted) { client.close(() => undefined); return false; }
    client.setID(this.config.unitId);
    client.setTimeout(this.timeoutMs);
    this.client = client;
    return true;
  }

  /** The first poll that got answers after start or an outage: `connected`, and the gap before it. */
  private async answered(ctx: SourceContext): Promise<void> {
    await this.stateEvent(ctx, 'connected', `connected to ${this.config.host}:${this.config.port} unit ${this.config.unitId}`);
    if (this.downSince !== undefined) {
      const from = this.downSince;
      this.downSince = undefined;
      const to = Date.now();
      await this.safeEvent(ctx, { ts: to, kind: 'gap', from, to, message: `device unreachable from ${new Date(from).toISOString()}: no polls in between` });
    }
  }

  /** The link failed mid-poll: once per outage, every tag gets a commFailure reading, then `disconnected`. */
  private async linkLost(ctx: SourceContext, ts: number, reason: string): Promise<void> {
    this.closeClient();
    if (this.st.state === 'disconnected') return;
    this.downSince ??= ts;
    const readings = this.config.registers.map((r) => ({ ts, asset: r.asset, signal: r.signal, value: Number.NaN, quality: QUALITY.commFailure }) satisfies SourceReading);
    try {
      await ctx.emit(readings);
    } catch (err) {
      if (!isSpoolFull(err)) throw err;
    }
    await this.stateEvent(ctx, 'disconnected', reason);
  }

  private closeClient(): void {
    const client = this.client;
    this.client = undefined;
    if (client !== undefined && client.isOpen) client.close(() => undefined);
  }

  private async stateEvent(ctx: SourceContext, kind: 'connected' | 'disconnected', message: string): Promise<void> {
    this.st.set(kind);
    this.st.lastError = kind === 'disconnected' ? message : undefined;
    ctx.log(`modbus ${this.name}: ${kind}: ${message}`);
    await this.safeEvent(ctx, { ts: Date.now(), kind, message });
  }

  /** An event that is lost (logged) rather than fatal when the spool is full. */
  private async safeEvent(ctx: SourceContext, event: SourceEvent): Promise<void> {
    try {
      await ctx.event(event);
    } catch (err) {
      if (!isSpoolFull(err)) throw err;
      ctx.log(`modbus ${this.name}: spool full, event not recorded: ${event.kind} ${event.message ?? ''}`);
    }
  }

  /**
   * Hands a poll's readings to the gateway. On a full spool: stop polling until there is room,
   * then record everything from this poll on as a gap (those polls never happened) and return false.
   */
  private async deliver(ctx: SourceContext, readings: SourceReading[], ts: number, signal: AbortSignal): Promise<boolean> {
    try {
      await ctx.emit(readings);
      this.st.counted(readings.length, ts);
      return true;
    } catch (err) {
      if (!isSpoolFull(err)) throw err;
    }
    const before = this.st.state;
    this.st.set('paused');
    ctx.log(`modbus ${this.name}: spool full, polling stopped`);
    await this.safeEvent(ctx, { ts: Date.now(), kind: 'paused', message: 'spool full: polling stopped' });
    await unlessAborted(ctx.waitForSpace(), signal);
    const to = Date.now();
    this.st.set(before);
    await this.safeEvent(ctx, { ts: to, kind: 'gap', from: ts, to, message: `spool full: polls from ${new Date(ts).toISOString()} to ${new Date(to).toISOString()} skipped (${this.config.registers.length} tags)` });
    await this.safeEvent(ctx, { ts: to, kind: 'resumed', message: 'spool has room: polling again' });
    return false;
  }

  /** Reads every planned request once. */
  private async pollOnce(ts: number): Promise<PollResult> {
    const readings: SourceReading[] = [];
    const events: SourceEvent[] = [];
    for (const request of this.plan) {
      const outcome = await this.read(request);
      if ('comm' in outcome) return { readings, commError: outcome.comm };
      if ('exception' in outcome && request.tags.length > 1) {
        // One bad register must not mark its neighbours bad: read the group's tags one by one.
        for (const tag of request.tags) {
          const single: ModbusRequest = { kind: tag.kind, start: tag.address, count: wordsOf(tag.type), tags: [tag] };
          const one = await this.read(single);
          if ('comm' in one) return { readings, commError: one.comm };
          this.collect(single, one, ts, readings, events);
        }
        continue;
      }
      this.collect(request, outcome, ts, readings, events);
    }
    for (const event of events) await this.safeEvent(this.ctx as SourceContext, event);
    return { readings };
  }

  /** Turns one request's outcome into readings (and events for changed per-tag trouble). */
  private collect(request: ModbusRequest, outcome: Exclude<ReadOutcome, { comm: string }>, ts: number, readings: SourceReading[], events: SourceEvent[]): void {
    for (const tag of request.tags) {
      if ('exception' in outcome) {
        readings.push({ ts, asset: tag.asset, signal: tag.signal, value: Number.NaN, quality: QUALITY.bad });
        this.trouble(tag, 'error', `${tag.kind} ${tag.address}: ${outcome.exception}`, ts, events);
        continue;
      }
      const { raw, value } = tagValue(tag, request, outcome.data);
      if (value === undefined) {
        this.trouble(tag, 'reject', `${tag.kind} ${tag.address} (${tag.type}) holds ${raw}: not a finite number, no reading`, ts, events);
        continue;
      }
      this.troubled.delete(tag);
      readings.push({ ts, asset: tag.asset, signal: tag.signal, value, quality: QUALITY.good });
    }
  }

  private trouble(tag: ModbusRegister, kind: 'error' | 'reject', message: string, ts: number, events: SourceEvent[]): void {
    if (this.troubled.get(tag) === message) return;
    this.troubled.set(tag, message);
    events.push({ ts, kind, asset: tag.asset, signal: tag.signal, message });
  }

  private async read(request: ModbusRequest): Promise<ReadOutcome> {
    const client = this.client;
    if (client === undefined) return { comm: 'not connected' };
    try {
      switch (request.kind) {
        case 'holding': return { data: (await client.readHoldingRegisters(request.start, request.count)).data };
        case 'input': return { data: (await client.readInputRegisters(request.start, request.count)).data };
        case 'coil': return { data: (await client.readCoils(request.start, request.count)).data };
        case 'discrete': return { data: (await client.readDiscreteInputs(request.start, request.count)).data };
      }
    } catch (err) {
      const e = err as { message?: string; modbusCode?: number; name?: string };
      if (typeof e.modbusCode === 'number') return { exception: e.message ?? `Modbus exception ${e.modbusCode}` };
      return { comm: `${request.kind} ${request.start}+${request.count}: ${e.message ?? String(err)}` };
    }
  }
}

type ReadOutcome = { data: ArrayLike<number | boolean> } | { exception: string } | { comm: string };

/**
 * The `modbus` source type for the gateway's registry.
 *
 * @example
 * import { modbusSource } from 'millwright';
 * modbusSource.schema.parse({ name: 'pump', type: 'modbus', host: 'pump-plc', registers: [
 *   { kind: 'holding', address: 0, type: 'float32', asset: 'pump1', signal: 'pressure' }] });
 */
export const modbusSource: SourceType<typeof modbusSchema> = {
  type: 'modbus',
  schema: modbusSchema,
  create: (config) => new ModbusSource(config),
  assets: (config) => [...new Set(config.registers.map((r) => r.asset))],
};
