import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { MillwrightError } from '../errors/index.ts';
import { EVENT_SEVERITIES, type EventSeverity } from '../store/index.ts';
import { parseDuration } from '../units/index.ts';

const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return typeof value === 'number' ? value : parseDuration(value, { what: 'duration', positive: true, bareNumber: 'reject' });
  } catch {
    ctx.addIssue({ code: 'custom', message: `expected a duration such as 500ms, 30s, 5m (got ${JSON.stringify(value)})` });
    return z.NEVER;
  }
});

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'expected a name of letters, digits, "_" or "-"');

const webhook = z.strictObject({
  type: z.literal('webhook'),
  url: z.url({ protocol: /^https?$/ }),
  headers: z.record(z.string(), z.string()).optional(),
  /** Per-request timeout (default 10 s). */
  timeout: duration.optional(),
});

const email = z.strictObject({
  type: z.literal('email'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  secure: z.boolean().optional(),
  ignoreTLS: z.boolean().optional(),
  auth: z.strictObject({ user: z.string(), pass: z.string() }).optional(),
  from: z.string().min(3),
  to: z.union([z.string().min(3), z.array(z.string().min(3)).min(1)]),
  timeout: duration.optional(),
});

const mqtt = z.strictObject({
  type: z.literal('mqtt'),
  url: z.string().regex(/^mqtts?:\/\/./, 'expected mqtt://host:port or mqtts://host:port'),
  topic: z.string().min(1).refine((t) => !/[#+]/.test(t), 'a publish topic cannot hold the wildcards # or +'),
  clientId: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  timeout: duration.optional(),
});

const channel = z.discriminatedUnion('type', [webhook, email, mqtt]);

const route = z.strictObject({
  channel: name,
  /** Only these severities (default: all). */
  severities: z.array(z.enum(EVENT_SEVERITIES)).min(1).optional(),
  /** Only these assets; `*` matches any run of characters (default: all). */
  assets: z.array(z.string().min(1)).min(1).optional(),
  /** Only these kinds (`alarm`, `test`, ...; default: all). */
  kinds: z.array(z.string().min(1)).min(1).optional(),
});

const retry = z.strictObject({
  /** First wait after a failure (default 500 ms), doubled each time up to `max`. */
  initial: duration.optional(),
  max: duration.optional(),
});

/** The zod schema of a notify config file. */
export const notifyConfigSchema = z.strictObject({
  outbox: z.string().min(1),
  /** Link in every notification: a base URL or a template with {asset}, {signal}, {from}, {to}, {query}, ... */
  link: z.string().min(1).optional(),
  channels: z.record(name, channel).refine((c) => Object.keys(c).length > 0, 'define at least one channel'),
  routes: z.array(route).optional(),
  retry: retry.optional(),
});

/** A webhook channel: HTTP POST of the JSON body with an `Idempotency-Key` header. */
export type WebhookConfig = z.output<typeof webhook>;
/** An e-mail channel over SMTP (nodemailer); the key is the Message-ID. */
export type EmailConfig = z.output<typeof email>;
/** An MQTT channel: QoS 1 publish, the key as MQTT 5 user property and in the payload. */
export type MqttConfig = z.output<typeof mqtt>;
/** One channel's settings. */
export type ChannelConfig = WebhookConfig | EmailConfig | MqttConfig;
/** Which notifications go to a channel. */
export interface Route {
  channel: string;
  severities?: EventSeverity[];
  assets?: string[];
  kinds?: string[];
}
/** Backoff of a failing channel. */
export interface RetryOptions {
  initial?: number;
  max?: number;
}

/** A validated notify config. */
export interface NotifyConfig {
  /** Absolute outbox folder. */
  outbox: string;
  link?: string;
  channels: Record<string, ChannelConfig>;
  /** Routes; absent means every notification goes to every channel. */
  routes?: Route[];
  retry?: RetryOptions;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? '(top level)' : out;
}

/**
 * Validates a notify config object (parsed YAML/JSON). Every problem is reported as
 * `key.path: message` in one BAD_INPUT; a route naming an unknown channel is one of them.
 *
 * @example
 * import { parseNotifyConfig } from 'millwright';
 * const cfg = parseNotifyConfig({ outbox: 'outbox', channels: { ops: { type: 'webhook', url: 'http://127.0.0.1:8080/hook' } } }, process.cwd());
 */
export function parseNotifyConfig(data: unknown, baseDir: string, what = 'notify config'): NotifyConfig {
  const r = notifyConfigSchema.safeParse(data);
  const lines = r.success ? [] : r.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
  if (r.success) {
    r.data.routes?.forEach((rt, i) => {
      if (!(rt.channel in r.data.channels)) lines.push(`routes[${i}].channel: unknown channel "${rt.channel}" (defined: ${Object.keys(r.data.channels).join(', ')})`);
    });
  }
  if (!r.success || lines.length > 0) {
    throw new MillwrightError('BAD_INPUT', `${what} is invalid (${lines.length} problem${lines.length === 1 ? '' : 's'}):\n  ${lines.join('\n  ')}`, { details: { issues: lines } });
  }
  const c = r.data;
  return { outbox: resolve(baseDir, c.outbox), link: c.link, channels: c.channels, routes: c.routes, retry: c.retry };
}

/**
 * Reads and validates a notify config file (YAML, or JSON by extension); `outbox` resolves
 * against the file's folder.
 *
 * @example
 * import { loadNotifyConfig, createOutbox } from 'millwright';
 * const cfg = await loadNotifyConfig('notify.yaml');
 * const outbox = await createOutbox({ dir: cfg.outbox, channels: cfg.channels, routes: cfg.routes, link: cfg.link });
 */
export async function loadNotifyConfig(path: string): Promise<NotifyConfig> {
  const abs = resolve(path);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    throw new MillwrightError('NOT_FOUND', `notify config ${abs}: ${(err as Error).message}`, { cause: err });
  }
  let data: unknown;
  const json = extname(abs).toLowerCase() === '.json';
  try {
    data = json ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `${abs} is not valid ${json ? 'JSON' : 'YAML'}: ${(err as Error).message}`, { cause: err });
  }
  return parseNotifyConfig(data, dirname(abs), `notify config ${abs}`);
}
