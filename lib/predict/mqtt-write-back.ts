import { createRequire } from 'node:module';
import { connect, type MqttClient } from 'mqtt';
import type * as SparkplugPayload from 'sparkplug-payload';
import { MillwrightError } from '../errors/index.ts';
import { QUALITY, type QualityCode } from '../gateway/index.ts';
import type { WriteBackMessage, WriteBackSink } from './write-back.ts';

type Codec = NonNullable<ReturnType<typeof SparkplugPayload.get>>;
type UPayload = Parameters<Codec['encodePayload']>[0];
type UMetric = NonNullable<UPayload['metrics']>[number];
const require = createRequire(import.meta.url);
let codec: Codec | undefined;
/** The Sparkplug B codec (sparkplug-payload is CommonJS), loaded on first use. */
export function sparkplugCodec(): Codec {
  return (codec ??= (require('sparkplug-payload') as { get(ns: string): Codec }).get('spBv1.0'));
}

/** Sparkplug's `Quality` property values (OPC DA style): 192 good, 500 stale, 64 uncertain, 0 bad. */
export function sparkplugQuality(q: QualityCode): number {
  return q === QUALITY.good ? 192 : q === QUALITY.stale ? 500 : q === QUALITY.uncertain ? 64 : 0;
}

/** Options of {@link MqttWriteBack}. */
export interface MqttWriteBackOptions {
  /** Broker URL, e.g. `mqtt://127.0.0.1:1883`. */
  url: string;
  /** `json`: one retained message per tag on `<topic>/<tag>`; `sparkplug`: Sparkplug B NBIRTH/NDATA (or DBIRTH/DDATA with `device`). */
  format?: 'json' | 'sparkplug';
  /** Topic prefix of the JSON format. */
  topic?: string;
  /** Sparkplug ids. */
  groupId?: string;
  edgeNode?: string;
  device?: string;
  qos?: 0 | 1;
  username?: string;
  password?: string;
  clientId?: string;
}

const ID = /^[^/#+\s]+$/;

/**
 * Publishes write-back messages to an MQTT broker, as plain JSON (retained, so a control system
 * that connects later sees the state at once) or as Sparkplug B metrics with `Quality`,
 * `ModelVersion` and `Heartbeat` properties. A broker that is down is retried by mqtt.js;
 * messages sent meanwhile are queued by the client.
 *
 * @example
 * import { MqttWriteBack } from 'millwright';
 * const sink = new MqttWriteBack({ url: 'mqtt://127.0.0.1:1883', format: 'sparkplug', groupId: 'plant-a', edgeNode: 'millwright' });
 */
export class MqttWriteBack implements WriteBackSink {
  readonly name: string;
  private client: MqttClient | undefined;
  private seq = 0;
  private born = false;
  private readonly known = new Map<string, WriteBackMessage>();

  constructor(private readonly o: MqttWriteBackOptions) {
    const format = o.format ?? 'json';
    if (format === 'json' && !o.topic) throw new MillwrightError('BAD_INPUT', 'MQTT write-back in JSON needs a topic prefix (e.g. millwright/plant-a)');
    if (format === 'sparkplug') {
      for (const k of ['groupId', 'edgeNode'] as const) if (!o[k] || !ID.test(o[k]!)) throw new MillwrightError('BAD_INPUT', `Sparkplug write-back needs ${k} without "/", "#", "+" or spaces`);
      if (o.device !== undefined && !ID.test(o.device)) throw new MillwrightError('BAD_INPUT', 'Sparkplug device id may not contain "/", "#", "+" or spaces');
    }
    this.name = `mqtt ${o.url}`;
  }

  private get base(): string {
    return `spBv1.0/${this.o.groupId}`;
  }

  private connection(): MqttClient {
    if (this.client) return this.client;
    const sparkplug = this.o.format === 'sparkplug';
    const deathTopic = `${this.base}/NDEATH/${this.o.edgeNode}`;
    this.client = connect(this.o.url, {
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      clean: true,
      ...(this.o.clientId ? { clientId: this.o.clientId } : {}),
      ...(this.o.username !== undefined ? { username: this.o.username, password: this.o.password } : {}),
      ...(sparkplug ? { will: { topic: deathTopic, payload: Buffer.from(sparkplugCodec().encodePayload({ timestamp: Date.now(), metrics: [{ name: 'bdSeq', type: 'UInt64', value: 0 }] })), qos: 0, retain: false } } : {}),
    });
    // A reconnect is a new Sparkplug session: birth again with every known metric.
    this.client.on('connect', () => {
      this.born = false;
      if (sparkplug && this.known.size > 0) void this.birth().catch(() => undefined);
    });
    this.client.on('error', () => undefined);
    return this.client;
  }

  private publish(topic: string, payload: Buffer | string, retain: boolean): Promise<void> {
    return new Promise((resolve, reject) => this.connection().publish(topic, payload, { qos: this.o.qos ?? 1, retain }, (err) => (err ? reject(err) : resolve())));
  }

  private metric(m: WriteBackMessage): UMetric {
    const value = m.value;
    return {
      name: m.name,
      timestamp: m.ts,
      ...(value === null ? { type: 'Double', value: null, isNull: true } : typeof value === 'string' ? { type: 'String', value } : { type: 'Double', value }),
      properties: {
        Quality: { type: 'Int32', value: sparkplugQuality(m.quality) },
        ModelVersion: { type: 'String', value: m.modelVersion },
        Heartbeat: { type: 'UInt64', value: m.heartbeat },
        ...(m.target !== undefined ? { Target: { type: 'DateTime', value: m.target } } : {}),
      },
    } as UMetric;
  }

  private async birth(): Promise<void> {
    const enc = (p: UPayload) => Buffer.from(sparkplugCodec().encodePayload(p));
    this.seq = 0;
    await this.publish(`${this.base}/NBIRTH/${this.o.edgeNode}`, enc({ timestamp: Date.now(), seq: this.seq++, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 0 }, ...(this.o.device ? [] : [...this.known.values()].map((m) => this.metric(m)))] }), false);
    if (this.o.device) await this.publish(`${this.base}/DBIRTH/${this.o.edgeNode}/${this.o.device}`, enc({ timestamp: Date.now(), seq: this.seq++, metrics: [...this.known.values()].map((m) => this.metric(m)) }), false);
    this.born = true;
  }

  async send(messages: WriteBackMessage[]): Promise<void> {
    if ((this.o.format ?? 'json') === 'json') {
      await Promise.all(messages.map((m) => this.publish(`${this.o.topic}/${m.name}`, JSON.stringify(m), true)));
      return;
    }
    const fresh = messages.some((m) => !this.known.has(m.name));
    for (const m of messages) this.known.set(m.name, m);
    // A metric not in the last birth needs a new birth (Sparkplug hosts ignore unknown metrics in DATA).
    if (!this.born || fresh) return this.birth();
    const type = this.o.device ? `DDATA/${this.o.edgeNode}/${this.o.device}` : `NDATA/${this.o.edgeNode}`;
    await this.publish(`${this.base}/${type}`, Buffer.from(sparkplugCodec().encodePayload({ timestamp: Date.now(), seq: this.seq++ % 256, metrics: messages.map((m) => this.metric(m)) })), false);
    this.seq %= 256;
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    if (this.o.format === 'sparkplug' && c.connected) {
      await new Promise<void>((resolve) => c.publish(`${this.base}/NDEATH/${this.o.edgeNode}`, Buffer.from(sparkplugCodec().encodePayload({ timestamp: Date.now(), metrics: [{ name: 'bdSeq', type: 'UInt64', value: 0 }] })), { qos: 0 }, () => resolve()));
    }
    await c.endAsync();
  }
}
