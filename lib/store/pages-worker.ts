import { parentPort } from 'node:worker_threads';
import { MillwrightError } from '../errors/index.ts';
import { columnOver, decodeRowGroupInto, type ColumnsOut } from './decode-row-group.ts';
import { loadZstd } from './parquet-pages.ts';
import { rowGroupBytes } from './read-chunks-pages.ts';
import type { PagesJob, PagesReply } from './read-pages-parallel.ts';

/**
 * The second thread of a parallel full scan (read-pages-parallel.ts): decodes its share of the
 * row groups into the scan's shared output columns and answers with their name dictionaries.
 */
parentPort!.on('message', (job: PagesJob) => {
  void run(job).then(
    (names) => parentPort!.postMessage({ id: job.id, names } satisfies PagesReply),
    (err: unknown) => parentPort!.postMessage({ id: job.id, error: MillwrightError.from(err).toJSON() } satisfies PagesReply),
  );
});

async function run(job: PagesJob): Promise<PagesReply['names']> {
  await loadZstd();
  const out: ColumnsOut = {};
  for (const [c, buf] of Object.entries(job.buffers)) {
    out[c as keyof ColumnsOut] = columnOver(c as keyof ColumnsOut, buf) as never;
  }
  const names: NonNullable<PagesReply['names']> = [];
  for await (const { task, bytes, rg } of rowGroupBytes(job.tasks, Object.keys(out) as (keyof ColumnsOut)[])) {
    names.push(decodeRowGroupInto(bytes, rg, `${task.path}: row group ${task.index}`, out, task.at));
  }
  return names;
}
