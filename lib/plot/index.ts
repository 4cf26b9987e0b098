/**
 * Observable Plot charts rendered to SVG on the server (linkedom), for reports and notebooks.
 * `renderPlot(options)` takes any Plot options; the builders cover the common charts.
 *
 * @packageDocumentation
 */
export { renderPlot, display } from './render.ts';
export type { PlotOptions } from './render.ts';
export { lineChart, bandChart, heatmap, scatterChart, WEEKDAYS } from './charts.ts';
export type { Rows, ChartOptions, LineChartOptions, BandChartOptions, HeatmapOptions, ScatterChartOptions } from './charts.ts';
export * as Plot from '@observablehq/plot';
