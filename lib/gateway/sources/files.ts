import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { appendLine, moveInto, SettledFiles, writeFileAtomic } from '../../durable/index.ts';
import { MillwrightError } from '../../errors/index.ts';
import { readInput, READINGS_FORMATS, type ColumnsInfo, type ReadingsFormat, type Reject } from '../../ingest/index.ts';
import { durationField, sourceBase } from '../config-fields.ts';
import { QUALITY, type Source, type SourceContext, type SourceReading, type SourceState, type SourceStatus } from '../source.ts';
import { SourceStatusTracker } from '../source-status.ts';
import type { SourceType } from './registry.ts';

/**
 * The `files` source: a watched folder of exports (CSV, NDJSON, Parquet; long or wide; local time).
 * Each stable file is read with the same readers as `millwright ingest`, its readings handed to the
 * gateway, and, once they are durable in the spool, its content hash recorded and the file moved
 * to `done/`. A file that cannot be read goes to `failed/` beside a `<name>.reason.txt`.
 */

const schema = z
  .object({
    ...sourceBase,
    type: z.literal('files'),
    dir: z.string().min(1),
    format: z.enum(READINGS_FORMATS as [ReadingsFormat, ...ReadingsFormat[]]).optional(),
    timestamp: z
      .object({
        column: z.string().min(1).optional(),
        timezone: z.string().min(1).optional(),
        ambiguous: z.enum(['earlier', 'later', 'reject']).optional(),
      })
      .strict()
      .optional(),
    asset: z.string().min(1).optional(),
    assetColumn: z.string().min(1).optional(),
    skipColumns: z.array(z.string().min(1)).optional(),
    delimiter: z.string().length(1).optional(),
    strict: z.boolean().optional(),
    /** How often the folder is listed (default 1s). */
    poll: durationField.optional(),
    /** How long a file's size and modification time must stay unchanged before it is read (default 2s). */
    stableFor: durationField.optional(),
    /** Readings per emit (default 10,000). */
    batchRows: z.number().int().positive().optional(),
  })
  .strict();

/** The config of a `files` source (after validation). */
export type FilesSourceConfig = z.output<typeof schema>;

const HASHES = 'ingested.sha256';
const MAX_REJECT_EVENTS = 100;

function isWide(c: FilesSourceConfig): boolean {
  return c.format?.startsWith('wide-') === true || c.asset !== undefined || c.assetColumn !== undefined;
}

/** The columns a wide file left out, for the source's log line. */
function leftOutText(columns: ColumnsInfo | undefined): string {
  return (columns?.leftOut ?? []).map((l) => `; left out ${JSON.stringify(l.column)}: ${l.reason}`).join('');
}

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

class FilesSource implements Source {
  readonly type = 'files';
  readonly name: string;
  private readonly st = new SourceStatusTracker('starting');
  private readonly settled: SettledFiles;
  private hashes = new Set<string>();
  private loop: Promise<void> | undefined;
  private stopped = new AbortController();
  private ctx: SourceContext | undefined;

  constructor(private readonly config: FilesSourceConfig) {
    this.name = config.name;
    this.settled = new SettledFiles({ stableForMs: config.stableFor ?? 2000 });
  }

  status(): SourceStatus {
    return this.st.snapshot(this);
  }

  /** A state change clears the last error unless it brings one (the folder's states carry their reason). */
  private setState(s: SourceState, error?: string): void {
    this.st.set(s);
    this.st.lastError = error;
  }

  async start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    await mkdir(ctx.stateDir, { recursive: true });
    const recorded = await readFile(join(ctx.stateDir, HASHES), 'utf8').catch(() => '');
    for (const line of recorded.split('\n')) if (/^[0-9a-f]{64}/.test(line)) this.hashes.add(line.slice(0, 64));
    const stop = () => this.stopped.abort();
    ctx.signal.addEventListener('abort', stop, { once: true });
    this.setState('connected');
    this.loop = this.run(ctx);
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    await this.loop;
    this.setState('stopped');
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped.signal.aborted) return resolve();
      const t = setTimeout(resolve, ms);
      this.stopped.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
  }

  private async run(ctx: SourceContext): Promise<void> {
    const poll = this.config.poll ?? 1000;
    while (!this.stopped.signal.aborted) {
      try {
        for (const name of await this.stableFiles()) {
          if (this.stopped.signal.aborted) break;
          await this.take(ctx, name);
        }
        if (this.st.state === 'error') this.setState('connected');
      } catch (err) {
        const msg = (err as Error).message;
        if (this.st.state !== 'error' || this.st.lastError !== msg) {
          ctx.log(`files: ${msg}`);
          await ctx.event({ ts: Date.now(), kind: 'error', message: msg }).catch(() => {});
        }
        this.setState('error', msg);
      }
      await this.sleep(poll);
    }
  }

  /** Regular files in the folder whose size and mtime have not changed for `stableFor`. */
  private async stableFiles(): Promise<string[]> {
    const dir = this.config.dir;
    const entries = await readdir(dir, { withFileTypes: true });
    return this.settled.pick(dir, entries);
  }

  private async record(ctx: SourceContext, hash: string, name: string): Promise<void> {
    const path = join(ctx.stateDir, HASHES);
    await appendLine(path, `${hash} ${JSON.stringify(name)}`);
    this.hashes.add(hash);
  }

  /** Emits with back-pressure: on a full spool, waits for room and tries the same readings again. */
  private async emit(ctx: SourceContext, readings: SourceReading[]): Promise<void> {
    for (;;) {
      try {
        await ctx.emit(readings);
        let newest: number | undefined;
        for (const r of readings) if (newest === undefined || r.ts > newest) newest = r.ts;
        this.st.counted(readings.length, newest);
        return;
      } catch (err) {
        if (!(err instanceof MillwrightError) || err.code !== 'RESOURCE_EXHAUSTED' || this.stopped.signal.aborted) throw err;
        this.setState('paused', err.message);
        await ctx.waitForSpace();
        this.setState('connected');
      }
    }
  }

  private async take(ctx: SourceContext, name: string): Promise<void> {
    const dir = this.config.dir;
    const path = join(dir, name);
    const hash = await sha256(path);
    this.settled.forget(name);
    if (this.hashes.has(hash)) {
      const dest = await moveInto(dir, 'done', name);
      ctx.log(`files: ${name} has the content of a file already ingested (sha256 ${hash.slice(0, 12)}…): moved to ${dest} without reading it`);
      return;
    }
    const c = this.config;
    let rejects = 0;
    const onReject = (r: Reject) => {
      rejects++;
      if (rejects <= MAX_REJECT_EVENTS) {
        void ctx.event({ ts: Date.now(), kind: 'reject', message: `${name} line ${r.line}${r.column ? ` column ${JSON.stringify(r.column)}` : ''}: ${r.reason}` }).catch(() => {});
      }
    };
    let emitted = 0;
    let columns: ColumnsInfo | undefined;
    try {
      const batches = readInput(path, c.format ?? 'auto', {
        source: name,
        site: ctx.site,
        batchRows: c.batchRows ?? 10_000,
        timezone: c.timestamp?.timezone,
        ambiguous: c.timestamp?.ambiguous,
        wide: isWide(c)
          ? { asset: c.asset, assetColumn: c.assetColumn, timestampColumn: c.timestamp?.column, skipColumns: c.skipColumns, delimiter: c.delimiter, strict: c.strict }
          : undefined,
        onReject,
        onColumns: (info) => (columns = info),
      });
      for await (const { batch, dict } of batches) {
        const readings: SourceReading[] = new Array(batch.ts.length);
        for (let i = 0; i < batch.ts.length; i++) {
          const q = batch.quality?.[i] ?? QUALITY.good;
          readings[i] = {
            ts: batch.ts[i],
            asset: dict[batch.asset[i]],
            signal: dict[batch.signal[i]],
            value: batch.value[i],
            quality: (q <= QUALITY.outOfRange ? q : QUALITY.bad) as SourceReading['quality'],
          };
        }
        await this.emit(ctx, readings);
        emitted += readings.length;
      }
    } catch (err) {
      const bad = err instanceof MillwrightError && (err.code === 'BAD_INPUT' || err.code === 'USAGE');
      if (!bad || emitted > 0) throw err; // a spool failure, or a file that broke mid-way: retried on the next poll
      const reason = `${err.message}\n`;
      const dest = await moveInto(dir, 'failed', name);
      await writeFileAtomic(`${dest}.reason.txt`, reason);
      ctx.log(`files: ${name} cannot be read, moved to ${dest}: ${err.message}`);
      await ctx.event({ ts: Date.now(), kind: 'error', message: `${name}: ${err.message}` });
      return;
    }
    if (rejects > MAX_REJECT_EVENTS) await ctx.event({ ts: Date.now(), kind: 'reject', message: `${name}: ${rejects} rejected rows or cells in all (the first ${MAX_REJECT_EVENTS} reported)` });
    await this.record(ctx, hash, name);
    const dest = await moveInto(dir, 'done', name);
    ctx.log(`files: ${name}: ${emitted} readings, ${rejects} rejected, moved to ${dest}${leftOutText(columns)}`);
  }
}

/**
 * The `files` source type: `{ name, type: files, dir, format?, timestamp?: { column?, timezone?,
 * ambiguous? }, asset? | assetColumn?, skipColumns?, delimiter?, strict?, poll?, stableFor? }`.
 *
 * @example
 * import { filesSourceType } from 'millwright';
 * const source = filesSourceType.create(filesSourceType.schema.parse({
 *   name: 'exports', type: 'files', dir: '/data/exports', format: 'wide-csv',
 *   timestamp: { column: 'timestamp', timezone: 'Europe/Lisbon' }, asset: 'compressor',
 * }));
 */
export const filesSourceType: SourceType<typeof schema> = {
  type: 'files',
  schema,
  create: (config) => new FilesSource(config),
  assets: (config) => (config.asset !== undefined ? [config.asset] : []),
  resolvePaths: (config, baseDir) => ({ ...config, dir: resolve(baseDir, config.dir) }),
};
