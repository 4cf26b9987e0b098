import { storeRoot } from '../../lib/config/index.ts';
import { parseDuration } from '../../lib/units/index.ts';
import type { CliIO } from '../command.ts';
import { parseCommandArgs, usageError } from '../command.ts';
import { alarmsReportFromStore } from '../../reports/presets.ts';
import { timeFlag } from './events.ts';
import { finishReport } from './report-output.ts';
import { groupsFlag } from './group-by-flag.ts';

/** Shown inside `millwright report --help` (and so in docs/cli.md). */
export const ALARMS_REPORT_USAGE = `alarms: alarm rules (and models that raise alarms) scored against recorded failures
  millwright report alarms --from T --to T [--lead 72h] [--assets a,b] [--group-by site|area|line|asset [--asset-model FILE]]
                           [--store DIR] [--out DIR] [--title T] [--fail-on warn|fail]
  Reads the store's alarm events (one row per state change) and failure records (millwright events add|import).
  An alarm is true when it is active within --lead (default 72h) before a failure of its asset. Per rule: true and
  false alarms, precision, recall, mean lead time, false alarms per asset-week (--assets: the watched assets,
  default every asset with readings of an alarmed signal, an alarm or a failure); a timeline per asset.
  --group-by LEVEL also scores each rule per site, area, line or asset of the plant's asset model: the store's
  assets table (written by the gateway) or --asset-model FILE (the gateway's assets YAML/JSON).

  millwright report alarms --from 2024-01-01 --to 2024-02-01 --lead 48h
  millwright report alarms --from 2024-01-01 --to 2024-02-01 --group-by line --asset-model assets.yaml`;

export async function runAlarmsReport(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    options: {
      from: { type: 'string' }, to: { type: 'string' }, lead: { type: 'string' }, assets: { type: 'string' }, 'group-by': { type: 'string' }, 'asset-model': { type: 'string' },
      store: { type: 'string' }, out: { type: 'string' }, title: { type: 'string' }, 'fail-on': { type: 'string' },
    },
    allowPositionals: true,
  });
  if (positionals.length) throw usageError(`report alarms: unexpected argument "${positionals[0]}" (it reads the store; see --store)`);
  if (!values.from || !values.to) throw usageError('report alarms needs --from T and --to T (the scored period)');
  const failOn = values['fail-on'];
  if (failOn !== undefined && failOn !== 'warn' && failOn !== 'fail') throw usageError(`--fail-on must be warn or fail, got "${failOn}"`);
  const from = timeFlag('from', values.from);
  const to = timeFlag('to', values.to);
  if (!(from < to)) throw usageError('--from must be before --to');
  const leadMs = parseDuration(values.lead ?? '72h', { what: '--lead', positive: true, code: 'USAGE' });
  const root = storeRoot(values.store, io.env, io.cwd);
  const groupBy = await groupsFlag(values['group-by'], values['asset-model'], root, io);
  const report = await alarmsReportFromStore(root, {
    from, to, leadMs, ...(groupBy ? { groupBy } : {}), ...(values.assets ? { assets: values.assets.split(',').map((a) => a.trim()).filter(Boolean) } : {}), ...(values.title ? { title: values.title } : {}),
  });
  return finishReport(report, 'alarms', values.out, failOn, io);
}
