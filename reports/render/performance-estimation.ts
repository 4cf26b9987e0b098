/**
 * HTML and CSV of estimated performance (DLE/CBPE): the chunk-by-chunk time chart first (estimate,
 * its band, the reference thresholds, realised where labels exist, alerts in red), then the table.
 */
import type { PerformanceEstimationResult } from '../metrics/performance-estimation.ts';
import type { ModelQualityResult } from '../metrics/model-quality.ts';
import { escapeHtml as esc } from './escape-html.ts';
import { chart, Plot } from './charts.ts';
import { chartHtml, f, tableHtml, type Table } from './html-parts.ts';

/** One row per chunk (report.csv). */
export function estimationTable(r: PerformanceEstimationResult): Table {
  return {
    columns: ['start', 'period', 'rows', `estimated_${r.metric}`, 'lower', 'upper', `realised_${r.metric}`, 'alert'],
    rows: r.chunks.map((c) => [new Date(c.start).toISOString(), c.period, c.rows, c.estimate, c.lower, c.upper, c.realised, c.alert]),
  };
}

export function renderEstimation(r: PerformanceEstimationResult): string {
  const pts = r.chunks.filter((c) => c.estimate !== null).map((c) => ({ t: new Date(c.start + (c.end - c.start) / 2), ...c }));
  const real = pts.filter((c) => c.realised !== null);
  const svg = chart({
    height: 260, x: { type: 'utc', label: null }, y: { label: `${r.metric} (${r.method})`, grid: true },
    marks: [
      Plot.areaY(pts, { x: 't', y1: 'lower', y2: 'upper', fill: '#0969da', fillOpacity: 0.15 }),
      Plot.ruleY([r.thresholds.lower, r.thresholds.upper], { stroke: '#bc4c00', strokeDasharray: '4,3' }),
      Plot.lineY(pts, { x: 't', y: 'estimate', stroke: '#0969da' }),
      Plot.dot(real, { x: 't', y: 'realised', r: 2, fill: '#1a7f37' }),
      Plot.dot(pts.filter((c) => c.alert), { x: 't', y: 'estimate', r: 3.5, fill: '#d1242f' }),
    ],
  });
  const analysis = r.chunks.filter((c) => c.period === 'analysis');
  return `<p>${r.method} estimate of ${esc(r.metric)} per chunk; ${r.alerts} of ${analysis.length} analysis chunks outside the reference thresholds [${esc(f(r.thresholds.lower))}, ${esc(f(r.thresholds.upper))}].</p>`
    + chartHtml(svg, 'Blue: estimate and its band; dashed: thresholds from the reference chunks; green: realised (labelled chunks); red: alerts.')
    + tableHtml(estimationTable(r));
}

/** SageMaker's statistics block of the model-quality report (value and bootstrap standard deviation). */
export function statisticsTable(r: ModelQualityResult): Table {
  const block = 'regression_metrics' in r.statistics ? r.statistics.regression_metrics : r.statistics.binary_classification_metrics;
  const rows = Object.entries(block).filter(([k]) => k !== 'confusion_matrix').map(([k, v]) => [k, (v as { value: number | null }).value, (v as { standard_deviation: number | null }).standard_deviation]);
  return { columns: ['statistic', 'value', 'standard deviation'], rows };
}
