/**
 * HTML and CSV of the energy-performance report: what was saved and how sure we are first, then
 * the baseline model and its fit, the EnPIs, the monthly and weekly tables, the adjustments.
 */
import type { EnergyPerformanceResult } from '../metrics/energy-performance.ts';
import type { RollUpRow } from '../energy-performance/roll-up.ts';
import { escapeHtml as esc } from './escape-html.ts';
import { chart, Plot } from './charts.ts';
import { chartHtml, f, statusBadge, tableHtml, type Table } from './html-parts.ts';

/** The per-period table (report.csv). */
export function energyPerformanceTable(r: EnergyPerformanceResult): Table {
  return {
    columns: ['start', 'period', 'complete', `actual_${r.unit}`, `modelled_${r.unit}`, `adjustment_${r.unit}`, `savings_${r.unit}`, `cumulative_savings_${r.unit}`, `cusum_${r.unit}`, 'production'],
    rows: r.periods.map((p) => [new Date(p.start).toISOString(), p.period, p.complete, p.actual, p.modelled, p.adjustment, p.savings, p.cumulativeSavings, p.cusum, p.production]),
  };
}

function rollUpTable(rows: RollUpRow[], unit: string, withSec: boolean): Table {
  return {
    columns: ['period', '', `actual ${unit}`, `baseline ${unit}`, `savings ${unit}`, `cumulative ${unit}`, 'EnPI (actual/baseline)', ...(withSec ? ['SEC'] : [])],
    rows: rows.map((x) => [x.label, x.period, x.actual, x.modelled, x.savings, x.cumulativeSavings, x.enpi, ...(withSec ? [x.sec] : [])]),
  };
}

function charts(r: EnergyPerformanceResult): string {
  const complete = r.periods.filter((p) => p.complete && p.modelled !== null);
  const series = complete.flatMap((p) => [
    { t: new Date(p.start), energy: p.actual, series: 'actual' },
    { t: new Date(p.start), energy: p.modelled!, series: p.period === 'baseline' ? 'baseline model (fit)' : 'adjusted baseline' },
  ]);
  const line = chart({
    height: 260,
    x: { type: 'utc', label: null },
    y: { label: `${r.unit} per ${r.granularity}`, grid: true },
    color: { legend: true, domain: ['actual', 'baseline model (fit)', 'adjusted baseline'], range: ['#1b1f24', '#8c959f', '#0969da'] },
    marks: [Plot.lineY(series, { x: 't', y: 'energy', stroke: 'series', strokeWidth: 1 }), Plot.ruleX([new Date(r.reporting.from)], { stroke: '#bc4c00', strokeDasharray: '4,3' })],
  });
  const cusum = complete.filter((p) => p.cusum !== null).map((p) => ({ t: new Date(p.start), cusum: p.cusum! }));
  const cusumSvg = chart({ height: 200, x: { type: 'utc', label: null }, y: { label: `CUSUM: cumulative actual − baseline (${r.unit})`, grid: true }, marks: [Plot.ruleY([0]), Plot.lineY(cusum, { x: 't', y: 'cusum', stroke: '#bc4c00' })] });
  const months = r.monthly.filter((m) => m.period === 'reporting');
  const bars = chart({
    height: 200,
    x: { label: null },
    y: { label: `savings (${r.unit})`, grid: true },
    marks: [Plot.ruleY([0]), Plot.barY(months, { x: 'label', y: 'savings', fill: (d: RollUpRow) => (d.savings >= 0 ? '#1a7f37' : '#d1242f') })],
  });
  return `${chartHtml(line, `Energy per ${r.granularity}: actual against the baseline model; the dashed line starts the reporting period.`)}
${chartHtml(cusumSvg, 'CUSUM over the reporting period: a falling line means energy below the adjusted baseline, i.e. savings accumulating.')}
${months.length ? chartHtml(bars, 'Savings per month of the reporting period (green: below the adjusted baseline).') : ''}`;
}

function modelSection(r: EnergyPerformanceResult): string {
  const m = r.model;
  const terms = tableHtml({ columns: ['term', 'coefficient', 'standard error', 'p-value'], rows: m.terms.map((t) => [t.name, t.coefficient, t.standardError, t.pValue]) });
  const dropped = m.dropped.length ? `<p class="small">Left out as constant or collinear in the baseline period: ${m.dropped.map(esc).join(', ')}.</p>` : '';
  const vars = tableHtml({ columns: ['relevant variable', 'used', 'note'], rows: r.relevantVariables.map((v) => [v.name, v.used, v.note]) });
  const unit = m.temperatureUnit === 'F' ? '°F' : '°C';
  const balance = m.balance.heating !== undefined || m.balance.cooling !== undefined
    ? `Balance points: ${[m.balance.heating !== undefined ? `heating ${m.balance.heating} ${unit}` : '', m.balance.cooling !== undefined ? `cooling ${m.balance.cooling} ${unit}` : ''].filter(Boolean).join(', ')} (${esc(m.selection)}; ${m.candidates} candidates).`
    : esc(m.selection);
  return `<h3>Energy baseline</h3>
<div class="card">${m.n} ${r.granularity}s fitted, ${m.p} parameters · R² ${f(m.r2)} (adjusted ${f(m.adjustedR2)}) · CV(RMSE) ${f(m.cvRmsePct)} % · NMBE ${f(m.nmbePct)} % · residual lag-1 autocorrelation ${f(m.residualAutocorrelation)}
<br>${statusBadge(m.guideline14.meets === null ? 'n/a' : m.guideline14.meets ? 'pass' : 'warn')} ${esc(m.guideline14.statement)}
<br>${balance}</div>
${vars}${terms}${dropped}`;
}

/** The report section. */
export function renderEnergyPerformance(r: EnergyPerformanceResult): string {
  const s = r.savings;
  const day = (t: number) => new Date(t).toISOString().slice(0, 10);
  const unc = s.uncertainty.map((u) => `${Math.round(u.confidence * 100)} %: ${f(u.low)} to ${f(u.high)} ${esc(r.unit)} (±${f(u.absolute)}${u.fractionalPct === null ? '' : `, ${f(u.fractionalPct)} % of the savings`}; t = ${f(u.t)}, n′ = ${f(u.effectiveN)})`).join('<br>');
  const withSec = r.enpi.sec !== null;
  const adjustments = r.adjustments.length
    ? `<h3>Baseline adjustments (static factors)</h3>${tableHtml({ columns: ['description', 'from', 'to', 'factor', `per day ${r.unit}`, `effect ${r.unit}`], rows: r.adjustments.map((a) => [a.description, day(a.from), a.to === null ? null : day(a.to), a.factor, a.perDay, a.effect]) })}`
    : '';
  return `<div class="card">Baseline period ${day(r.baseline.from)} to ${day(r.baseline.to)} (${r.baseline.used} of ${r.baseline.periods} ${r.granularity}s used) · reporting period ${day(r.reporting.from)} to ${day(r.reporting.to)} (${r.reporting.used} of ${r.reporting.periods})
<br>Actual <b>${f(s.actual)} ${esc(r.unit)}</b> · adjusted baseline ${f(s.adjustedBaseline)} ${esc(r.unit)} · savings <b>${f(s.savings)} ${esc(r.unit)}</b>${s.fractionPct === null ? '' : ` (${f(s.fractionPct)} %)`}
<br>Savings range (ASHRAE Guideline 14):<br>${unc}
<br>${statusBadge(s.significant === null ? 'n/a' : s.significant ? 'pass' : 'warn')} ${esc(s.statement)}</div>
<div class="card"><b>EnPI:</b> ${esc(r.enpi.statement)}</div>
${charts(r)}
${modelSection(r)}
<h3>Monthly</h3>${tableHtml(rollUpTable(r.monthly, r.unit, withSec), 2)}
<h3>Weekly</h3>${tableHtml(rollUpTable(r.weekly, r.unit, withSec), 2)}
${adjustments}`;
}
