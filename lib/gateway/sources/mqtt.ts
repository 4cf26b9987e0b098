import { z } from 'zod';
import { durationField, sourceBase } from '../config-fields.ts';
import { compileJsonPath } from '../json-path.ts';
import { compileTemplate, compileTopicPattern } from '../topic-pattern.ts';
import type { Source, SourceContext, SourceStatus } from '../source.ts';
import type { SourceType } from './registry.ts';
import { compileTopic, MqttDecoder, staticAssets, type CompiledTopic, type MqttTopicConfig } from './mqtt-mapping.ts';
import { MqttSession, type MqttSessionOptions } from './mqtt-session.ts';

/** A config check that runs a compiler and turns its error into a zod issue at this key. */
function checked(compile: (s: string) => unknown) {
  return z.string().min(1).superRefine((s, ctx) => {
    try {
      compile(s);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });
}

const jsonPathField = checked((s) => compileJsonPath(s));

const topicSchema = z
  .strictObject({
    topic: checked((s) => compileTopicPattern(s)),
    format: z.enum(['json', 'text']).default('json'),
    asset: z.string().min(1),
    signal: z.string().min(1),
    unit: z.string().optional(),
    value: jsonPathField.default('$'),
    ts: jsonPathField.optional(),
    tsUnit: z.enum(['ms', 's', 'us', 'ns']).default('ms'),
    quality: jsonPathField.optional(),
    items: checked((s) => compileJsonPath(s, { allowAll: true })).optional(),
  })
  .superRefine((t, ctx) => {
    // {n} beyond the filter's wildcards is a typo to catch at start-up, not per message.
    let pattern;
    try {
      pattern = compileTopicPattern(t.topic);
    } catch {
      return;
    }
    for (const key of ['asset', 'signal'] as const) {
      const template = t[key];
      if (template.startsWith('$')) {
        try {
          compileJsonPath(template);
        } catch (err) {
          ctx.addIssue({ code: 'custom', path: [key], message: (err as Error).message });
        }
        continue;
      }
      try {
        compileTemplate(template, pattern, key);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: [key], message: (err as Error).message });
      }
    }
  });

/** Shared connection keys of the MQTT-based sources (mqtt, sparkplug). */
export const mqttConnectionFields = {
  url: z.string().regex(/^(mqtts?|tcp|ssl):\/\/[^/\s]+$/, 'expected mqtt://host:port (or mqtts://)'),
  clientId: z.string().min(1).max(128),
  username: z.string().optional(),
  password: z.string().optional(),
  /** How long the broker keeps the session while the gateway is away (default 7 days). */
  sessionExpiry: durationField.default(7 * 86_400_000),
  /** Un-acknowledged messages the broker may send ahead (MQTT 5 Receive Maximum). */
  inflight: z.number().int().min(1).max(65_535).default(1000),
  keepalive: durationField.default(30_000),
};

/** The config entry of an MQTT source (`type: mqtt`). */
export const mqttSchema = z.strictObject({
  ...sourceBase,
  type: z.literal('mqtt'),
  ...mqttConnectionFields,
  qos: z.union([z.literal(0), z.literal(1)]).default(1),
  topics: z.array(topicSchema).min(1),
});

export type MqttSourceConfig = z.output<typeof mqttSchema>;

/** The session options both MQTT-based sources share, from their config. */
export function sessionOptions(config: Pick<MqttSourceConfig, 'name' | 'url' | 'clientId' | 'username' | 'password' | 'sessionExpiry' | 'inflight' | 'keepalive'>): Omit<MqttSessionOptions, 'type' | 'subscriptions' | 'qos' | 'decode'> {
  return {
    name: config.name,
    url: config.url,
    clientId: config.clientId,
    username: config.username,
    password: config.password,
    sessionExpiry: Math.min(0xffffffff, Math.round(config.sessionExpiry / 1000)),
    inflight: config.inflight,
    keepalive: Math.max(1, Math.round(config.keepalive / 1000)),
    reconnectMs: 1000,
  };
}

/** Test and benchmark hooks (not config). */
export interface MqttSourceHooks {
  onAck?: MqttSessionOptions['onAck'];
  reconnectMs?: number;
}

class MqttSource implements Source {
  readonly name: string;
  readonly type = 'mqtt';
  private readonly session: MqttSession;

  constructor(config: MqttSourceConfig, hooks: MqttSourceHooks = {}) {
    this.name = config.name;
    const topics: CompiledTopic[] = config.topics.map((t) => compileTopic(t as MqttTopicConfig));
    const decoder = new MqttDecoder(topics);
    this.session = new MqttSession({
      ...sessionOptions(config),
      ...(hooks.reconnectMs === undefined ? {} : { reconnectMs: hooks.reconnectMs }),
      type: 'mqtt',
      subscriptions: [...new Set(topics.map((t) => t.pattern.filter))],
      qos: config.qos,
      decode: (topic, payload, receivedAt) => decoder.decode(topic, payload, receivedAt),
      onAck: hooks.onAck,
    });
  }

  start(ctx: SourceContext): Promise<void> {
    return this.session.start(ctx);
  }

  stop(): Promise<void> {
    return this.session.stop();
  }

  status(): SourceStatus {
    return this.session.status();
  }
}

/**
 * An MQTT source from its (validated) config entry. The gateway makes sources from the config
 * file; call this directly to run one in a program of your own.
 *
 * @example
 * import { createMqttSource, mqttSchema } from 'millwright';
 * const source = createMqttSource(mqttSchema.parse({
 *   name: 'line', type: 'mqtt', url: 'mqtt://broker:1883', clientId: 'mw-gw-1',
 *   topics: [{ topic: 'plant/+/+', asset: '{1}', signal: '{2}', value: '$.v', ts: '$.t' }],
 * }));
 */
export function createMqttSource(config: MqttSourceConfig, hooks?: MqttSourceHooks): Source {
  return new MqttSource(config, hooks);
}

/** `type: mqtt`: JSON (or plain-number) payloads mapped by topic pattern and JSON paths. */
export const mqttSourceType: SourceType<typeof mqttSchema> = {
  type: 'mqtt',
  schema: mqttSchema,
  create: (config) => createMqttSource(config),
  assets: (config) => [...new Set(config.topics.flatMap((t) => staticAssets(t as MqttTopicConfig)))],
};
