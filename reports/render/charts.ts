/**
 * Charts for the HTML reports: lib/plot's server-side Observable Plot (linkedom, deterministic
 * SVG) with the reports' default size and style. Charts are plain inline SVG, so a report needs
 * no script.
 */
import { renderPlot, Plot, type PlotOptions } from '../../lib/plot/index.ts';

/**
 * Renders Plot options to an SVG (or figure) string at the reports' default size.
 *
 * @example
 * chart({ marks: [Plot.lineY([1, 3, 2])], height: 120 })
 */
export function chart(options: PlotOptions): string {
  return renderPlot({ width: 860, height: 260, style: { fontSize: '11px', background: 'white' }, ...options });
}

export { Plot };
