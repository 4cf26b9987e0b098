import { join, resolve } from 'node:path';
import { mkdir } from 'node:fs/promises';
import type * as CertificateManagerModule from 'node-opcua-certificate-manager';
import type { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import type * as OpcuaClientModule from 'node-opcua-client';
import type { ClientMonitoredItemGroup, ClientSession, ClientSubscription, DataValue, OPCUAClient } from 'node-opcua-client';
import { QUALITY, type Source, type SourceContext, type SourceEvent, type SourceReading, type SourceStatus } from '../source.ts';
import type { SourceType } from './registry.ts';
import { opcuaSchema, type OpcuaConfig } from './opcua-config.ts';
import { numberOf, qualityOf, timestampOf } from './opcua-values.ts';
import { isSpoolFull, sleep, unlessAborted } from './abortable.ts';
import { SourceStatusTracker } from '../source-status.ts';

export { opcuaSchema, OPCUA_SECURITY_MODES, OPCUA_SECURITY_POLICIES, type OpcuaConfig, type OpcuaTag } from './opcua-config.ts';
export { qualityOf } from './opcua-values.ts';

// The OPC UA stack takes seconds to load: it is loaded when the first OPC UA source starts, not
// whenever millwright is imported.
type OpcuaStack = typeof OpcuaClientModule;
let stack: Promise<[OpcuaStack, typeof CertificateManagerModule]> | undefined;
const loadStack = (): NonNullable<typeof stack> => (stack ??= Promise.all([import('node-opcua-client'), import('node-opcua-certificate-manager')]));

const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 15_000;
/** Samples a server may queue per item between two publishes, so a burst is not sampled away. */
const QUEUE_SIZE = 10;


function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One live connection: client, session, subscription and the monitored items. */
interface Link {
  client: OPCUAClient;
  session?: ClientSession;
  subscription?: ClientSubscription;
  group?: ClientMonitoredItemGroup;
  /** Resolves with the reason once the link is lost (or the source stops). */
  lost: Promise<string>;
  lose(reason: string): void;
}

/**
 * An OPC UA server's variables through one subscription: each tag is a monitored item sampled at
 * `samplingInterval`, read with its source time stamp (else the server's, else the receive time)
 * and its StatusCode as quality. A lost link marks every tag `commFailure`, records
 * `disconnected`, and reconnects with backoff (a new session and subscription, so a restarted
 * server works too); the interval without a link is a `gap` event once connected again. A node id
 * the server does not know is an `error` event naming it, the other tags go on. When the spool is
 * full the subscription's publishing is switched off until there is room, and the interval is a
 * `gap` event.
 *
 * @example
 * import { opcuaSource } from 'millwright';
 * const source = opcuaSource.create(opcuaSource.schema.parse({
 *   name: 'press', type: 'opcua', endpoint: 'opc.tcp://press-plc:4840', samplingInterval: '100ms',
 *   tags: [{ node: 'ns=2;s=Press1.Temperature', asset: 'press1', signal: 'temperature', unit: 'degC' }],
 * }));
 */
export class OpcuaSource implements Source {
  readonly type = 'opcua';
  readonly name: string;
  private readonly config: OpcuaConfig;
  private readonly stopper = new AbortController();
  private loop: Promise<void> | undefined;
  /** Aborted when the gateway or {@link stop} ends the source. */
  private signal: AbortSignal | undefined;
  private link: Link | undefined;
  private readonly st = new SourceStatusTracker();
  private downSince: number | undefined;
  /** Node ids already reported as unusable (one event per source run, not per reconnect). */
  private readonly reportedNodes = new Set<string>();
  /** Tags whose values could not be turned into a number (one reject per run of them). */
  private readonly rejecting = new Set<number>();
  // Delivery: one emit in flight; what arrives meanwhile is the next batch.
  private buffer: SourceReading[] = [];
  private bufferSince = 0;
  private flushing: Promise<void> | undefined;
  private paused = false;
  private droppedWhilePaused = 0;

  constructor(config: OpcuaConfig) {
    this.config = config;
    this.name = config.name;
  }

  start(ctx: SourceContext): Promise<void> {
    this.st.set('starting');
    const signal = AbortSignal.any([ctx.signal, this.stopper.signal]);
    this.signal = signal;
    this.loop = this.run(ctx, signal).catch((err: unknown) => {
      this.st.lastError = messageOf(err);
      this.st.set('error');
      ctx.log(`opcua ${this.name}: stopped on an unexpected error: ${this.st.lastError}`);
    });
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    this.link?.lose('stopping');
    await this.loop;
    await this.flushing;
    this.st.set('stopped');
  }

  status(): SourceStatus {
    return this.st.snapshot(this);
  }

  private async run(ctx: SourceContext, signal: AbortSignal): Promise<void> {
    const pki = join(ctx.stateDir, 'pki');
    await mkdir(pki, { recursive: true });
    const [opcua, { OPCUACertificateManager }] = await loadStack();
    // The client's own certificate and the servers it trusts live in the source's state folder,
    // never in the user's home (node-opcua's default).
    const certificateManager = new OPCUACertificateManager({ rootFolder: pki, automaticallyAcceptUnknownCertificate: false });
    await certificateManager.initialize();
    let failures = 0;
    while (!signal.aborted) {
      const link = this.newLink(opcua, certificateManager);
      this.link = link;
      let reason: string;
      try {
        await this.open(opcua, ctx, link);
        failures = 0;
        reason = (await unlessAborted(link.lost, signal)) ?? 'stopping';
      } catch (err) {
        reason = `cannot connect to ${this.config.endpoint}: ${messageOf(err)}`;
      }
      await this.close(link);
      if (signal.aborted) break;
      await this.linkDown(ctx, reason);
      failures++;
      await sleep(Math.min(FIRST_BACKOFF_MS * 2 ** (failures - 1), MAX_BACKOFF_MS), signal);
    }
    await certificateManager.dispose();
  }

  private newLink(opcua: OpcuaStack, clientCertificateManager: OPCUACertificateManager): Link {
    const { OPCUAClient, MessageSecurityMode, SecurityPolicy } = opcua;
    const { mode, policy, certificate, privateKey } = this.config.security;
    const client = OPCUAClient.create({
      applicationName: `millwright-${this.name}`,
      endpointMustExist: false,
      // One attempt per connect: the source's own loop owns reconnection, so that a restarted
      // server (whose sessions are gone) gets a new session and subscription from scratch.
      connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
      securityMode: MessageSecurityMode[mode],
      securityPolicy: mode === 'None' ? SecurityPolicy.None : SecurityPolicy[policy ?? 'Basic256Sha256'],
      clientCertificateManager,
      ...(certificate !== undefined ? { certificateFile: certificate, privateKeyFile: privateKey } : {}),
      keepSessionAlive: true,
      transportTimeout: 10_000,
      defaultTransactionTimeout: 10_000,
    });
    let lose: (reason: string) => void = () => undefined;
    const lost = new Promise<string>((resolve) => { lose = resolve; });
    client.on('connection_lost', () => lose(`connection to ${this.config.endpoint} lost`));
    client.on('close', (err?: Error | null) => lose(`connection to ${this.config.endpoint} closed${err ? `: ${err.message}` : ''}`));
    return { client, lost, lose: (reason) => lose(reason) };
  }

  /** Connects, subscribes every tag, reports unusable nodes, then `connected` (and the gap before it). */
  private async open(opcua: OpcuaStack, ctx: SourceContext, link: Link): Promise<void> {
    const { AttributeIds, ClientSubscription, TimestampsToReturn } = opcua;
    const interval = this.config.samplingInterval;
    await link.client.connect(this.config.endpoint);
    link.session = await link.client.createSession();
    link.session.on('session_closed', () => link.lose('session closed by the server'));
    link.subscription = ClientSubscription.create(link.session, {
      requestedPublishingInterval: interval,
      requestedLifetimeCount: Math.max(30, Math.ceil(60_000 / interval)),
      requestedMaxKeepAliveCount: Math.max(3, Math.ceil(5_000 / interval)),
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
      priority: 1,
    });
    link.subscription.on('terminated', () => link.lose('subscription terminated by the server'));
    const items = this.config.tags.map((tag) => ({ nodeId: tag.node, attributeId: AttributeIds.Value }));
    link.group = await link.subscription.monitorItems(items, { samplingInterval: interval, discardOldest: true, queueSize: QUEUE_SIZE }, TimestampsToReturn.Both);
    link.group.on('changed', (_item, dataValue, index) => this.onChange(ctx, index, dataValue));
    await this.stateEvent(ctx, 'connected', `connected to ${this.config.endpoint} (${this.config.security.mode}), ${this.config.tags.length} tags at ${interval} ms`);
    if (this.downSince !== undefined) {
      const from = this.downSince;
      this.downSince = undefined;
      const to = Date.now();
      await this.safeEvent(ctx, { ts: to, kind: 'gap', from, to, message: `no link to ${this.config.endpoint} from ${new Date(from).toISOString()}: changes in between are lost` });
    }
    await this.reportBadNodes(ctx, link.group);
  }

  private async reportBadNodes(ctx: SourceContext, group: ClientMonitoredItemGroup): Promise<void> {
    for (let i = 0; i < group.monitoredItems.length; i++) {
      const status = group.monitoredItems[i].statusCode;
      const tag = this.config.tags[i];
      if (status.isGood() || this.reportedNodes.has(tag.node)) continue;
      this.reportedNodes.add(tag.node);
      await this.safeEvent(ctx, { ts: Date.now(), kind: 'error', asset: tag.asset, signal: tag.signal, message: `node ${tag.node} cannot be monitored: ${status.name} (${status.description})` });
    }
  }

  private async close(link: Link): Promise<void> {
    this.link = undefined;
    try {
      await Promise.race([link.client.disconnect(), new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
    } catch {
      // The link is gone either way; a failed goodbye changes nothing.
    }
  }

  /** After a lost link: every tag commFailure, `disconnected` once per outage. */
  private async linkDown(ctx: SourceContext, reason: string): Promise<void> {
    if (this.st.state === 'disconnected') return;
    const ts = Date.now();
    this.downSince = ts;
    if (this.st.state === 'connected' || this.st.state === 'paused') {
      for (const tag of this.config.tags) this.push({ ts, asset: tag.asset, signal: tag.signal, value: Number.NaN, quality: QUALITY.commFailure });
      this.schedule(ctx);
      // The commFailure readings go before the event, so the store reads in order.
      if (!this.paused) await this.flushing;
    }
    await this.stateEvent(ctx, 'disconnected', reason);
  }

  private onChange(ctx: SourceContext, index: number, dataValue: DataValue): void {
    const tag = this.config.tags[index];
    if (tag === undefined) return;
    const quality = qualityOf(dataValue.statusCode);
    const value = numberOf(dataValue);
    const ts = timestampOf(dataValue, Date.now());
    if (typeof value === 'number') {
      this.rejecting.delete(index);
      this.push({ ts, asset: tag.asset, signal: tag.signal, value, quality });
    } else if (quality !== QUALITY.good) {
      this.push({ ts, asset: tag.asset, signal: tag.signal, value: Number.NaN, quality });
    } else if (!this.rejecting.has(index)) {
      this.rejecting.add(index);
      void this.safeEvent(ctx, { ts, kind: 'reject', asset: tag.asset, signal: tag.signal, message: `node ${tag.node} holds ${value}: no reading` });
    }
    this.schedule(ctx);
  }

  private schedule(ctx: SourceContext): void {
    if (this.flushing === undefined && this.buffer.length > 0) this.flushing = this.flush(ctx);
  }

  private push(reading: SourceReading): void {
    if (this.paused) { this.droppedWhilePaused++; return; }
    if (this.buffer.length === 0) this.bufferSince = Date.now();
    this.buffer.push(reading);
  }

  /** Emits the buffer batch by batch, one emit in flight; a full spool pauses publishing. */
  private async flush(ctx: SourceContext): Promise<void> {
    // Let the rest of this publish response's notifications join the batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.buffer.length > 0) {
        const batch = this.buffer;
        const since = this.bufferSince;
        this.buffer = [];
        try {
          await ctx.emit(batch);
          this.st.counted(batch.length, batch[batch.length - 1].ts);
        } catch (err) {
          if (!isSpoolFull(err)) throw err;
          await this.pauseUntilSpace(ctx, since, batch.length);
        }
      }
    } catch (err) {
      ctx.log(`opcua ${this.name}: readings not delivered: ${messageOf(err)}`);
    } finally {
      this.flushing = undefined;
    }
  }

  private async pauseUntilSpace(ctx: SourceContext, from: number, lost: number): Promise<void> {
    this.paused = true;
    this.droppedWhilePaused = lost + this.buffer.length;
    this.buffer = [];
    const before = this.st.state;
    this.st.set('paused');
    const subscription = this.link?.subscription;
    await subscription?.setPublishingMode(false).catch(() => undefined);
    await this.safeEvent(ctx, { ts: Date.now(), kind: 'paused', message: 'spool full: publishing paused' });
    await unlessAborted(ctx.waitForSpace(), this.signal ?? this.stopper.signal);
    const to = Date.now();
    this.paused = false;
    if (this.st.state === 'paused') this.st.set(before);
    await this.safeEvent(ctx, { ts: to, kind: 'gap', from, to, message: `spool full: ${this.droppedWhilePaused} changes from ${new Date(from).toISOString()} on not taken` });
    await subscription?.setPublishingMode(true).catch(() => undefined);
    await this.safeEvent(ctx, { ts: to, kind: 'resumed', message: 'spool has room: publishing again' });
  }

  private async stateEvent(ctx: SourceContext, kind: 'connected' | 'disconnected', message: string): Promise<void> {
    this.st.set(kind);
    this.st.lastError = kind === 'disconnected' ? message : undefined;
    ctx.log(`opcua ${this.name}: ${kind}: ${message}`);
    await this.safeEvent(ctx, { ts: Date.now(), kind, message });
  }

  private async safeEvent(ctx: SourceContext, event: SourceEvent): Promise<void> {
    try {
      await ctx.event(event);
    } catch (err) {
      ctx.log(`opcua ${this.name}: event not recorded (${isSpoolFull(err) ? 'spool full' : messageOf(err)}): ${event.kind} ${event.message ?? ''}`);
    }
  }
}

/**
 * The `opcua` source type for the gateway's registry.
 *
 * @example
 * import { opcuaSource } from 'millwright';
 * opcuaSource.schema.parse({ name: 'press', type: 'opcua', endpoint: 'opc.tcp://press-plc:4840',
 *   tags: [{ node: 'ns=2;s=Press1.Temperature', asset: 'press1', signal: 'temperature' }] });
 */
export const opcuaSource: SourceType<typeof opcuaSchema> = {
  type: 'opcua',
  schema: opcuaSchema,
  create: (config) => new OpcuaSource(config),
  assets: (config) => [...new Set(config.tags.map((t) => t.asset))],
  resolvePaths: (config, baseDir) => {
    const { certificate, privateKey } = config.security;
    if (certificate === undefined || privateKey === undefined) return config;
    return { ...config, security: { ...config.security, certificate: resolve(baseDir, certificate), privateKey: resolve(baseDir, privateKey) } };
  },
};
