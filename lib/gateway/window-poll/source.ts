import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { isErrorCode } from '../../errors/index.ts';
import { mkdirDurable, writeFileAtomic } from '../../durable/index.ts';
import { durationField, sourceBase, tagTarget } from '../config-fields.ts';
import { QUALITY, type QualityCode, type Source, type SourceContext, type SourceEvent, type SourceReading, type SourceState, type SourceStatus } from '../source.ts';
import { SourceStatusTracker } from '../source-status.ts';
import type { SourceType } from '../sources/registry.ts';
import { WindowPollClient } from './client.ts';
import { WP_TAG_STATUS, type WpReadResponse } from './codec.ts';

/** Config entry of a window-poll device (`type: window-poll`). */
export const windowPollSchema = z
  .strictObject({
    ...sourceBase,
    type: z.literal('window-poll'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    /** How much history the device keeps. */
    window: durationField,
    /** Time between polls: at most half the window, so every reading is seen at least twice. */
    poll: durationField,
    /** Deadline of a connect or a request (default 5s). */
    timeout: durationField.optional(),
    tags: z.array(z.strictObject({ id: z.number().int().min(0).max(0xffffffff), ...tagTarget })).min(1),
  })
  .superRefine((c, ctx) => {
    if (c.poll > c.window / 2) {
      ctx.addIssue({ code: 'custom', path: ['poll'], message: `expected at most half the window (${c.window / 2} ms for a window of ${c.window} ms), so every reading is polled at least twice; got ${c.poll} ms` });
    }
    const seen = new Set<number>();
    c.tags.forEach((t, i) => {
      if (seen.has(t.id)) ctx.addIssue({ code: 'custom', path: ['tags', i, 'id'], message: `tag id ${t.id} is listed twice` });
      seen.add(t.id);
    });
  });

/** A validated window-poll entry. */
export type WindowPollConfig = z.output<typeof windowPollSchema>;

interface Cursors {
  /** Per tag id: every reading with ts <= this was acknowledged (the device time of the last acknowledged poll). */
  tags: Record<string, number>;
}

/**
 * Polls a window-poll device: every `poll` it asks for the device's whole window, emits only
 * the readings newer than what was acknowledged before (the overlap of consecutive windows is
 * dropped), and persists that cursor in its state folder after each acknowledgement, so a
 * restart resumes without loss or, when the device already discarded data, records the lost
 * interval as a `gap` event.
 */
export class WindowPollSource implements Source {
  readonly name: string;
  readonly type = 'window-poll';
  private readonly st = new SourceStatusTracker('starting');
  private cursors: Cursors = { tags: {} };
  private loop: Promise<void> | undefined;
  private readonly stopper = new AbortController();
  private client: WindowPollClient | undefined;
  private readonly byId: Map<number, WindowPollConfig['tags'][number]>;

  constructor(private readonly config: WindowPollConfig) {
    this.name = config.name;
    this.byId = new Map(config.tags.map((t) => [t.id, t]));
  }

  async start(ctx: SourceContext): Promise<void> {
    await mkdirDurable(ctx.stateDir);
    this.cursors = await readCursors(join(ctx.stateDir, 'cursors.json'));
    const signal = AbortSignal.any([ctx.signal, this.stopper.signal]);
    this.loop = this.run(ctx, signal).catch((err) => {
      this.st.lastError = (err as Error).message;
      this.st.set('error');
      ctx.log(`poll loop ended: ${(err as Error).message}`);
    });
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    this.client?.close();
    await this.loop;
    this.st.set('stopped');
  }

  status(): SourceStatus {
    return this.st.snapshot(this);
  }

  private async note(ctx: SourceContext, state: SourceState, event: Omit<SourceEvent, 'ts'>): Promise<void> {
    if (state === this.st.state) return;
    this.st.set(state);
    if (event.message && (state === 'error' || state === 'disconnected')) this.st.lastError = event.message;
    await ctx.event({ ts: Date.now(), ...event }).catch((err) => ctx.log(`event not recorded: ${(err as Error).message}`));
  }

  private async run(ctx: SourceContext, signal: AbortSignal): Promise<void> {
    const timeout = this.config.timeout ?? 5000;
    const tagIds = this.config.tags.map((t) => t.id);
    let backoff = Math.min(1000, this.config.poll);
    while (!signal.aborted) {
      const started = Date.now();
      try {
        if (!this.client?.connected) {
          this.client = new WindowPollClient(this.config.host, this.config.port, timeout);
          await this.client.connect();
          const info = await this.client.info();
          await this.note(ctx, 'connected', { kind: 'connected', message: `device keeps ${info.windowMs} ms, ${info.tags.length} tag(s)` });
          if (info.windowMs < this.config.window) {
            await ctx.event({ ts: Date.now(), kind: 'error', message: `device keeps only ${info.windowMs} ms of history, the config says window ${this.config.window} ms: polls every ${this.config.poll} ms may lose data` });
          }
          backoff = Math.min(1000, this.config.poll);
        }
        // The response is not kept in this frame while the poll is delivered (see prepare).
        const acked = await this.deliver(ctx, await this.prepare(ctx, await this.client.read(tagIds)));
        if (!acked) continue; // spool was full: poll again at once now that there is space
      } catch (err) {
        if (signal.aborted) break;
        this.client?.close();
        await this.note(ctx, 'disconnected', { kind: 'disconnected', message: (err as Error).message });
        await sleep(backoff, undefined, { signal }).catch(() => {});
        backoff = Math.min(backoff * 2, this.config.poll);
        continue;
      }
      await sleep(Math.max(0, this.config.poll - (Date.now() - started)), undefined, { signal }).catch(() => {});
    }
    this.client?.close();
  }

  /** The new readings of one poll and the gaps it reveals (a tag whose cursor is older than the device's window). */
  private async collect(ctx: SourceContext, data: WpReadResponse): Promise<{ readings: SourceReading[]; gaps: SourceEvent[] }> {
    const readings: SourceReading[] = [];
    const gaps: SourceEvent[] = [];
    for (const t of data.tags) {
      const tag = this.byId.get(t.tagId);
      if (!tag) continue;
      if (t.status === WP_TAG_STATUS.unknownTag) {
        await ctx.event({ ts: Date.now(), kind: 'error', asset: tag.asset, signal: tag.signal, message: `device has no tag ${t.tagId}` });
        continue;
      }
      const cursor = this.cursors.tags[t.tagId] ?? -Infinity;
      if (cursor !== -Infinity && cursor < data.heldAfter) {
        gaps.push({
          ts: Date.now(), kind: 'gap', asset: tag.asset, signal: tag.signal, from: cursor + 1, to: data.heldAfter,
          message: `poll came ${data.heldAfter - cursor} ms too late: the device had already discarded readings up to ${new Date(data.heldAfter).toISOString()}`,
        });
      }
      // Drop what an earlier window delivered, and what is not final yet.
      for (const r of t.readings) {
        if (r.ts > cursor && r.ts <= data.deviceNow) readings.push({ ts: r.ts, asset: tag.asset, signal: tag.signal, value: r.value, quality: qualityOf(r.quality) });
      }
    }
    return { readings, gaps };
  }

  /**
   * What one poll leaves to deliver: the new readings, the gaps, and the tags whose cursor moves
   * to the device's time once they are acknowledged. The response itself (every reading of the
   * window, most of them delivered before) ends with this call, before the fsyncs of the delivery:
   * kept through them, a poll a second was promoted to the old generation and piled up tens of
   * MB between major GCs (the RSS sawtooth of the soak).
   */
  private async prepare(ctx: SourceContext, data: WpReadResponse): Promise<Poll> {
    // First contact with a tag: take responsibility from the start of the device's window, durably,
    // before anything is emitted, so a crash before the first acknowledgement still leaves a cursor
    // and the next run records what the device discarded in between as a gap.
    const fresh = data.tags.filter((t) => this.byId.has(t.tagId) && t.status === WP_TAG_STATUS.ok && this.cursors.tags[t.tagId] === undefined);
    if (fresh.length > 0) {
      for (const t of fresh) this.cursors.tags[t.tagId] = data.heldAfter;
      await writeFileAtomic(join(ctx.stateDir, 'cursors.json'), JSON.stringify(this.cursors));
    }
    const { readings, gaps } = await this.collect(ctx, data);
    const ackedTags = data.tags.filter((t) => this.byId.has(t.tagId) && t.status === WP_TAG_STATUS.ok).map((t) => t.tagId);
    return { readings, gaps, ackedTags, deviceNow: data.deviceNow };
  }

  /** Emits the new part of one poll; false when the spool refused it (after waiting for space). */
  private async deliver(ctx: SourceContext, poll: Poll): Promise<boolean> {
    const { gaps, ackedTags, deviceNow } = poll;
    let newest: number | undefined;
    for (const r of poll.readings) if (newest === undefined || r.ts > newest) newest = r.ts;
    const count = poll.readings.length;
    try {
      if (count > 0) await ctx.emit(poll.readings);
    } catch (err) {
      if (!isErrorCode(err, 'RESOURCE_EXHAUSTED')) throw err;
      await this.note(ctx, 'paused', { kind: 'paused', message: `not polling: ${(err as Error).message}` });
      await ctx.waitForSpace();
      if (!ctx.signal.aborted) await this.note(ctx, 'connected', { kind: 'resumed', message: 'spool has room again' });
      return false;
    }
    for (const g of gaps) await ctx.event(g);
    for (const id of ackedTags) this.cursors.tags[id] = deviceNow;
    await writeFileAtomic(join(ctx.stateDir, 'cursors.json'), JSON.stringify(this.cursors));
    this.st.counted(count, newest);
    return true;
  }
}

/** One poll, ready to deliver (see `prepare`). */
interface Poll {
  readings: SourceReading[];
  gaps: SourceEvent[];
  ackedTags: number[];
  deviceNow: number;
}

function qualityOf(q: number): QualityCode {
  return (Object.values(QUALITY) as number[]).includes(q) ? (q as QualityCode) : QUALITY.bad;
}

async function readCursors(path: string): Promise<Cursors> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Cursors;
    return parsed && typeof parsed.tags === 'object' ? parsed : { tags: {} };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { tags: {} };
    throw err;
  }
}

/** The `window-poll` entry of the source-type list. */
export const windowPollType: SourceType<typeof windowPollSchema> = {
  type: 'window-poll',
  schema: windowPollSchema,
  create: (config) => new WindowPollSource(config),
  assets: (config) => config.tags.map((t) => t.asset),
};
