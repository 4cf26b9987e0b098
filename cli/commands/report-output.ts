import { pathToFileURL } from 'node:url';
import { join, resolve } from 'node:path';
import { MillwrightError } from '../../lib/errors/index.ts';
import type { CliIO } from '../command.ts';
import { writeReport } from '../../reports/presets.ts';
import type { ReportResult } from '../../reports/engine.ts';

/** Writes the report, prints its checks and where it went, and applies --fail-on. */
export async function finishReport(report: ReportResult, kind: string, outFlag: string | undefined, failOn: string | undefined, io: CliIO): Promise<number> {
  const out = resolve(io.cwd, outFlag ?? join('.millwright', 'reports', kind));
  const w = await writeReport(report, out);
  io.out(`${report.title}: ${report.status.toUpperCase()}\n`);
  for (const c of report.checks) io.out(`  [${c.status}] ${c.name}: ${c.reason}\n`);
  io.out(`wrote\n  ${w.html}\n  ${w.json}\n  ${w.csv}\nopen ${pathToFileURL(w.html).href}\n`);
  if (failOn && (report.status === 'fail' || (failOn === 'warn' && report.status === 'warn'))) {
    // Thrown, not printed: the dispatcher prints "millwright report: <message>" and exits with
    // CHECK_FAILED's code, so a script can tell a failed check from a crash.
    throw new MillwrightError('CHECK_FAILED', `status ${report.status} (--fail-on ${failOn})`);
  }
  return 0;
}
