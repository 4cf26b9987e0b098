import { QUALITY, type QualityCode } from '../gateway/index.ts';
import type { SlotResult } from './run-predictions.ts';

/** One value as the plant receives it. */
export interface WriteBackMessage {
  /** Tag / metric name (e.g. `press1/energy_expected`). */
  name: string;
  /** The value in force: the new one, or the last good one held (null when there has never been one). */
  value: number | string | null;
  /** {@link QUALITY} code: good, stale (input older than the allowed age), uncertain (the model failed: last good value held), bad (no good value yet). */
  quality: QualityCode;
  qualityName: keyof typeof QUALITY;
  modelVersion: string;
  /** When this message was sent (epoch ms). */
  ts: number;
  /** Target time of the prediction (epoch ms). */
  target?: number;
  /** When the held value was last good (epoch ms). */
  goodAt?: number;
  /** Counter that advances with every message, heartbeats included: a control system that sees it stop falls back to its own logic. */
  heartbeat: number;
  /** Why the quality is not good. */
  reason?: string;
}

/** Where write-back messages go (MQTT, OPC UA). */
export interface WriteBackSink {
  readonly name: string;
  send(messages: WriteBackMessage[]): Promise<void>;
  close(): Promise<void>;
}

/** A new value, or a failure, for one tag. */
export interface WriteBackUpdate {
  name: string;
  value?: number | string;
  modelVersion: string;
  target?: number;
  /** Newest input behind the value (epoch ms), checked against `maxInputAge`. */
  inputTime?: number;
  /** The model failed (threw, timed out): the last good value is held with quality uncertain. */
  error?: Error | string;
}

/** Options of {@link WriteBack}. */
export interface WriteBackOptions {
  sinks: WriteBackSink[];
  /** Input older than this (ms) makes a value stale: the last good value is held with quality stale. */
  maxInputAge?: number;
  /** Re-send every tag's current state this often (ms). Default 10 000; 0 = off. */
  heartbeatMs?: number;
  now?: () => number;
  /** A sink that fails (broker or server down) is reported here; the next message retries it. */
  onError?: (sink: string, err: Error) => void;
}

const qualityName = (q: QualityCode) => (Object.entries(QUALITY).find(([, v]) => v === q)?.[0] ?? 'bad') as keyof typeof QUALITY;

/**
 * Results back to the plant: each tag's value in force with its model version, a quality code and
 * a heartbeat counter, sent to every sink. A failed model or a stale input never overwrites a good
 * value: the last good one is held and the quality says why, so the control system can fall back
 * to its own logic.
 *
 * @example
 * import { WriteBack, MqttWriteBack } from 'millwright';
 * const wb = new WriteBack({ sinks: [new MqttWriteBack({ url: 'mqtt://127.0.0.1:1883', topic: 'millwright/plant-a' })], maxInputAge: 3 * 3600_000 });
 * await wb.update([{ name: 'press1/energy', value: 412.5, modelVersion: '3', inputTime: Date.now() }]);
 */
export class WriteBack {
  private readonly state = new Map<string, WriteBackMessage>();
  private readonly good = new Map<string, { value: number | string; at: number; target?: number }>();
  private heartbeat = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: WriteBackOptions) {
    this.now = opts.now ?? Date.now;
    const every = opts.heartbeatMs ?? 10_000;
    if (every > 0) {
      this.timer = setInterval(() => void this.beat(), every);
      this.timer.unref();
    }
  }

  /** Current state of a tag (what was last sent). */
  current(name: string): WriteBackMessage | undefined {
    return this.state.get(name);
  }

  /** Applies updates (holding last good values where needed) and sends them. */
  async update(updates: WriteBackUpdate[]): Promise<WriteBackMessage[]> {
    const t = this.now();
    const out: WriteBackMessage[] = [];
    for (const u of updates) {
      const stale = u.error === undefined && this.opts.maxInputAge !== undefined && u.inputTime !== undefined && t - u.inputTime > this.opts.maxInputAge;
      if (u.error === undefined && !stale && u.value !== undefined) {
        this.good.set(u.name, { value: u.value, at: t, ...(u.target !== undefined ? { target: u.target } : {}) });
        out.push(this.message(u.name, { value: u.value, quality: QUALITY.good, modelVersion: u.modelVersion, ts: t, goodAt: t, ...(u.target !== undefined ? { target: u.target } : {}) }));
        continue;
      }
      const held = this.good.get(u.name);
      const reason = u.error !== undefined ? `model failed: ${typeof u.error === 'string' ? u.error : u.error.message}` : stale ? `input is ${Math.round((t - u.inputTime!) / 1000)} s old (allowed ${Math.round(this.opts.maxInputAge! / 1000)} s)` : 'no value';
      const quality = held === undefined ? QUALITY.bad : stale ? QUALITY.stale : QUALITY.uncertain;
      out.push(this.message(u.name, {
        value: held?.value ?? null, quality, modelVersion: u.modelVersion, ts: t, reason,
        ...(held ? { goodAt: held.at, ...(held.target !== undefined ? { target: held.target } : {}) } : {}),
      }));
    }
    await this.send(out);
    return out;
  }

  /**
   * Updates from a scheduled slot: one tag per (asset, output) named `<asset>/<output>` (or
   * `<prefix><output>` site-wide), valued at the first target time of the slot; a failed slot
   * holds the tags it produced before.
   */
  async updateFromSlot(r: SlotResult, opts: { outputs?: string[]; prefix?: string } = {}): Promise<WriteBackMessage[]> {
    const nameOf = (asset: string | undefined, output: string) => `${opts.prefix ?? ''}${asset !== undefined ? `${asset}/` : ''}${output}`;
    if (r.status !== 'done' || r.rows.length === 0) {
      const error = r.error ?? (r.status === 'no-input' ? 'no input in the window' : `slot ${r.status}`);
      const names = [...this.good.keys()].filter((n) => n.startsWith(opts.prefix ?? ''));
      return this.update(names.map((name) => ({ name, modelVersion: r.modelVersion, ...(r.status === 'no-input' ? { inputTime: -Infinity } : { error }) })));
    }
    const first = new Map<string, WriteBackUpdate>();
    for (const row of r.rows) {
      if (opts.outputs && !opts.outputs.includes(row.output)) continue;
      const name = nameOf(row.asset, row.output);
      const seen = first.get(name);
      if (seen && (seen.target ?? 0) <= row.ts) continue;
      const value = row.value ?? row.text;
      first.set(name, { name, modelVersion: r.modelVersion, target: row.ts, ...(value !== undefined && value !== null ? { value } : { error: 'no value' }), ...(r.latestInput !== undefined ? { inputTime: r.latestInput } : {}) });
    }
    return this.update([...first.values()]);
  }

  /** Re-sends every tag with the next heartbeat (also called by the timer). */
  async beat(): Promise<void> {
    const t = this.now();
    const msgs = [...this.state.values()].map((m) => this.message(m.name, { ...m, ts: t }));
    if (msgs.length > 0) await this.send(msgs);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const s of this.opts.sinks) await s.close().catch(() => undefined);
  }

  private message(name: string, m: Omit<WriteBackMessage, 'name' | 'heartbeat' | 'qualityName'>): WriteBackMessage {
    const { reason, ...rest } = m;
    const msg: WriteBackMessage = { name, ...rest, qualityName: qualityName(m.quality), heartbeat: ++this.heartbeat, ...(reason !== undefined && m.quality !== QUALITY.good ? { reason } : {}) };
    this.state.set(name, msg);
    return msg;
  }

  private async send(msgs: WriteBackMessage[]): Promise<void> {
    await Promise.all(this.opts.sinks.map((s) => s.send(msgs).catch((err: Error) => this.opts.onError?.(s.name, err))));
  }
}
