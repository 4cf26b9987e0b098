import { watch, type FSWatcher } from 'node:fs';
import { readFile, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MillwrightError, isErrorCode } from '../errors/index.ts';
import { acquireLock, fsyncDir, mkdirDurable, readdirIfExists, uniqueId, writeFileAtomic, type LockHolder } from '../durable/index.ts';
import { createChannel, DeliveryFailure, type Channel } from './channels.ts';
import type { ChannelConfig, RetryOptions, Route } from './config.ts';
import { alarmToNotification, checkNotification, type AlarmEventRow, type Notification } from './notification.ts';

/** What {@link createOutbox} needs. */
export interface OutboxOptions {
  /** The outbox folder: `<channel>/pending|done|dead/` below it. */
  dir: string;
  /** Channel name to its settings (as in the config file), or to a ready {@link Channel}. */
  channels: Record<string, ChannelConfig | Channel>;
  /** Which notifications go where; absent means every channel gets every notification. */
  routes?: Route[];
  /** Link template (base URL or `{asset}`… placeholders) for the rendered messages. */
  link?: string;
  retry?: RetryOptions;
  /** Pending files written by other processes are picked up at once (a folder watch) and at least this often (default 1000 ms). */
  pollMs?: number;
  log?: (line: string) => void;
}

/** What {@link Outbox.enqueue} did. */
export interface EnqueueResult {
  key: string;
  /** Channels the notification was written for (now durable in their queues). */
  channels: string[];
  /** Channels that already had this key (pending, delivered or dead): not written again. */
  duplicates: string[];
}

/** One channel's queue. */
export interface ChannelStatus {
  pending: number;
  delivered: number;
  dead: number;
  /** Failed attempts on the current head of the queue (this process). */
  attempts: number;
  lastError?: string;
  /** Enqueue time of the oldest pending notification, epoch ms. */
  oldestPending?: number;
}

/** What {@link Outbox.run} did when it returned. */
export interface RunResult {
  delivered: number;
  dead: number;
  /** Channels a `once` run gave up on (still down after `giveUpAfter` attempts); their backlog stays. */
  gaveUp: string[];
}

/** A durable outbox; see {@link createOutbox}. */
export interface Outbox {
  /** Routes and writes the notification (or alarm row) for each channel; resolves once it is on disk. */
  enqueue(item: Notification | AlarmEventRow): Promise<EnqueueResult>;
  /**
   * Delivers until `signal` aborts (or, with `once`, until every queue is empty or its channel
   * gave up). One process delivers at a time (`.deliver.lock`).
   */
  run(signal?: AbortSignal, opts?: { once?: boolean; giveUpAfter?: number }): Promise<RunResult>;
  status(): Promise<Record<string, ChannelStatus>>;
  close(): Promise<void>;
}

interface Stored {
  enqueuedAt: number;
  notification: Notification;
}

const SUFFIX = '.json';

function fileName(id: string, key: string): string {
  return `${id}--${key}${SUFFIX}`;
}

function keyOf(file: string): string {
  const i = file.indexOf('--');
  return file.slice(i + 2, file.length - SUFFIX.length);
}

async function listQueue(dir: string): Promise<string[]> {
  return (await readdirIfExists(dir)).filter((f) => !f.startsWith('.') && f.endsWith(SUFFIX)).sort();
}

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

function routeMatches(r: Route, n: Notification): boolean {
  if (r.severities && !r.severities.includes(n.severity)) return false;
  if (r.kinds && !r.kinds.includes(n.kind)) return false;
  if (r.assets && !r.assets.some((a) => glob(a).test(n.asset ?? ''))) return false;
  return true;
}

function isChannel(c: ChannelConfig | Channel): c is Channel {
  return typeof (c as Channel).send === 'function';
}

function sleep(ms: number, signal: AbortSignal | undefined, wake?: Promise<void>): Promise<void> {
  return new Promise((res) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      res();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    void wake?.then(done);
  });
}

/** A wake-up that enqueue resolves so an idle worker starts at once instead of at its next poll. */
class Bell {
  private resolve: (() => void) | undefined;
  private p: Promise<void> | undefined;
  get wait(): Promise<void> {
    this.p ??= new Promise((r) => (this.resolve = r));
    return this.p;
  }
  ring(): void {
    this.resolve?.();
    this.p = undefined;
    this.resolve = undefined;
  }
}

/**
 * A durable outbox of notifications. `enqueue` writes each notification once per routed channel
 * into `<dir>/<channel>/pending/` (temp file, fsync, rename, fsync the folder) and resolves only
 * then; the key is part of the file name, so enqueuing the same event again (a re-run, a retried
 * enqueue after a crash) writes nothing new. `run` delivers each channel's queue in order,
 * one at a time: a channel that fails keeps its head and retries with exponential backoff and
 * jitter, so a receiver that is down gets its backlog, in order, when it returns; a permanent
 * failure (4xx, SMTP 5xx) moves the notification to `dead/` with the reason. A delivered file is
 * renamed to `done/`; a crash between the receiver's acceptance and that rename re-sends it
 * (at least once), with the same key for the receiver to drop.
 *
 * @example
 * import { createOutbox, alarmToNotification } from 'millwright';
 * const outbox = await createOutbox({ dir: 'outbox', channels: { ops: { type: 'webhook', url: 'http://127.0.0.1:8080/hook' } } });
 * await outbox.enqueue(alarmToNotification(alarmRow)); // durable now
 * const stop = new AbortController();
 * void outbox.run(stop.signal); // delivers until stop.abort()
 */
export async function createOutbox(opts: OutboxOptions): Promise<Outbox> {
  const root = resolve(opts.dir);
  await mkdirDurable(root);
  const names = Object.keys(opts.channels);
  if (names.length === 0) throw new MillwrightError('BAD_INPUT', 'outbox: define at least one channel');
  for (const r of opts.routes ?? []) {
    if (!names.includes(r.channel)) throw new MillwrightError('BAD_INPUT', `outbox: route names unknown channel "${r.channel}" (defined: ${names.join(', ')})`);
  }
  const keys = new Map<string, Set<string>>();
  for (const n of names) {
    const set = new Set<string>();
    for (const s of STATES) {
      await mkdirDurable(join(root, n, s));
      for (const f of await listQueue(join(root, n, s))) set.add(keyOf(f));
    }
    keys.set(n, set);
  }
  return new FileOutbox(root, opts, keys);
}

const STATES = ['pending', 'done', 'dead'] as const;
type Outcome = 'done' | 'dead' | 'gave-up' | 'stopped';

class FileOutbox implements Outbox {
  private readonly names: string[];
  private readonly channels = new Map<string, Channel>();
  private readonly live = new Map<string, { attempts: number; lastError?: string }>();
  private readonly bell = new Bell();
  private readonly initial: number;
  private readonly max: number;
  private readonly pollMs: number;
  private readonly log: (line: string) => void;

  constructor(private readonly root: string, private readonly opts: OutboxOptions, private readonly keys: Map<string, Set<string>>) {
    this.names = Object.keys(opts.channels);
    for (const n of this.names) {
      const c = opts.channels[n]!;
      this.channels.set(n, isChannel(c) ? c : createChannel(n, c, opts.link));
      this.live.set(n, { attempts: 0 });
    }
    this.initial = opts.retry?.initial ?? 500;
    this.max = opts.retry?.max ?? 30_000;
    this.pollMs = opts.pollMs ?? 1000;
    this.log = opts.log ?? (() => {});
  }

  private q(ch: string, state: (typeof STATES)[number]): string {
    return join(this.root, ch, state);
  }

  private route(n: Notification): string[] {
    const routes = this.opts.routes;
    return routes ? this.names.filter((ch) => routes.some((r) => r.channel === ch && routeMatches(r, n))) : this.names;
  }

  async enqueue(item: Notification | AlarmEventRow): Promise<EnqueueResult> {
    const n = 'key' in item && 'title' in item ? (item as Notification) : alarmToNotification(item as AlarmEventRow);
    checkNotification(n);
    const out: EnqueueResult = { key: n.key, channels: [], duplicates: [] };
    const body = JSON.stringify({ enqueuedAt: Date.now(), notification: n } satisfies Stored);
    const id = uniqueId();
    for (const ch of this.route(n)) {
      const seen = this.keys.get(ch)!;
      if (seen.has(n.key)) {
        out.duplicates.push(ch);
        continue;
      }
      await writeFileAtomic(join(this.q(ch, 'pending'), fileName(id, n.key)), body);
      seen.add(n.key);
      out.channels.push(ch);
    }
    if (out.channels.length > 0) this.bell.ring();
    return out;
  }

  private async deadLetter(ch: string, file: string, stored: Stored | undefined, reason: string, attempts: number): Promise<void> {
    await writeFileAtomic(join(this.q(ch, 'dead'), file), JSON.stringify({ ...(stored ?? {}), deadAt: Date.now(), attempts, reason }));
    await unlink(join(this.q(ch, 'pending'), file));
    await fsyncDir(this.q(ch, 'pending'));
    this.log(`notify: ${ch}: dead-lettered ${keyOf(file)}: ${reason}`);
  }

  private async read(ch: string, file: string): Promise<Stored | Outcome> {
    try {
      const stored = JSON.parse(await readFile(join(this.q(ch, 'pending'), file), 'utf8')) as Stored;
      checkNotification(stored.notification);
      return stored;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'done';
      await this.deadLetter(ch, file, undefined, `unreadable outbox file: ${(err as Error).message}`, 0);
      return 'dead';
    }
  }

  /** One notification to one channel, retried with backoff until it is taken, refused for good, or the run stops. */
  private async deliverOne(ch: string, file: string, signal: AbortSignal | undefined, giveUpAfter: number): Promise<Outcome> {
    const channel = this.channels.get(ch)!;
    const state = this.live.get(ch)!;
    const stored = await this.read(ch, file);
    if (typeof stored === 'string') return stored;
    for (;;) {
      if (signal?.aborted) return 'stopped';
      try {
        await channel.send(stored.notification);
      } catch (err) {
        state.attempts++;
        state.lastError = (err as Error).message;
        if (err instanceof DeliveryFailure && err.permanent) {
          await this.deadLetter(ch, file, stored, err.message, state.attempts);
          state.attempts = 0;
          return 'dead';
        }
        if (state.attempts >= giveUpAfter) return 'gave-up';
        // Exponential backoff with equal jitter: half fixed, half random, so many outboxes that
        // lost one receiver do not hammer it in step when it returns.
        const wait = Math.min(this.max, this.initial * 2 ** Math.min(state.attempts - 1, 30));
        await sleep(wait / 2 + Math.random() * (wait / 2), signal);
        continue;
      }
      await rename(join(this.q(ch, 'pending'), file), join(this.q(ch, 'done'), file));
      await fsyncDir(this.q(ch, 'done'));
      await fsyncDir(this.q(ch, 'pending'));
      state.attempts = 0;
      state.lastError = undefined;
      return 'done';
    }
  }

  private async worker(ch: string, signal: AbortSignal | undefined, once: boolean, giveUpAfter: number, result: RunResult): Promise<void> {
    while (!signal?.aborted) {
      const wake = this.bell.wait;
      const files = await listQueue(this.q(ch, 'pending'));
      if (files.length === 0) {
        if (once) return;
        await sleep(this.pollMs, signal, wake);
        continue;
      }
      for (const f of files) {
        const r = await this.deliverOne(ch, f, signal, giveUpAfter);
        if (r === 'done') result.delivered++;
        else if (r === 'dead') result.dead++;
        else {
          if (r === 'gave-up') result.gaveUp.push(ch);
          return;
        }
      }
    }
  }

  async run(signal?: AbortSignal, ro: { once?: boolean; giveUpAfter?: number } = {}): Promise<RunResult> {
    let release: () => Promise<void>;
    try {
      release = await acquireLock(join(this.root, '.deliver.lock'), { wait: false, staleMs: false, singleHost: true });
    } catch (err) {
      const holder = isErrorCode(err, 'CONFLICT') ? (err.details?.holder as LockHolder | undefined) : undefined;
      if (holder?.pid === undefined) throw err;
      throw new MillwrightError('CONFLICT', `another process (pid ${holder.pid}) is delivering outbox ${this.root}; one deliverer per outbox`, { cause: err, details: { holder } });
    }
    const result: RunResult = { delivered: 0, dead: 0, gaveUp: [] };
    const once = ro.once ?? false;
    const giveUpAfter = ro.giveUpAfter ?? (once ? 5 : Number.POSITIVE_INFINITY);
    // A long run also wakes on files other processes (the gateway, `alarms run`) write into the
    // pending folders, instead of waiting for the next poll; the poll stays as the fallback.
    const watchers: FSWatcher[] = [];
    if (!once) {
      for (const ch of this.names) {
        try {
          const w = watch(this.q(ch, 'pending'), () => this.bell.ring());
          w.on('error', () => w.close());
          watchers.push(w);
        } catch {
          // no inotify (or the like): the poll alone picks the files up
        }
      }
    }
    try {
      await Promise.all(this.names.map((ch) => this.worker(ch, signal, once, giveUpAfter, result)));
    } finally {
      for (const w of watchers) w.close();
      await release();
    }
    return result;
  }

  async status(): Promise<Record<string, ChannelStatus>> {
    const out: Record<string, ChannelStatus> = {};
    for (const ch of this.names) {
      const l = this.live.get(ch)!;
      out[ch] = { ...(await queueStatus(this.root, ch)), attempts: l.attempts, ...(l.lastError ? { lastError: l.lastError } : {}) };
    }
    return out;
  }

  async close(): Promise<void> {
    for (const c of this.channels.values()) await c.close();
  }
}

async function queueStatus(root: string, ch: string): Promise<ChannelStatus> {
  const pending = await listQueue(join(root, ch, 'pending'));
  const first = pending[0];
  return {
    pending: pending.length,
    delivered: (await listQueue(join(root, ch, 'done'))).length,
    dead: (await listQueue(join(root, ch, 'dead'))).length,
    attempts: 0,
    ...(first ? { oldestPending: Number(first.slice(0, 13)) } : {}),
  };
}

/**
 * The queues of an outbox folder read from disk, without a config (what `millwright notify
 * status --dir` prints): per channel, pending, delivered and dead-lettered counts.
 *
 * @example
 * import { outboxStatus } from 'millwright';
 * await outboxStatus('outbox'); // { ops: { pending: 0, delivered: 12, dead: 1, attempts: 0 } }
 */
export async function outboxStatus(dir: string): Promise<Record<string, ChannelStatus>> {
  const root = resolve(dir);
  const out: Record<string, ChannelStatus> = {};
  for (const ch of (await readdirIfExists(root)).sort()) {
    if (ch.startsWith('.')) continue;
    if ((await readdirIfExists(join(root, ch))).includes('pending')) out[ch] = await queueStatus(root, ch);
  }
  return out;
}

/** Dead-lettered notifications of a channel with their reasons (oldest first). */
export async function deadLetters(dir: string, channel: string): Promise<{ key: string; reason: string; attempts: number; notification?: Notification }[]> {
  const d = join(resolve(dir), channel, 'dead');
  const out = [];
  for (const f of await listQueue(d)) {
    const doc = JSON.parse(await readFile(join(d, f), 'utf8')) as { reason: string; attempts: number; notification?: Notification };
    out.push({ key: keyOf(f), reason: doc.reason, attempts: doc.attempts, notification: doc.notification });
  }
  return out;
}
