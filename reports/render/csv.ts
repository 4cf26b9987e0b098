/**
 * Report JSON → CSV: the report's main table (per hour for energy, per column for drift and
 * quality, per metric for model quality). Reports with several tables write them one after
 * another, each preceded by a `# <metric title>` line and a header.
 */
import type { ReportResult } from '../engine.ts';
import { metricTable, type Table } from './sections.ts';

function cell(v: string | number | boolean | null): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * CSV text of a table (RFC 4180 quoting).
 *
 * @example
 * tableCsv({ columns: ['a'], rows: [['x,y']] }); // 'a\n"x,y"\n'
 */
export function tableCsv(t: Table): string {
  return [t.columns.map(cell).join(','), ...t.rows.map((r) => r.map(cell).join(','))].join('\n') + '\n';
}

/**
 * CSV for a report: one table when the report has one, otherwise titled sections.
 *
 * @example
 * await writeFile('report.csv', renderCsv(report));
 */
export function renderCsv(report: ReportResult): string {
  const tables = report.metrics.map((m) => ({ title: m.title, table: metricTable(m) })).filter((x): x is { title: string; table: Table } => x.table !== null && x.table.rows.length > 0);
  if (tables.length === 0) return 'check,status,reason\n' + report.checks.map((c) => [c.name, c.status, c.reason].map(cell).join(',')).join('\n') + '\n';
  if (tables.length === 1) return tableCsv(tables[0]!.table);
  return tables.map((t) => `# ${t.title}\n${tableCsv(t.table)}`).join('\n');
}
