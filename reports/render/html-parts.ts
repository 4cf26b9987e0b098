/**
 * The building blocks every report section uses: number formatting, tables, charts with captions,
 * status badges.
 */
import { escapeHtml as esc } from './escape-html.ts';

/** A table: header and rows of plain values. */
export interface Table {
  columns: string[];
  rows: (string | number | boolean | null)[][];
}

/** Compact number formatting for tables (full precision stays in JSON/CSV). */
export function f(x: unknown, digits = 4): string {
  if (x === null || x === undefined) return '–';
  if (typeof x === 'boolean') return x ? 'yes' : 'no';
  if (typeof x !== 'number') return String(x);
  if (!Number.isFinite(x)) return '∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e6 || a < 1e-3) return x.toExponential(2);
  // Whole-number part in full (toPrecision would print 6010.2 as "6010" or 12345 as "1.235e+4").
  if (Number.isInteger(x) || a >= 10 ** (digits - 1)) return Math.round(x).toLocaleString('en');
  const s = x.toPrecision(digits);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

export function tableHtml(t: Table, leftCols = 1, maxRows = 500): string {
  const head = t.columns.map((c, i) => `<th${i < leftCols ? ' class="l"' : ''}>${esc(c)}</th>`).join('');
  // Text reads left-aligned, numbers right-aligned.
  const rows = t.rows.slice(0, maxRows).map((r) => `<tr>${r.map((v, i) => `<td${i < leftCols || typeof v === 'string' ? ' class="l"' : ''}>${esc(f(v))}</td>`).join('')}</tr>`).join('');
  const more = t.rows.length > maxRows ? `<p class="small">${t.rows.length - maxRows} more rows in report.csv / report.json.</p>` : '';
  return `<table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>${more}`;
}

export function chartHtml(svg: string, caption?: string): string {
  return `<div class="chart">${svg}${caption ? `<p class="small">${esc(caption)}</p>` : ''}</div>`;
}

export function statusBadge(s: string): string {
  return `<span class="badge ${s === 'n/a' ? 'na' : s}">${esc(s)}</span>`;
}
