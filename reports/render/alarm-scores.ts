/**
 * HTML and CSV of the alarm report: the per-rule scores first, then one timeline per asset
 * (readings of the alarmed signals, alarm intervals per rule, failures as red rules).
 */
import type { AlarmScoresResult, AssetTimeline, RuleScore } from '../metrics/alarm-scores.ts';
import { escapeHtml as esc } from './escape-html.ts';
import { chart, Plot } from './charts.ts';
import { chartHtml, tableHtml, type Table } from './html-parts.ts';

const SCORE_COLUMNS = ['rule', 'alarms', 'true_alarms', 'false_alarms', 'precision', 'failures', 'detected', 'recall', 'mean_lead_hours', 'false_alarms_per_asset_week'];
const scoreCells = (s: RuleScore) => [s.rule, s.alarms, s.trueAlarms, s.falseAlarms, s.precision, s.failures, s.detected, s.recall, s.meanLeadHours, s.falseAlarmsPerAssetWeek];

/**
 * The per-rule table (report.csv). Grouped by an asset-model level, it leads with that level and
 * the group's asset count: the whole plant first (`(all)`), then each group.
 */
export function alarmScoresTable(r: AlarmScoresResult): Table {
  if (!r.groups) return { columns: SCORE_COLUMNS, rows: r.rules.map(scoreCells) };
  return {
    columns: [r.groups.level, 'assets', ...SCORE_COLUMNS],
    rows: [...r.rules.map((s) => ['(all)', r.assets, ...scoreCells(s)]), ...r.groups.rows.map((g) => [g.group, g.assets, ...scoreCells(g)])],
  };
}

function timeline(t: AssetTimeline, r: AlarmScoresResult): string {
  const domain = [new Date(r.from), new Date(r.to)];
  const failureMarks = (y?: boolean) => Plot.ruleX(t.failures.map((x) => new Date(x)), { stroke: '#d1242f', strokeWidth: 2, ...(y ? {} : {}) });
  const points = t.series.flatMap((s) => s.points.map(([x, v]) => ({ t: new Date(x), value: v, signal: s.signal })));
  const readings = points.length
    ? chart({
      height: 200,
      x: { type: 'utc', label: null, domain },
      y: { label: 'reading', grid: true },
      color: { legend: true },
      marks: [Plot.lineY(points, { x: 't', y: 'value', stroke: 'signal', strokeWidth: 1 }), failureMarks()],
    })
    : '';
  const rules = [...new Set(t.alarms.map((a) => a.rule))].sort();
  const bars = chart({
    height: 40 + 24 * Math.max(1, rules.length),
    marginLeft: 120,
    x: { type: 'utc', label: null, domain },
    y: { label: null, domain: rules.length ? rules : ['(no alarms)'] },
    marks: [
      Plot.barX(t.alarms.map((a) => ({ rule: a.rule, x1: new Date(a.from), x2: new Date(Math.max(a.to, a.from + 60_000)) })), { x1: 'x1', x2: 'x2', y: 'rule', fill: '#bc4c00' }),
      failureMarks(true),
    ],
  });
  const cap = `${t.asset}: ${t.failures.length} failure(s) (red), ${t.alarms.length} alarm interval(s) (orange bars, one row per rule)${points.length ? ', readings of the alarmed signals above (bucket means)' : ''}.`;
  return `<h3>${esc(t.asset)}</h3>${readings ? chartHtml(readings) : ''}${chartHtml(bars, cap)}`;
}

const SHOWN = ['rule', 'alarms', 'true', 'false', 'precision', 'failures', 'detected', 'recall', 'mean lead (h)', 'false alarms / asset-week'];

/** The report section. */
export function renderAlarmScores(r: AlarmScoresResult): string {
  const day = (x: number) => new Date(x).toISOString().slice(0, 16).replace('T', ' ');
  return `<div class="card">Period ${day(r.from)} to ${day(r.to)} UTC (${r.weeks.toFixed(2)} weeks, ${r.assets} assets) · ${r.failures.length} recorded failure(s) · an alarm is true when it is active within ${r.leadHours} h before a failure of its asset.</div>
${tableHtml({ columns: SHOWN, rows: r.rules.map(scoreCells) })}
${r.groups ? `<h3>By ${esc(r.groups.level)}</h3>${tableHtml({ columns: [r.groups.level, 'assets', ...SHOWN], rows: r.groups.rows.map((g) => [g.group, g.assets, ...scoreCells(g)]) })}` : ''}
<h3>Failures</h3>${tableHtml({ columns: ['asset', 'at (UTC)', 'mode'], rows: r.failures.map((f) => [f.asset, new Date(f.at).toISOString(), f.mode ?? null]) })}
${r.timelines.map((t) => timeline(t, r)).join('\n')}`;
}
