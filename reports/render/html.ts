/**
 * Report JSON → one self-contained HTML page: inline CSS, inline SVG charts, no script, no
 * external fonts or URLs, so it reads the same opened offline or attached to an e-mail.
 */
import type { CheckResult, MetricResult, ReportResult } from '../engine.ts';
import { renderMetric } from './sections.ts';
import { escapeHtml as esc } from './escape-html.ts';


/** The reports' one stylesheet (also the registry status board's). */
export const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1b1f24;margin:0;background:#f6f7f9}
main{max-width:960px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d8dde3;padding-bottom:4px} h3{font-size:14px;margin:16px 0 6px}
.meta{color:#57606a;font-size:12px}
.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-weight:600;font-size:12px;text-transform:uppercase}
.pass{background:#dafbe1;color:#116329}.warn{background:#fff8c5;color:#7d4e00}.fail{background:#ffebe9;color:#a40e26}.na{background:#eaeef2;color:#57606a}
table{border-collapse:collapse;width:100%;background:#fff;font-size:12.5px;margin:6px 0 12px}
th,td{border:1px solid #d8dde3;padding:4px 6px;text-align:right;vertical-align:top} th{background:#eef1f4} td.l,th.l{text-align:left}
.card{background:#fff;border:1px solid #d8dde3;border-radius:6px;padding:10px 14px;margin:8px 0}
.chart{background:#fff;border:1px solid #d8dde3;border-radius:6px;padding:6px;margin:8px 0;overflow-x:auto}
.chart svg{max-width:100%;height:auto}
ul.hints{margin:4px 0 4px 18px;padding:0} .small{font-size:12px;color:#57606a}
`;

function checksHtml(checks: CheckResult[]): string {
  if (!checks.length) return '<p class="small">No checks.</p>';
  return `<table><thead><tr><th class="l">Check</th><th class="l">Status</th><th class="l">Reason</th></tr></thead><tbody>${checks
    .map((c) => `<tr><td class="l">${esc(c.name)}</td><td class="l"><span class="badge ${c.status}">${c.status}</span></td><td class="l">${esc(c.reason)}</td></tr>`)
    .join('')}</tbody></table>`;
}

/**
 * The HTML page for a report.
 *
 * @example
 * await writeFile('report.html', renderHtml(runReport('drift', [new DataDriftMetric()], cur, ref)));
 */
export function renderHtml(report: ReportResult): string {
  const d = report.data;
  const meta = [
    `generated ${report.generatedAt}`,
    `${d.currentRows.toLocaleString('en')} current rows`,
    d.referenceRows !== undefined ? `${d.referenceRows.toLocaleString('en')} reference rows` : '',
    d.source ? `current: ${d.source}` : '',
    d.reference ? `reference: ${d.reference}` : '',
  ].filter(Boolean);
  const sections = report.metrics.map((m: MetricResult) => `<section><h2>${esc(m.title)}</h2>${renderMetric(m)}</section>`).join('\n');
  return stableIds(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(report.title)}: ${esc(report.status)}</title><style>${CSS}</style></head>
<body><main>
<h1>${esc(report.title)} <span class="badge ${report.status}">${report.status}</span></h1>
<p class="meta">${meta.map(esc).join(' · ')}</p>
<section><h2>Checks</h2>${checksHtml(report.checks)}</section>
${sections}
<p class="small">millwright report · format ${report.format} · the same data is in report.json (machines) and report.csv (spreadsheets).</p>
</main></body></html>
`);
}

/**
 * Plot numbers marker/clip ids with a process-wide counter; renumber them in page order so the
 * same JSON always renders the same bytes (snapshots, re-rendering stored report.json).
 */
function stableIds(html: string): string {
  const seen = new Map<string, string>();
  return html.replace(/plot-([a-z]+)-(\d+)\b/g, (m, kind: string) => {
    let id = seen.get(m);
    if (!id) seen.set(m, (id = `plot-${kind}-${seen.size + 1}`));
    return id;
  });
}
