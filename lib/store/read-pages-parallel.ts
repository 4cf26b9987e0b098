import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { MillwrightError, type MillwrightErrorJSON } from '../errors/index.ts';
import { startWorker } from '../workers/index.ts';
import { columnOver, decodeRowGroupInto, sharedColumn, type ColumnsOut } from './decode-row-group.ts';
import { loadZstd } from './parquet-pages.ts';
import type { StoreColumnName } from './parquet-footer.ts';
import type { ScanPlan } from './plan-scan.ts';
import type { ChunkDicts, ScanColumn } from './read-chunks.ts';
import { fileColumns, planPages, rowGroupBytes, rowGroupTasks, scanIds, type RowGroupTask } from './read-chunks-pages.ts';

/**
 * Rows from which a full scan is split across two threads. Below it the worker's hand-over and
 * the shared buffers cost more than they save.
 */
export const PARALLEL_MIN_ROWS = 1_000_000;

/** What the main thread posts to the pages worker: row groups to decode into the shared columns. */
export interface PagesJob {
  id: number;
  tasks: RowGroupTask[];
  buffers: Partial<Record<keyof ColumnsOut, SharedArrayBuffer>>;
}

/** The worker's answer: each row group's name dictionaries, in job order, or the error. */
export interface PagesReply {
  id: number;
  names?: Partial<Record<'asset' | 'signal', string[]>>[];
  error?: MillwrightErrorJSON;
}

/** A full scan's columns, whole: ts/value float64, quality uint8, names and site as scan-wide ids. */
export interface FullScan {
  length: number;
  columns: Partial<Record<ScanColumn, Float64Array | Int32Array | Uint8Array>>;
}

/**
 * A whole-store (unfiltered, stored-order) scan decoded on two threads: this one takes the first
 * half of the row groups, a persistent worker the second, both writing into shared columns at
 * each row group's offset; names are mapped to scan-wide ids here afterwards, in row order, so
 * the ids and rows are those of the one-thread pages reader. Undefined when the scan does not
 * qualify (a row filter, fewer than `minRows` rows, one core, a file the pages reader cannot
 * read): the caller reads as before.
 */
export async function readPagesParallel(plan: ScanPlan, columns: readonly ScanColumn[], dicts: ChunkDicts, minRows = PARALLEL_MIN_ROWS): Promise<FullScan | undefined> {
  const f = plan.filter;
  if (f.from !== undefined || f.to !== undefined || f.assets || f.signals || availableParallelism() < 2) return undefined;
  // rows the planner knows (from statistics) may already rule the split out, before any footer is read
  if (plan.files.every((file) => file.rows !== undefined) && plan.files.reduce((n, file) => n + file.rows!, 0) < minRows) return undefined;
  const pages = await planPages(plan, columns);
  if ('unsupported' in pages) return undefined;
  const fileSite = plan.files.map((file) => dicts.site.id(file.site));
  const { tasks, total } = rowGroupTasks(plan, pages.layouts, fileSite);
  if (total < minRows || total === 0) return undefined;
  const cols = fileColumns(plan, columns);
  const buffers: PagesJob['buffers'] = {};
  const out: ColumnsOut = {};
  for (const c of cols) {
    const buf = (buffers[c] = sharedColumn(c, total));
    out[c] = columnOver(c, buf) as never;
  }
  // the split: the first row groups holding half the rows here, the rest on the worker
  let split = 0;
  while (split < tasks.length && tasks[split]!.at < total / 2) split++;
  const remote = runOnWorker(tasks.slice(split), buffers);
  remote.catch(() => undefined); // awaited below; not unhandled while this thread decodes
  let local: NonNullable<PagesReply['names']>;
  try {
    local = await decodeHere(tasks.slice(0, split), cols, out);
  } finally {
    await remote.catch(() => undefined); // the worker writes into these buffers until it answers
  }
  return wholeColumns(columns, tasks, [...local, ...(await remote)], out, total, dicts);
}

/** The output columns once every row group is decoded: names mapped to scan-wide ids in row order, site filled per row group. */
function wholeColumns(columns: readonly ScanColumn[], tasks: readonly RowGroupTask[], names: NonNullable<PagesReply['names']>, out: ColumnsOut, total: number, dicts: ChunkDicts): FullScan {
  const result: FullScan = { length: total, columns: {} };
  for (const [i, t] of tasks.entries()) {
    for (const c of ['asset', 'signal'] as const) {
      const view = out[c]?.subarray(t.at, t.at + t.rg.rows);
      if (view) scanIds(view, undefined, view.length, names[i]![c]!, dicts[c], view);
    }
  }
  for (const c of columns) {
    if (c !== 'site') result.columns[c] = out[c];
    else {
      const site = new Int32Array(total);
      for (const t of tasks) site.fill(t.site, t.at, t.at + t.rg.rows);
      result.columns.site = site;
    }
  }
  return result;
}

/** This thread's share: the row groups decoded into `out`; their name dictionaries in order. */
async function decodeHere(tasks: readonly RowGroupTask[], cols: readonly StoreColumnName[], out: ColumnsOut): Promise<NonNullable<PagesReply['names']>> {
  await loadZstd();
  const names: NonNullable<PagesReply['names']> = [];
  for await (const { task, bytes, rg } of rowGroupBytes(tasks, cols)) names.push(decodeRowGroupInto(bytes, rg, `${task.path}: row group ${task.index}`, out, task.at));
  return names;
}

let worker: Worker | undefined;
let nextId = 1;
const waiting = new Map<number, { resolve: (names: NonNullable<PagesReply['names']>) => void; reject: (err: Error) => void }>();

/** The row groups decoded by the pages worker (started on first use, kept, and not keeping the process alive when idle). */
function runOnWorker(tasks: RowGroupTask[], buffers: PagesJob['buffers']): Promise<NonNullable<PagesReply['names']>> {
  if (tasks.length === 0) return Promise.resolve([]);
  const w = pagesWorker();
  const id = nextId++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    w.ref();
    w.postMessage({ id, tasks, buffers } satisfies PagesJob);
  });
}

function pagesWorker(): Worker {
  if (worker) return worker;
  const w = startWorker(new URL('./pages-worker.ts', import.meta.url), null);
  const settle = (id: number, fn: (entry: NonNullable<ReturnType<typeof waiting.get>>) => void): void => {
    const entry = waiting.get(id);
    if (!entry) return;
    waiting.delete(id);
    if (waiting.size === 0) w.unref();
    fn(entry);
  };
  w.on('message', (reply: PagesReply) => settle(reply.id, (e) => (reply.error ? e.reject(MillwrightError.fromJSON(reply.error)) : e.resolve(reply.names ?? []))));
  const fail = (err: Error): void => {
    if (worker === w) worker = undefined;
    for (const id of [...waiting.keys()]) settle(id, (e) => e.reject(new MillwrightError('INTERNAL', `the scan's decoding thread failed: ${err.message}`, { cause: err })));
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
  w.unref();
  worker = w;
  return w;
}
