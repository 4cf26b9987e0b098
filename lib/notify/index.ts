/**
 * Notifications with a durable outbox: alarm rows become notifications, each written to disk
 * before it is attempted, delivered at least once and in order per channel (webhook, e-mail over
 * SMTP, MQTT), with an idempotency key a receiver dedupes on.
 *
 * @example
 * import { loadNotifyConfig, createOutbox, alarmToNotification } from 'millwright';
 * const cfg = await loadNotifyConfig('notify.yaml');
 * const outbox = await createOutbox({ dir: cfg.outbox, channels: cfg.channels, routes: cfg.routes, link: cfg.link });
 * await outbox.enqueue(alarmToNotification(row));
 *
 * @packageDocumentation
 */
export { alarmToNotification, notificationKey, checkNotification, type Notification, type AlarmEventRow } from './notification.ts';
export { renderEmail, renderJson, linkFor } from './templates.ts';
export {
  parseNotifyConfig, loadNotifyConfig, notifyConfigSchema,
  type NotifyConfig, type ChannelConfig, type WebhookConfig, type EmailConfig, type MqttConfig, type Route, type RetryOptions,
} from './config.ts';
export { createChannel, DeliveryFailure, type Channel } from './channels.ts';
export { createOutbox, outboxStatus, deadLetters, type Outbox, type OutboxOptions, type EnqueueResult, type ChannelStatus, type RunResult } from './outbox.ts';
export { AlarmFeed, type AlarmFeedResult, type AlarmFeedSnapshot } from './alarm-feed.ts';
