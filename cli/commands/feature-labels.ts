import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { MillwrightError } from '../../lib/errors/index.ts';
import { storeRoot } from '../../lib/config/index.ts';
import { writeFileAtomic } from '../../lib/durable/index.ts';
import { failureLabels } from '../../lib/features/index.ts';
import { parseTimestamp, splitQuoted } from '../../lib/ingest/index.ts';
import { listMaintenanceRecords } from '../../lib/maintenance/index.ts';
import { parseDuration } from '../../lib/units/index.ts';
import { parseCommandArgs, usageError, type CliIO } from '../command.ts';

/** Shown inside `millwright features --help`. */
export const FEATURE_LABELS_USAGE = `millwright features labels FILE --horizon 24h [--store DIR] [--ts COL] [--asset COL] [--keep-repair] [--out FILE]
  Labels a training table (CSV with a header, one row per asset and time) from the store's maintenance
  records (millwright events): failure_within_<H> (1 when the asset fails within H after the row, else 0)
  and hours_to_failure (empty when no failure follows). Rows inside a repair window are left out
  (--keep-repair keeps them with empty labels).
  --ts COL / --asset COL   the time (ISO 8601 or epoch ms) and asset columns (default ts, asset)`;

function csvCell(v: number | null): string {
  return v === null ? '' : String(v);
}

/** `millwright features labels`: appends the two label columns to a CSV. */
export async function featureLabels(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    allowPositionals: true,
    options: { horizon: { type: 'string' }, store: { type: 'string' }, ts: { type: 'string' }, asset: { type: 'string' }, 'keep-repair': { type: 'boolean' }, out: { type: 'string' } },
  });
  if (positionals.length !== 1) throw usageError('features labels takes exactly one FILE (a CSV with ts and asset columns)');
  if (!values.horizon) throw usageError('features labels needs --horizon DUR (e.g. 24h)');
  const horizonMs = parseDuration(values.horizon, { what: '--horizon', positive: true, code: 'USAGE' });
  const file = resolve(io.cwd, positionals[0]!);
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new MillwrightError(err.code === 'ENOENT' ? 'NOT_FOUND' : 'BAD_INPUT', `cannot read ${file}: ${err.message}`);
  });
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = splitQuoted(lines[0] ?? '');
  if (!Array.isArray(header)) throw new MillwrightError('BAD_INPUT', `${file}: header: ${header.error}`);
  const [tsCol, assetCol] = [values.ts ?? 'ts', values.asset ?? 'asset'];
  const ti = header.indexOf(tsCol);
  const ai = header.indexOf(assetCol);
  if (ti < 0 || ai < 0) throw new MillwrightError('BAD_INPUT', `${file}: needs columns "${tsCol}" and "${assetCol}" (columns: ${header.join(', ')})`);
  const rows = lines.slice(1).map((line, i) => {
    const cells = splitQuoted(line);
    if (!Array.isArray(cells)) throw new MillwrightError('BAD_INPUT', `${file} row ${i + 2}: ${cells.error}`);
    const t = /^-?\d+$/.test(cells[ti] ?? '') ? Number(cells[ti]) : parseTimestamp(cells[ti] ?? '');
    if (!Number.isFinite(t)) throw new MillwrightError('BAD_INPUT', `${file} row ${i + 2}: ${tsCol} "${cells[ti]}" is not a time (ISO 8601 with a zone, or epoch ms)`);
    return { asset: cells[ai] ?? '', ts: t };
  });
  const records = await listMaintenanceRecords(storeRoot(values.store, io.env, io.cwd));
  const l = failureLabels(rows, records, { horizonMs });
  const name = `failure_within_${values.horizon}`;
  const out = [`${lines[0]},${name},hours_to_failure`];
  rows.forEach((_, i) => {
    if (l.inRepair[i] && !values['keep-repair']) return;
    out.push(`${lines[i + 1]},${csvCell(l.failureWithin[i]!)},${csvCell(l.hoursToFailure[i]!)}`);
  });
  const csv = `${out.join('\n')}\n`;
  if (values.out) await writeFileAtomic(resolve(io.cwd, values.out), csv);
  else io.out(csv);
  io.err(`${rows.length} rows, ${l.inRepair.filter(Boolean).length} inside a repair window${values['keep-repair'] ? ' (kept, unlabelled)' : ' (left out)'}, ${l.failureWithin.filter((x) => x === 1).length} labelled 1 (${name})\n`);
  return 0;
}
