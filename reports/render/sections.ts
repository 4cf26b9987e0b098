/**
 * Per-metric rendering: each result type maps to HTML (tables, hints, inline SVG charts) and to
 * its main table for CSV. Pure functions of the result JSON, so a stored report.json can be
 * re-rendered.
 */
import type { MetricResult } from '../engine.ts';
import { escapeHtml as esc } from './escape-html.ts';
import type { ColumnSummaryResult } from '../metrics/summary.ts';
import type { ConstraintViolationsResult } from '../metrics/constraints.ts';
import type { SensorFaultsResult } from '../metrics/sensor-faults.ts';
import { P_VALUE_TESTS, type DataDriftResult } from '../metrics/drift.ts';
import type { MultivariateDriftResult } from '../metrics/multivariate.ts';
import type { ModelQualityResult } from '../metrics/model-quality.ts';
import type { EnergyDeviationResult } from '../metrics/energy.ts';
import { chart, Plot } from './charts.ts';
import { chartHtml, f, statusBadge, tableHtml, type Table } from './html-parts.ts';
import { energyPerformanceTable, renderEnergyPerformance } from './energy-performance.ts';
import { alarmScoresTable, renderAlarmScores } from './alarm-scores.ts';
import type { AlarmScoresResult } from '../metrics/alarm-scores.ts';
import type { EnergyPerformanceResult } from '../metrics/energy-performance.ts';
import type { PerformanceEstimationResult } from '../metrics/performance-estimation.ts';
import { estimationTable, renderEstimation, statisticsTable } from './performance-estimation.ts';

export { f, type Table } from './html-parts.ts';

// ---- column summary
function summaryTable(r: ColumnSummaryResult): Table {
  const ref = new Map((r.reference ?? []).map((c) => [c.column, c]));
  const columns = ['column', 'kind', 'count', 'missing', 'missing %', 'distinct', 'min', 'p01', 'p05', 'p25', 'p50', 'p75', 'p95', 'p99', 'max', 'mean', 'std', 'top value', 'top count'];
  if (r.reference) columns.push('reference mean', 'reference std', 'reference missing %');
  const rows = r.current.map((c) => {
    const q = c.quantiles ?? {};
    const row: Table['rows'][number] = [c.column, c.kind, c.count, c.missing, 100 * c.missingShare, c.distinct, c.min, q.p01 ?? null, q.p05 ?? null, q.p25 ?? null, q.p50 ?? null, q.p75 ?? null, q.p95 ?? null, q.p99 ?? null, c.max, c.mean, c.std, c.top?.value ?? null, c.top?.count ?? null];
    if (r.reference) {
      const rc = ref.get(c.column);
      row.push(rc?.mean ?? null, rc?.std ?? null, rc ? 100 * rc.missingShare : null);
    }
    return row;
  });
  return { columns, rows };
}

function renderSummary(r: ColumnSummaryResult): string {
  const data = r.current.map((c) => ({ column: c.column, missing: 100 * c.missingShare }));
  const svg = chart({
    height: Math.max(120, 22 * data.length + 40),
    marginLeft: 160,
    x: { label: 'missing values (%)', domain: [0, Math.max(5, ...data.map((d) => d.missing))] },
    y: { label: null },
    marks: [Plot.barX(data, { x: 'missing', y: 'column', fill: '#d1242f' }), Plot.ruleX([100 * r.maxMissingShare], { stroke: '#7d4e00', strokeDasharray: '4 3' }), Plot.ruleX([0])],
  });
  // Timestamp columns (epoch ms between 2000 and 2100, named like a time) read as dates in the page; the CSV keeps numbers.
  const table = summaryTable(r);
  const isTime = (c: ColumnSummaryResult['current'][number]) =>
    c.kind === 'numeric' && /(^ts$|time|date|_at$|At$)/.test(c.column) && c.min !== null && c.max !== null && c.min > 946_684_800_000 && c.max < 4_102_444_800_000;
  const timeCols = new Set(['min', 'p01', 'p05', 'p25', 'p50', 'p75', 'p95', 'p99', 'max', 'mean'].map((n) => table.columns.indexOf(n)));
  table.rows = table.rows.map((row, i) => (isTime(r.current[i]!) ? row.map((v, j) => (timeCols.has(j) && typeof v === 'number' ? new Date(v).toISOString().replace('T', ' ').slice(0, 19) : v)) : row));
  return `<p>${r.rows.toLocaleString('en')} rows, ${r.current.length} columns.</p>${chartHtml(svg, `Missing values per column; dashed line: warning level ${100 * r.maxMissingShare}%.`)}${tableHtml(table, 2)}`;
}

// ---- constraint violations
function violationsTable(r: ConstraintViolationsResult): Table {
  return { columns: ['feature_name', 'constraint_check_type', 'description'], rows: r.violations.map((v) => [v.feature_name, v.constraint_check_type, v.description]) };
}

function renderViolations(r: ConstraintViolationsResult): string {
  if (!r.violations.length) return `<div class="card">No violations: all ${r.checkedFeatures} baseline features meet their constraints.</div>`;
  const counts = new Map<string, number>();
  for (const v of r.violations) counts.set(v.constraint_check_type, (counts.get(v.constraint_check_type) ?? 0) + 1);
  const data = [...counts].map(([check, n]) => ({ check, n }));
  const svg = chart({ height: 40 + 24 * data.length, marginLeft: 170, x: { label: 'violations' }, y: { label: null }, marks: [Plot.barX(data, { x: 'n', y: 'check', fill: '#bc4c00' }), Plot.ruleX([0])] });
  return `${chartHtml(svg)}${tableHtml(violationsTable(r), 3)}`;
}

// ---- sensor faults
function faultsTable(r: SensorFaultsResult): Table {
  return {
    columns: ['kind', 'series', 'start', 'end', 'readings', 'detail'],
    rows: r.events.map((e) => [e.kind, e.series, new Date(e.start).toISOString(), new Date(e.end).toISOString(), e.readings, e.detail]),
  };
}

function renderFaults(r: SensorFaultsResult): string {
  const kinds = ['stuck', 'gap', 'out_of_range', 'duplicate', 'level_change'] as const;
  const data = r.series.flatMap((s) => kinds.map((k) => ({ series: s.series, kind: k, n: s[k] })));
  const svg = chart({
    height: Math.max(140, 26 * r.series.length + 60),
    marginLeft: 180,
    x: { label: 'fault events' },
    y: { label: null },
    color: { legend: true, domain: [...kinds], range: ['#8250df', '#0969da', '#d1242f', '#bc4c00', '#1a7f37'] },
    marks: [Plot.barX(data, { x: 'n', y: 'series', fill: 'kind' }), Plot.ruleX([0])],
  });
  const seriesTable: Table = {
    columns: ['series', 'readings', 'median interval (s)', ...kinds],
    rows: r.series.map((s) => [s.series, s.readings, s.medianIntervalMs === null ? null : s.medianIntervalMs / 1000, ...kinds.map((k) => s[k])]),
  };
  const grouped = r.groups
    ? `<h3>By ${esc(r.groups.level)}</h3>${tableHtml({ columns: [r.groups.level, 'series', 'readings', ...kinds], rows: r.groups.rows.map((g) => [g.group, g.series, g.readings, ...kinds.map((k) => g[k])]) })}`
    : '';
  return `${chartHtml(svg, 'Fault events per series and kind.')}${grouped}${tableHtml(seriesTable)}<h3>Events</h3>${r.events.length ? tableHtml(faultsTable(r), 4, 200) : '<p>None.</p>'}`;
}

// ---- data drift
function driftTable(r: DataDriftResult): Table {
  return {
    columns: ['column', 'kind', 'test', 'value', 'threshold', 'drifted', 'ks statistic', 'ks p-value', 'wasserstein (normed)', 'psi', 'jensen-shannon', 'chi-square', 'chi-square p-value', 'reference rows', 'current rows', 'states compared', 'states drifted', 'shown state'],
    rows: r.columns.map((c) => [
      c.column, c.kind, c.test, c.value, c.threshold, c.drifted, c.ks?.statistic ?? null, c.ks?.pValue ?? null, c.wassersteinNormed, c.psi, c.jensenShannon,
      c.chiSquare?.statistic ?? null, c.chiSquare?.pValue ?? null, c.referenceRows, c.currentRows,
      c.states ? c.states.length : null, c.states ? c.states.filter((s) => s.drifted).map((s) => s.state).join(' ') : null,
      (c as { state?: string }).state ?? null,
    ]),
  };
}

function severityOf(c: DataDriftResult['columns'][number]): number {
  if (c.value === null) return 10;
  const s = P_VALUE_TESTS.has(c.test) ? Math.log10(c.threshold) / Math.log10(Math.max(c.value, 1e-300)) : c.value / c.threshold;
  return Math.min(s, 10);
}

function renderDrift(r: DataDriftResult): string {
  const data = r.columns.map((c) => ({ column: c.column, severity: P_VALUE_TESTS.has(c.test) ? 1 / Math.max(severityOf(c), 1e-3) : severityOf(c), drifted: c.drifted ? 'drifted' : 'not drifted' }));
  // For p-value tests severity is shown as log(p)/log(threshold): >= 1 means drifted, like distance/threshold.
  for (const [i, c] of r.columns.entries()) if (P_VALUE_TESTS.has(c.test)) data[i]!.severity = c.value === null ? 10 : Math.min(10, Math.log10(Math.max(c.value, 1e-300)) / Math.log10(c.threshold));
  const svg = chart({
    height: Math.max(120, 22 * data.length + 50),
    marginLeft: 170,
    x: { label: 'drift score (1 = threshold)' },
    y: { label: null },
    color: { legend: true, domain: ['drifted', 'not drifted'], range: ['#d1242f', '#8c959f'] },
    marks: [Plot.barX(data, { x: 'severity', y: 'column', fill: 'drifted' }), Plot.ruleX([1], { stroke: '#1b1f24', strokeDasharray: '4 3' }), Plot.ruleX([0])],
  });
  const top = [...r.columns].sort((a, b) => Number(b.drifted) - Number(a.drifted) || severityOf(b) - severityOf(a)).slice(0, 6);
  const dists = top.map((c) => {
    const rows = c.distribution.labels.flatMap((label, i) => [
      { bin: i, label, share: c.distribution.reference[i] ?? 0, dataset: 'reference' },
      { bin: i, label, share: c.distribution.current[i] ?? 0, dataset: 'current' },
    ]);
    const svgD = c.distribution.edges
      ? chart({
          height: 180,
          x: { label: c.column },
          y: { label: 'share', grid: true },
          color: { legend: true, domain: ['reference', 'current'], range: ['#8c959f', '#0969da'] },
          marks: [Plot.lineY(rows.map((d) => ({ ...d, x: c.distribution.edges![d.bin]! })), { x: 'x', y: 'share', stroke: 'dataset', curve: 'step-after' }), Plot.ruleY([0])],
        })
      : chart({
          height: 60 + 34 * Math.min(c.distribution.labels.length, 12),
          marginLeft: 120,
          x: { label: 'share', grid: true },
          y: { label: null, domain: ['reference', 'current'], axis: null },
          fy: { label: null, domain: c.distribution.labels.slice(0, 12) },
          color: { legend: true, domain: ['reference', 'current'], range: ['#8c959f', '#0969da'] },
          marks: [Plot.barX(rows.filter((d) => d.bin < 12), { x: 'share', y: 'dataset', fy: 'label', fill: 'dataset' }), Plot.ruleX([0])],
        });
    return `<h3>${esc(c.column)}: ${c.drifted ? 'drifted' : 'not drifted'} (${esc(c.test)} ${esc(f(c.value))}, threshold ${esc(f(c.threshold))})</h3>${chartHtml(svgD)}`;
  });
  const mix = r.stateMix
    ? `<h3>Operating states</h3><p>Columns are compared within each state, so a change in how long the plant spent in each state is not counted as drift.${
        r.stateMixShift ? ` State mix change: Jensen-Shannon ${esc(f(r.stateMixShift.jensenShannon))}, chi-square p ${esc(f(r.stateMixShift.pValue))}.` : ''
      }</p>${tableHtml({ columns: ['state', 'reference share %', 'current share %'], rows: r.stateMix.map((s) => [s.state, 100 * s.referenceShare, 100 * s.currentShare]) })}`
    : '';
  return `<div class="card"><b>${r.driftedColumns} of ${r.columns.length}</b> columns drifted (${(100 * r.shareDrifted).toFixed(0)}%). Dataset drift: <b>${r.datasetDrift ? 'yes' : 'no'}</b> (at ${(100 * r.driftShare).toFixed(0)}% of columns).</div>
${chartHtml(svg, 'Drift score per column: distance / threshold, or log(p) / log(threshold) for p-value tests; dashed line = threshold.')}
${tableHtml(driftTable(r), 3)}${mix}${dists.join('\n')}`;
}

// ---- multivariate
function renderMultivariate(r: MultivariateDriftResult): string {
  const data = [
    ...r.referenceChunks.map((e, i) => ({ chunk: i + 1, error: e, dataset: 'reference' })),
    ...r.currentChunks.map((e, i) => ({ chunk: r.referenceChunks.length + i + 1, error: e, dataset: 'current' })),
  ];
  const svg = chart({
    height: 220,
    x: { label: 'chunk (reference, then current)' },
    y: { label: 'reconstruction error', grid: true },
    color: { legend: true, domain: ['reference', 'current'], range: ['#8c959f', '#0969da'] },
    marks: [
      Plot.areaY([{ chunk: 1 }, { chunk: data.length }], { x: 'chunk', y1: () => r.band.lower, y2: () => r.band.upper, fill: '#dafbe1' }),
      Plot.lineY(data, { x: 'chunk', y: 'error', stroke: 'dataset', marker: 'circle' }),
    ],
  });
  return `<div class="card">Reconstruction error ${f(r.currentError)} vs reference ${f(r.referenceError)} (×${f(r.ratio, 3)}); ${r.components} principal components keep ${(100 * r.explainedVariance).toFixed(0)}% of the variance of ${r.columns.length} columns. <b>${r.drifted ? 'Outside' : 'Within'}</b> the normal band ${f(r.band.lower)}–${f(r.band.upper)}.</div>${chartHtml(svg, 'Green: normal band of the reference error.')}`;
}

// ---- model quality
function modelTable(r: ModelQualityResult): Table {
  return { columns: ['metric', 'current', 'training', 'degradation %', 'status'], rows: r.comparison.map((c) => [c.metric, c.current, c.training, c.degradation === null ? null : 100 * c.degradation, c.status]) };
}

function renderModel(r: ModelQualityResult): string {
  const t = modelTable(r);
  const rows = r.comparison.map((c) => `<tr><td class="l">${esc(c.metric)}</td><td>${esc(f(c.current))}</td><td>${esc(f(c.training))}</td><td>${esc(c.degradation === null ? '–' : f(100 * c.degradation, 3))}</td><td class="l">${statusBadge(c.status)}</td></tr>`).join('');
  let chartPart = '';
  if (r.sample && r.sample.length) {
    const lo = Math.min(...r.sample.map((d) => Math.min(d.actual, d.predicted)));
    const hi = Math.max(...r.sample.map((d) => Math.max(d.actual, d.predicted)));
    chartPart = chartHtml(chart({
      height: 360, width: 420, x: { label: 'actual', domain: [lo, hi] }, y: { label: 'predicted', domain: [lo, hi], grid: true },
      marks: [Plot.line([[lo, lo], [hi, hi]], { stroke: '#8c959f', strokeDasharray: '4 3' }), Plot.dot(r.sample, { x: 'actual', y: 'predicted', r: 1.5, fill: '#0969da', fillOpacity: 0.5 })],
    }), 'Predicted vs actual; dashed: perfect prediction.');
  } else if (r.confusion) {
    const cells = r.confusion.labels.flatMap((a, i) => r.confusion!.labels.map((p, j) => ({ actual: a, predicted: p, n: r.confusion!.counts[i]![j]! })));
    const maxCell = Math.max(...cells.map((c) => c.n));
    chartPart = chartHtml(chart({
      height: 80 + 40 * r.confusion.labels.length, width: 120 + 60 * r.confusion.labels.length, marginLeft: 100, padding: 0,
      x: { label: 'predicted' }, y: { label: 'actual' }, color: { scheme: 'blues' },
      marks: [Plot.cell(cells, { x: 'predicted', y: 'actual', fill: 'n' }), Plot.text(cells, { x: 'predicted', y: 'actual', text: (d: { n: number }) => String(d.n), fill: (d: { n: number }) => (d.n > maxCell / 2 ? 'white' : 'black') })],
    }), 'Confusion matrix.');
  }
  return `<p>${r.task}, ${f(r.metrics.n ?? r.rows)} rows with ground truth.</p><table><thead><tr>${t.columns.map((c, i) => `<th${i === 0 || i === 4 ? ' class="l"' : ''}>${esc(c)}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>${r.statistics ? tableHtml(statisticsTable(r)) : ''}${chartPart}`;
}

// ---- energy
function energyTable(r: EnergyDeviationResult): Table {
  return {
    columns: ['hour', 'slot', 'actual_kwh', 'expected_kwh', 'best_kwh', 'deviation_kwh', 'deviation_pct', 'excess_over_best_kwh', 'excess_over_best_pct', 'flagged', 'cusum_kwh', 'hints'],
    rows: r.hours.map((h) => [new Date(h.hour).toISOString(), h.slot, h.actual, h.expected, h.best, h.deviationKwh, h.deviationPct, h.excessOverBestKwh, h.excessOverBestPct, h.flagged, h.cusumKwh, h.hints.join(' ')]),
  };
}

function renderEnergy(r: EnergyDeviationResult): string {
  const t = r.totals;
  const g = r.guideline14;
  // Beyond two months an hourly line is denser than the pixels: draw daily totals instead (the CSV keeps every hour).
  const daily = r.hours.length > 24 * 62;
  const DAY = 86_400_000;
  type Point = { t: Date; kWh: number; series: string };
  let long: Point[];
  let flaggedPts: { t: Date; kWh: number }[];
  if (daily) {
    const days = new Map<number, { actual: number; expected: number; best: number; flagged: number; hasE: boolean; hasB: boolean }>();
    for (const h of r.hours) {
      const d = Math.floor(h.hour / DAY) * DAY;
      let a = days.get(d);
      if (!a) days.set(d, (a = { actual: 0, expected: 0, best: 0, flagged: 0, hasE: false, hasB: false }));
      a.actual += h.actual;
      if (h.expected !== null) {
        a.expected += h.expected;
        a.hasE = true;
      }
      if (h.best !== null) {
        a.best += h.best;
        a.hasB = true;
      }
      if (h.flagged) a.flagged++;
    }
    long = [...days].flatMap(([d, a]) => [
      { t: new Date(d), kWh: a.actual, series: 'actual' },
      ...(a.hasE ? [{ t: new Date(d), kWh: a.expected, series: 'expected' }] : []),
      ...(a.hasB ? [{ t: new Date(d), kWh: a.best, series: 'best achievable' }] : []),
    ]);
    flaggedPts = [...days].filter(([, a]) => a.flagged > 0).map(([d, a]) => ({ t: new Date(d), kWh: a.actual }));
  } else {
    long = r.hours.flatMap((h) => [
      { t: new Date(h.hour), kWh: h.actual, series: 'actual' },
      ...(h.expected !== null ? [{ t: new Date(h.hour), kWh: h.expected, series: 'expected' }] : []),
      ...(h.best !== null ? [{ t: new Date(h.hour), kWh: h.best, series: 'best achievable' }] : []),
    ]);
    flaggedPts = r.hours.filter((h) => h.flagged).map((h) => ({ t: new Date(h.hour), kWh: h.actual }));
  }
  const flagged = r.hours.filter((h) => h.flagged);
  const line = chart({
    height: 280,
    x: { label: null, type: 'utc' },
    y: { label: daily ? 'kWh per day (UTC days)' : 'kWh per hour', grid: true },
    color: { legend: true, domain: ['actual', 'expected', 'best achievable'], range: ['#1b1f24', '#0969da', '#1a7f37'] },
    marks: [Plot.lineY(long, { x: 't', y: 'kWh', stroke: 'series', strokeWidth: daily ? 1.2 : 0.8 }), Plot.dot(flaggedPts, { x: 't', y: 'kWh', r: 1.6, fill: '#d1242f' })],
  });
  const cusumData = r.hours.filter((h, i) => h.cusumKwh !== null && (!daily || i === r.hours.length - 1 || Math.floor(r.hours[i + 1]!.hour / DAY) !== Math.floor(h.hour / DAY))).map((h) => ({ t: new Date(h.hour), cusum: h.cusumKwh! }));
  const cusum = cusumData.length
    ? chartHtml(chart({ height: 200, x: { type: 'utc', label: null }, y: { label: 'cumulative actual − expected (kWh)', grid: true }, marks: [Plot.ruleY([0]), Plot.lineY(cusumData, { x: 't', y: 'cusum', stroke: '#bc4c00' })] }), 'CUSUM: a rising line means energy above the model, steadily.')
    : '';
  const heat = chart({
    height: 230,
    marginLeft: 40,
    padding: 0.05,
    x: { label: 'hour of day (plant time)', tickFormat: (d: number) => String(d) },
    y: { label: null, domain: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] },
    color: { label: `mean kWh above ${r.options.flagAgainst === 'best' ? 'best achievable' : 'expected'} per hour`, legend: true, type: 'quantize', n: 6, scheme: 'reds', domain: [0, Math.max(1, ...r.heatmap.map((c) => c.meanExcessKwh ?? 0))] },
    marks: [Plot.cell(r.heatmap.filter((c) => c.meanExcessKwh !== null), { x: 'hour', y: 'day', fill: 'meanExcessKwh' })],
  });
  const money = t.cost !== null ? `<br>Cost of flagged excess: <b>${f(t.cost)} ${esc(t.currency)}</b>` : '';
  const co2 = t.co2Kg !== null ? `<br>CO2 of flagged excess: <b>${f(t.co2Kg / 1000)} t</b>` : '';
  const worst = [...flagged].sort((a, b) => (b.excessOverBestKwh ?? b.deviationKwh ?? 0) - (a.excessOverBestKwh ?? a.deviationKwh ?? 0)).slice(0, 25);
  const worstHtml = worst.length
    ? `<table><thead><tr><th class="l">hour (UTC)</th><th class="l">slot</th><th>actual</th><th>expected</th><th>best</th><th>excess over best</th><th class="l">why</th></tr></thead><tbody>${worst
        .map((h) => `<tr><td class="l">${esc(new Date(h.hour).toISOString().slice(0, 16).replace('T', ' '))}</td><td class="l">${esc(h.slot)}</td><td>${f(h.actual)}</td><td>${f(h.expected)}</td><td>${f(h.best)}</td><td>${f(h.excessOverBestKwh)}</td><td class="l"><ul class="hints">${h.hints.map((x) => `<li>${esc(x)}</li>`).join('')}</ul></td></tr>`)
        .join('')}</tbody></table>`
    : '<p>No hour exceeded the threshold.</p>';
  const slots = r.topSlots.length
    ? tableHtml({ columns: ['slot', 'flagged hours', 'hours', 'mean excess kWh'], rows: r.topSlots.map((s) => [s.slot, s.flaggedHours, s.hours, s.meanExcessKwh]) })
    : '';
  const drivers = r.driverCounts.length ? `<p>Drivers most often behind flagged hours: ${r.driverCounts.map((d) => `${esc(d.driver)} (${d.hints})`).join(', ')}.</p>` : '';
  return `<div class="card">${t.hours.toLocaleString('en')} hours · actual <b>${f(t.actualKwh)} kWh</b>${t.expectedKwh !== null ? ` · expected ${f(t.expectedKwh)} kWh` : ''}${t.bestKwh !== null ? ` · best achievable ${f(t.bestKwh)} kWh` : ''}
<br>Excess vs expected (CUSUM end): <b>${f(t.excessVsExpectedKwh)} kWh</b>${t.avoidableKwh !== null ? ` · above best achievable: <b>${f(t.avoidableKwh)} kWh</b>` : ''}
<br>Flagged hours (&gt; ${r.options.thresholdPct}% above ${r.options.flagAgainst === 'best' ? 'best achievable' : 'expected'}): <b>${t.flaggedHours}</b>, ${f(t.flaggedExcessKwh)} kWh excess${money}${co2}</div>
<div class="card"><b>Model accuracy (ASHRAE Guideline 14, hourly):</b> ${statusBadge(g.meets === null ? 'n/a' : g.meets ? 'pass' : 'warn')} ${esc(g.statement)}</div>
${chartHtml(line, daily ? 'Daily energy; red dots: days with flagged hours (hourly detail in report.csv).' : 'Hourly energy; red dots: flagged hours.')}
${cusum}
${chartHtml(heat, 'Where the excess happens: mean energy above the flag baseline for each hour of the week (plant time).')}
<h3>Recurring slots with the most excess</h3>${slots}${drivers}
<h3>Worst flagged hours</h3>${worstHtml}`;
}

/** HTML for one metric result. Unknown types get their JSON shown, so nothing is silently lost. */
export function renderMetric(m: MetricResult): string {
  switch (m.type) {
    case 'column-summary': return renderSummary(m as ColumnSummaryResult);
    case 'constraint-violations': return renderViolations(m as ConstraintViolationsResult);
    case 'sensor-faults': return renderFaults(m as SensorFaultsResult);
    case 'data-drift': return renderDrift(m as DataDriftResult);
    case 'multivariate-drift': return renderMultivariate(m as MultivariateDriftResult);
    case 'model-quality': return renderModel(m as ModelQualityResult);
    case 'energy-deviation': return renderEnergy(m as EnergyDeviationResult);
    case 'energy-performance': return renderEnergyPerformance(m as EnergyPerformanceResult);
    case 'alarm-scores': return renderAlarmScores(m as AlarmScoresResult);
    case 'performance-estimation': return renderEstimation(m as PerformanceEstimationResult);
    default: return `<pre>${esc(JSON.stringify(m, null, 2))}</pre>`;
  }
}

/** The main table of a metric result (for CSV), or null. */
export function metricTable(m: MetricResult): Table | null {
  switch (m.type) {
    case 'column-summary': return summaryTable(m as ColumnSummaryResult);
    case 'constraint-violations': return violationsTable(m as ConstraintViolationsResult);
    case 'sensor-faults': return faultsTable(m as SensorFaultsResult);
    case 'data-drift': return driftTable(m as DataDriftResult);
    case 'model-quality': return modelTable(m as ModelQualityResult);
    case 'energy-deviation': return energyTable(m as EnergyDeviationResult);
    case 'energy-performance': return energyPerformanceTable(m as EnergyPerformanceResult);
    case 'alarm-scores': return alarmScoresTable(m as AlarmScoresResult);
    case 'performance-estimation': return estimationTable(m as PerformanceEstimationResult);
    default: return null;
  }
}
