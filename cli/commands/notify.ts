import { numberFlag, parseCommandArgs, usageError, type CliIO, type Command } from '../command.ts';
import { resolve } from 'node:path';
import { MillwrightError } from '../../lib/errors/index.ts';
import { parseDuration } from '../../lib/units/index.ts';
import { createChannel, createOutbox, loadNotifyConfig, notificationKey, outboxStatus, type ChannelStatus, type Notification } from '../../lib/notify/index.ts';

const USAGE = `millwright notify test --config notify.yaml --channel NAME
millwright notify run (--config notify.yaml | --channels notify.yaml) [--outbox DIR] [--poll D]
millwright notify drain --config notify.yaml [--give-up-after N]
millwright notify status (--dir OUTBOX | --config notify.yaml) [--json]

Notifications go through a durable outbox (see docs/notifications.md): each one is written and
fsynced under the outbox folder before it is attempted, then delivered at least once, in order
per channel (webhook, e-mail over SMTP, MQTT), with an idempotency key the receiver dedupes on.

test: sends one test notification straight to the channel (not through the outbox) and says
whether the receiver accepted it (exit 0) or why not (exit 1).

run: the delivery daemon. Delivers every channel's queue until SIGTERM/SIGINT, in order, retrying a
channel that is down with backoff for as long as it takes; picks up at once what the gateway
(notify: key) or "alarms run --notify" enqueue from other processes. A SIGKILL loses nothing: what
was not confirmed is sent again (same key) at the next start. One deliverer per outbox.

drain: delivers every channel's backlog once, retrying a failing channel with backoff up to
--give-up-after attempts on one notification (default 5); what a channel could not take stays in
the outbox for the next drain. Exit 0 when every queue is empty, 1 otherwise.

status: per channel, the pending, delivered and dead-lettered notifications of the outbox.

Options:
  --config FILE        notify config (YAML, or JSON by a .json extension)
  --channels FILE      run: the same as --config
  --outbox DIR         run: the outbox folder (default: the config's outbox)
  --poll D             run: also list the queues this often (default 1s; a folder watch wakes it sooner)
  --channel NAME       test: the channel to send to
  --dir DIR            status: the outbox folder
  --give-up-after N    drain: attempts per notification before leaving a channel's backlog (default 5)
  --json               status: print JSON

Examples:
  millwright notify test --config notify.yaml --channel ops-webhook
  millwright notify run --channels notify.yaml --outbox /var/lib/millwright/outbox
  millwright notify drain --config notify.yaml
  millwright notify status --dir /var/lib/millwright/outbox`;

function printStatus(io: CliIO, st: Record<string, ChannelStatus>): void {
  const rows = Object.entries(st);
  if (rows.length === 0) {
    io.out('no channels in this outbox\n');
    return;
  }
  io.out(`${'channel'.padEnd(20)} ${'pending'.padStart(8)} ${'delivered'.padStart(10)} ${'dead'.padStart(6)}  oldest pending\n`);
  for (const [ch, s] of rows) {
    const oldest = s.oldestPending === undefined ? '-' : new Date(s.oldestPending).toISOString();
    io.out(`${ch.padEnd(20)} ${String(s.pending).padStart(8)} ${String(s.delivered).padStart(10)} ${String(s.dead).padStart(6)}  ${oldest}\n`);
  }
}

async function runTest(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(args, { options: { config: { type: 'string' }, channel: { type: 'string' } } });
  if (!values.config) throw usageError('notify test needs --config FILE');
  if (!values.channel) throw usageError('notify test needs --channel NAME');
  const cfg = await loadNotifyConfig(resolve(io.cwd, values.config));
  const chCfg = cfg.channels[values.channel];
  if (!chCfg) throw new MillwrightError('NOT_FOUND', `channel "${values.channel}" is not in ${values.config} (defined: ${Object.keys(cfg.channels).join(', ')})`);
  const ts = Date.now();
  const n: Notification = {
    key: notificationKey(['test', values.channel, ts]),
    kind: 'test', severity: 'info', ts,
    title: `millwright test notification for channel ${values.channel}`,
  };
  const channel = createChannel(values.channel, chCfg, cfg.link);
  try {
    await channel.send(n);
  } catch (err) {
    throw new MillwrightError('UNAVAILABLE', `channel ${values.channel} (${chCfg.type}) did not accept the test notification: ${(err as Error).message}`, { cause: err });
  } finally {
    await channel.close();
  }
  io.out(`sent test notification ${n.key} to ${values.channel} (${chCfg.type})\n`);
  return 0;
}

async function runDrain(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(args, { options: { config: { type: 'string' }, 'give-up-after': { type: 'string' } } });
  if (!values.config) throw usageError('notify drain needs --config FILE');
  const giveUpAfter = numberFlag('give-up-after', values['give-up-after'], { integer: true, min: 1 }) ?? 5;
  const cfg = await loadNotifyConfig(resolve(io.cwd, values.config));
  const outbox = await createOutbox({ dir: cfg.outbox, channels: cfg.channels, routes: cfg.routes, link: cfg.link, retry: cfg.retry, log: (l) => io.err(`${l}\n`) });
  try {
    const r = await outbox.run(undefined, { once: true, giveUpAfter });
    io.out(`delivered ${r.delivered}, dead-lettered ${r.dead}${r.gaveUp.length ? `; gave up on ${r.gaveUp.join(', ')} (backlog kept)` : ''}\n`);
    printStatus(io, await outbox.status());
    return r.gaveUp.length > 0 ? 1 : 0;
  } finally {
    await outbox.close();
  }
}

async function runDaemon(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(args, { options: { config: { type: 'string' }, channels: { type: 'string' }, outbox: { type: 'string' }, poll: { type: 'string' } } });
  if (values.config && values.channels) throw usageError('notify run takes --config or --channels (the same file), not both');
  const file = values.config ?? values.channels;
  if (!file) throw usageError('notify run needs --channels FILE (a notify config)');
  const cfg = await loadNotifyConfig(resolve(io.cwd, file));
  const dir = values.outbox ? resolve(io.cwd, values.outbox) : cfg.outbox;
  const pollMs = values.poll === undefined ? undefined : parseDuration(values.poll, { what: '--poll', positive: true, code: 'USAGE', bareNumber: 'reject' });
  const log = (l: string) => io.err(`${new Date().toISOString()} ${l}\n`);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const outbox = await createOutbox({ dir, channels: cfg.channels, routes: cfg.routes, link: cfg.link, retry: cfg.retry, pollMs, log });
  try {
    log(`notify: delivering ${dir} (${Object.keys(cfg.channels).join(', ')}) until SIGTERM`);
    const r = await outbox.run(stop.signal);
    log(`notify: stopped: delivered ${r.delivered}, dead-lettered ${r.dead}`);
    printStatus(io, await outbox.status());
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await outbox.close();
  }
}

async function runStatus(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(args, { options: { config: { type: 'string' }, dir: { type: 'string' }, json: { type: 'boolean' } } });
  if (!values.dir && !values.config) throw usageError('notify status needs --dir OUTBOX or --config FILE');
  const dir = values.dir ? resolve(io.cwd, values.dir) : (await loadNotifyConfig(resolve(io.cwd, values.config!))).outbox;
  const st = await outboxStatus(dir);
  if (values.json) io.out(JSON.stringify(st, null, 2) + '\n');
  else printStatus(io, st);
  return 0;
}

/** `millwright notify run|test|drain|status`. */
export const notify: Command = {
  name: 'notify',
  summary: 'Notifications through the durable outbox: the delivery daemon, a test send, drain the backlog, show the queues',
  usage: USAGE,
  async run(args, io) {
    const [verb, ...rest] = args;
    if (verb === 'test') return runTest(rest, io);
    if (verb === 'run') return runDaemon(rest, io);
    if (verb === 'drain') return runDrain(rest, io);
    if (verb === 'status') return runStatus(rest, io);
    throw usageError(`notify needs a verb: run, test, drain or status (got ${verb === undefined ? 'nothing' : JSON.stringify(verb)})`);
  },
};

export const notifyCommands: Command[] = [notify];
