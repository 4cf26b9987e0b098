import nodemailer from 'nodemailer';
import { connect, type MqttClient } from 'mqtt';
import type { ChannelConfig, EmailConfig, MqttConfig, WebhookConfig } from './config.ts';
import type { Notification } from './notification.ts';
import { renderEmail, renderJson } from './templates.ts';

/**
 * Why one delivery attempt failed. `permanent` failures (a 4xx other than 408/429, an SMTP 5xx)
 * are dead-lettered at once, since sending the same thing again cannot succeed; the others are
 * retried with backoff.
 */
export class DeliveryFailure extends Error {
  constructor(message: string, readonly permanent: boolean) {
    super(message);
    this.name = 'DeliveryFailure';
  }
}

/** A delivery channel: sends one notification, resolves when the receiver accepted it. */
export interface Channel {
  readonly name: string;
  readonly type: string;
  send(n: Notification): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT = 10_000;

function webhookChannel(name: string, cfg: WebhookConfig, link: string | undefined): Channel {
  return {
    name,
    type: 'webhook',
    async send(n) {
      let res: Response;
      try {
        res = await fetch(cfg.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...cfg.headers, 'idempotency-key': n.key },
          body: JSON.stringify(renderJson(n, link)),
          signal: AbortSignal.timeout(cfg.timeout ?? DEFAULT_TIMEOUT),
          redirect: 'error',
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code;
        throw new DeliveryFailure(`POST ${cfg.url}: ${cause ?? (err as Error).message}`, false);
      }
      const body = await res.text().catch(() => '');
      if (res.status >= 200 && res.status < 300) return;
      const reason = `POST ${cfg.url}: HTTP ${res.status}${body ? ` ${body.slice(0, 200)}` : ''}`;
      throw new DeliveryFailure(reason, res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429);
    },
    async close() {},
  };
}

function emailChannel(name: string, cfg: EmailConfig, link: string | undefined): Channel {
  const timeout = cfg.timeout ?? DEFAULT_TIMEOUT;
  // One connection per attempt (no pool): a sink that restarted must not leave us on a dead socket.
  const transport = nodemailer.createTransport({
    host: cfg.host, port: cfg.port, secure: cfg.secure ?? false, ignoreTLS: cfg.ignoreTLS ?? false, auth: cfg.auth,
    connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout,
  });
  const domain = cfg.from.includes('@') ? cfg.from.slice(cfg.from.lastIndexOf('@') + 1).replace(/>.*$/, '') : 'millwright';
  return {
    name,
    type: 'email',
    async send(n) {
      const m = renderEmail(n, link);
      try {
        await transport.sendMail({
          from: cfg.from, to: cfg.to, subject: m.subject, text: m.text, html: m.html,
          messageId: `<${n.key}@${domain}>`,
          headers: { 'X-Idempotency-Key': n.key },
        });
      } catch (err) {
        const code = (err as { responseCode?: number }).responseCode;
        // SMTP 5xx replies are final (unknown mailbox, rejected); 4xx and network errors are not.
        throw new DeliveryFailure(`SMTP ${cfg.host}:${cfg.port}: ${(err as Error).message}`, code !== undefined && code >= 500 && code < 600);
      }
    },
    async close() {
      transport.close();
    },
  };
}

function mqttChannel(name: string, cfg: MqttConfig, link: string | undefined): Channel {
  let client: MqttClient | undefined;
  const timeout = cfg.timeout ?? DEFAULT_TIMEOUT;
  const ensure = (): MqttClient => {
    client ??= connect(cfg.url, {
      protocolVersion: 5, clientId: cfg.clientId, username: cfg.username, password: cfg.password,
      reconnectPeriod: 500, connectTimeout: timeout,
    });
    // Errors surface as failed publishes; without a listener mqtt.js would throw them.
    client.on('error', () => {});
    return client;
  };
  return {
    name,
    type: 'mqtt',
    async send(n) {
      const c = ensure();
      if (!c.connected) {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => {
            c.off('connect', ok);
            reject(new DeliveryFailure(`MQTT ${cfg.url}: not connected`, false));
          }, Math.min(timeout, 2_000));
          const ok = () => {
            clearTimeout(t);
            resolve();
          };
          c.once('connect', ok);
        });
      }
      const payload = JSON.stringify(renderJson(n, link));
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new DeliveryFailure(`MQTT ${cfg.url}: no PUBACK within ${timeout} ms`, false)), timeout);
        c.publish(cfg.topic, payload, { qos: 1, properties: { userProperties: { 'idempotency-key': n.key }, contentType: 'application/json' } }, (err, packet) => {
          clearTimeout(t);
          const rc = (packet as { reasonCode?: number } | undefined)?.reasonCode;
          if (err) reject(new DeliveryFailure(`MQTT ${cfg.url}: ${err.message}`, false));
          // MQTT 5 reason codes >= 0x80 on a PUBACK: the broker refused (e.g. not authorized).
          else if (rc !== undefined && rc >= 0x80) reject(new DeliveryFailure(`MQTT ${cfg.url}: PUBACK reason code 0x${rc.toString(16)}`, rc === 0x87 || rc === 0x90));
          else resolve();
        });
      });
    },
    async close() {
      if (client) await client.endAsync(true).catch(() => {});
      client = undefined;
    },
  };
}

/** Builds the channel for a validated config entry. */
export function createChannel(name: string, cfg: ChannelConfig, link?: string): Channel {
  switch (cfg.type) {
    case 'webhook':
      return webhookChannel(name, cfg, link);
    case 'email':
      return emailChannel(name, cfg, link);
    case 'mqtt':
      return mqttChannel(name, cfg, link);
  }
}
