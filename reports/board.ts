/**
 * The registry status board: one self-contained HTML page with every plant (model group), what
 * each stage serves, the last training, and the verdicts of its latest reports.
 */
import { CSS } from './render/html.ts';
import { escapeHtml as esc } from './render/escape-html.ts';

/** What the board shows for one group. */
export interface BoardRow {
  group: string;
  stages: { DEV?: number; TEST?: number; PROD?: number };
  latest?: { version: number; status: string; registeredAt: string; holdout?: Record<string, number> };
  /** Latest report per kind: its status and when it was made. */
  reports: { kind: string; status: string; generatedAt: string }[];
}

function badge(status: string): string {
  const cls = status === 'pass' || status === 'fail' || status === 'warn' ? status : 'na';
  return `<span class="badge ${cls}">${esc(status)}</span>`;
}

/**
 * Renders the board.
 *
 * @example
 * import { renderBoard } from 'millwright/reports';
 * renderBoard([{ group: 'plant-a', stages: { PROD: 3 }, reports: [] }], new Date());
 */
export function renderBoard(rows: BoardRow[], now: Date): string {
  const body = rows.map((r) => {
    const metrics = r.latest?.holdout ? Object.entries(r.latest.holdout).slice(0, 3).map(([k, v]) => `${esc(k)} ${Number(v).toPrecision(4)}`).join(', ') : '';
    const reports = r.reports.length ? r.reports.map((x) => `${esc(x.kind)} ${badge(x.status)} <span class="small">${esc(x.generatedAt.slice(0, 16).replace('T', ' '))}</span>`).join('<br>') : '<span class="small">no reports</span>';
    const stage = (v?: number) => (v === undefined ? '–' : `v${v}`);
    return `<tr><td class="l"><b>${esc(r.group)}</b></td><td>${stage(r.stages.DEV)}</td><td>${stage(r.stages.TEST)}</td><td>${stage(r.stages.PROD)}</td>`
      + `<td class="l">${r.latest ? `v${r.latest.version} ${esc(r.latest.status)}<br><span class="small">${esc(r.latest.registeredAt.slice(0, 16).replace('T', ' '))}; ${metrics}</span>` : '–'}</td><td class="l">${reports}</td></tr>`;
  }).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>millwright registry board</title><style>${CSS}</style></head><body><main>
<h1>Registry board</h1><p class="meta">${rows.length} model group(s) · generated ${esc(now.toISOString())}</p>
<table><thead><tr><th class="l">group</th><th>DEV</th><th>TEST</th><th>PROD</th><th class="l">last training</th><th class="l">latest reports</th></tr></thead><tbody>${body}</tbody></table>
</main></body></html>
`;
}
