import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../durable/index.ts';
import { sourceBase } from '../config-fields.ts';
import type { Source, SourceContext, SourceStatus } from '../source.ts';
import type { SourceType } from './registry.ts';
import { mqttConnectionFields, sessionOptions, type MqttSourceHooks } from './mqtt.ts';
import { MqttSession } from './mqtt-session.ts';
import { SparkplugState, spB, type SavedState } from './sparkplug-state.ts';

const sparkplugId = z.string().regex(/^[^/#+\s]+$/, 'expected a Sparkplug id (no "/", "#", "+" or spaces)');

/** The config entry of a Sparkplug B source (`type: sparkplug`). */
export const sparkplugSchema = z.strictObject({
  ...sourceBase,
  type: z.literal('sparkplug'),
  ...mqttConnectionFields,
  clientId: z.string().min(1).max(128).optional(),
  groupId: sparkplugId,
  /** Only these edge nodes (default: every node of the group). */
  nodes: z.array(sparkplugId).min(1).optional(),
  /** asset = device id (node id for node metrics), the node id, or the metric name's prefix before its last "/". */
  assetFrom: z.enum(['device', 'node', 'metric-prefix']).default('device'),
});

export type SparkplugSourceConfig = z.output<typeof sparkplugSchema>;

const STATE_FILE = 'sparkplug-births.json';

class SparkplugSource implements Source {
  readonly name: string;
  readonly type = 'sparkplug';
  private readonly session: MqttSession;
  private readonly state: SparkplugState;
  private readonly group: string;
  private ctx: SourceContext | undefined;

  constructor(config: SparkplugSourceConfig, hooks: MqttSourceHooks = {}) {
    this.name = config.name;
    this.group = config.groupId;
    this.state = new SparkplugState(config.groupId, config.assetFrom, config.nodes ? new Set(config.nodes) : undefined, (node) => this.requestRebirth(node));
    this.session = new MqttSession({
      ...sessionOptions({ ...config, clientId: config.clientId ?? `millwright-${config.name}` }),
      ...(hooks.reconnectMs === undefined ? {} : { reconnectMs: hooks.reconnectMs }),
      type: 'sparkplug',
      subscriptions: [`spBv1.0/${config.groupId}/#`],
      qos: 1,
      decode: (topic, payload, receivedAt) => this.state.decode(topic, payload, receivedAt),
      beforeAck: () => this.saveState(),
      onAck: hooks.onAck,
    });
  }

  /** NCMD `Node Control/Rebirth` = true (QoS 0, as Sparkplug requires for commands). */
  private requestRebirth(node: string): void {
    const client = this.session.mqtt;
    const topic = `spBv1.0/${this.group}/NCMD/${node}`;
    this.ctx?.log(`requesting a rebirth of ${this.group}/${node}${client ? '' : ' (not connected: the next DATA asks again)'}`);
    client?.publish(topic, Buffer.from(spB.encodePayload({ timestamp: Date.now(), metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }] })), { qos: 0 });
  }

  /**
   * Saves the birth definitions before the BIRTH's PUBACK, so a restarted gateway still resolves
   * aliases: the broker does not redeliver an acknowledged BIRTH.
   */
  private async saveState(): Promise<void> {
    if (!this.state.dirty || !this.ctx) return;
    await writeFileAtomic(join(this.ctx.stateDir, STATE_FILE), JSON.stringify(this.state.snapshot()));
  }

  async start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    const saved = await readFile(join(ctx.stateDir, STATE_FILE), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (saved !== undefined) {
      try {
        this.state.restore(JSON.parse(saved) as SavedState);
      } catch (err) {
        // Unreadable state costs a rebirth request, not the source.
        ctx.log(`ignoring ${STATE_FILE}: ${(err as Error).message}`);
      }
    }
    await this.session.start(ctx);
  }

  stop(): Promise<void> {
    return this.session.stop();
  }

  status(): SourceStatus {
    return this.session.status();
  }
}

/**
 * A Sparkplug B host source from its (validated) config entry.
 *
 * @example
 * import { createSparkplugSource, sparkplugSchema } from 'millwright';
 * const source = createSparkplugSource(sparkplugSchema.parse({ name: 'scada', type: 'sparkplug', url: 'mqtt://broker:1883', groupId: 'Plant1' }));
 */
export function createSparkplugSource(config: SparkplugSourceConfig, hooks?: MqttSourceHooks): Source {
  return new SparkplugSource(config, hooks);
}

/** `type: sparkplug`: Sparkplug B (protobuf) births, data and deaths of one group. */
export const sparkplugSourceType: SourceType<typeof sparkplugSchema> = {
  type: 'sparkplug',
  schema: sparkplugSchema,
  create: (config) => createSparkplugSource(config),
  assets: () => [],
};
