import * as Plot from '@observablehq/plot';
import { renderPlot } from './render.ts';

/** Rows for the chart builders: plain objects (e.g. `table.objects()` from arquero). */
export type Rows = ReadonlyArray<object>;
type Row = Record<string, unknown>;

/** Options shared by the chart builders. */
export interface ChartOptions {
  /** Title above the chart (default none). */
  title?: string;
  /** Caption below (default none). */
  caption?: string;
  /** Width in px (default 640). */
  width?: number;
  /** Height in px (default 300). */
  height?: number;
  /** Axis labels (default: the field names). */
  xLabel?: string;
  yLabel?: string;
}

/** Field names of {@link lineChart}. */
export interface LineChartOptions extends ChartOptions {
  /** X field (default `'ts'`): epoch ms numbers or Dates are drawn on a UTC time axis. */
  x?: string;
  /** Y field (default `'value'`). */
  y?: string;
  /** Series field: one coloured line per value, with a legend (default none). */
  stroke?: string;
  /** Draw the x axis as time (default true when x is `'ts'` or holds Dates). */
  time?: boolean;
}

const isTime = (rows: Rows, x: string) => x === 'ts' || (rows[0] as Row | undefined)?.[x] instanceof Date;
function timeField(x: string, time: boolean) {
  return time ? (d: Record<string, unknown>) => new Date(d[x] as number) : x;
}

/**
 * Line chart of one or more series. Gaps in the data (a NaN/null y) break the line rather than
 * bridging the outage.
 *
 * @example
 * const svg = lineChart(week.objects(), { x: 'ts', y: 'value', stroke: 'signal', title: 'press-1, one week' });
 */
export function lineChart(rows: Rows, options: LineChartOptions = {}): string {
  const x = options.x ?? 'ts';
  const y = options.y ?? 'value';
  const time = options.time ?? isTime(rows, x);
  return renderPlot({
    title: options.title, caption: options.caption, width: options.width ?? 640, height: options.height ?? 300,
    x: { type: time ? 'utc' : 'linear', label: options.xLabel ?? x },
    y: { label: options.yLabel ?? y, grid: true },
    color: options.stroke ? { legend: true } : undefined,
    marks: [Plot.lineY(rows as object[], { x: timeField(x, time), y, stroke: options.stroke, z: options.stroke }), Plot.ruleY([0], { strokeOpacity: 0 })],
  });
}

/** Options of {@link bandChart}. */
export interface BandChartOptions extends ChartOptions {
  x?: string;
  /** Measured value (default `'value'`). */
  y?: string;
  /** Lower / upper band fields (default `'low'` / `'high'`, as flagReadings adds). */
  low?: string;
  high?: string;
  /** Boolean field marking readings to highlight (default `'alarm'`, if present). */
  alarm?: string;
}

/**
 * A value with its normal band (alarm baseline, forecast interval, best-achievable curve):
 * shaded band, the value as a line, flagged readings as red dots.
 *
 * @example
 * bandChart(flagReadings(readings, baseline).objects(), { title: 'current vs normal band' });
 */
export function bandChart(rows: Rows, options: BandChartOptions = {}): string {
  const x = options.x ?? 'ts';
  const y = options.y ?? 'value';
  const low = options.low ?? 'low';
  const high = options.high ?? 'high';
  const alarm = options.alarm ?? 'alarm';
  const time = isTime(rows, x);
  const xf = timeField(x, time);
  const flagged = rows.filter((d) => (d as Row)[alarm] === true);
  return renderPlot({
    title: options.title, caption: options.caption, width: options.width ?? 640, height: options.height ?? 300,
    x: { type: time ? 'utc' : 'linear', label: options.xLabel ?? x },
    y: { label: options.yLabel ?? y, grid: true },
    marks: [
      Plot.areaY(rows as object[], { x: xf, y1: low, y2: high, fill: 'steelblue', fillOpacity: 0.2 }),
      Plot.lineY(rows as object[], { x: xf, y, stroke: 'black', strokeWidth: 1 }),
      Plot.dot(flagged as object[], { x: xf, y, fill: 'red', r: 2.5 }),
    ],
  });
}

/** Options of {@link heatmap}. */
export interface HeatmapOptions extends ChartOptions {
  /** Column field (default `'hour'`). */
  x?: string;
  /** Row field (default `'weekday'`). */
  y?: string;
  /** Value field mapped to colour (default `'value'`). */
  fill?: string;
  /** Colour scheme (default `'ylorrd'`). */
  scheme?: string;
  /** Order of the rows (default: the weekday order Mon..Sun when y is `'weekday'`). */
  yDomain?: unknown[];
}

/** Weekday names in the order {@link heatmap} and the hour-of-week profile use. */
export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/**
 * Heatmap of cells (e.g. the hour-of-week load profile: x = hour 0-23, y = weekday).
 *
 * @example
 * heatmap(hourOfWeekProfile(steel, { utcOffsetMinutes: 540 }).objects(), { fill: 'mean', title: 'kWh by hour of week' });
 */
export function heatmap(rows: Rows, options: HeatmapOptions = {}): string {
  const x = options.x ?? 'hour';
  const y = options.y ?? 'weekday';
  const fill = options.fill ?? 'value';
  return renderPlot({
    title: options.title, caption: options.caption, width: options.width ?? 640, height: options.height ?? 240,
    padding: 0.05,
    x: { label: options.xLabel ?? x, type: 'band' },
    y: { label: options.yLabel ?? y, domain: options.yDomain ?? (y === 'weekday' ? WEEKDAYS : undefined) },
    // A quantized scale: its legend is drawn with rects, while a continuous ramp legend needs a
    // canvas, which the server-side DOM does not have.
    color: { type: 'quantize', n: 9, scheme: (options.scheme ?? 'ylorrd') as Plot.ColorScheme, legend: true, label: fill },
    marks: [Plot.cell(rows as object[], { x, y, fill, inset: 0.5 })],
  });
}

/** Options of {@link scatterChart}. */
export interface ScatterChartOptions extends ChartOptions {
  x: string;
  y: string;
  /** Categorical colour field, with a legend (default none). */
  fill?: string;
  /** Log-scale axes (default false). */
  logX?: boolean;
  logY?: boolean;
}

/**
 * Scatter plot, e.g. two features coloured by class to see whether classes separate.
 *
 * @example
 * scatterChart(windows, { x: 'rms', y: 'kurtosis', fill: 'class', logY: true });
 */
export function scatterChart(rows: Rows, options: ScatterChartOptions): string {
  return renderPlot({
    title: options.title, caption: options.caption, width: options.width ?? 640, height: options.height ?? 360,
    x: { label: options.xLabel ?? options.x, type: options.logX ? 'log' : 'linear', grid: true },
    y: { label: options.yLabel ?? options.y, type: options.logY ? 'log' : 'linear', grid: true },
    color: options.fill ? { legend: true } : undefined,
    marks: [Plot.dot(rows as object[], { x: options.x, y: options.y, fill: options.fill, r: 2.5, fillOpacity: 0.7 })],
  });
}
