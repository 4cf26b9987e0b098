import * as Plot from '@observablehq/plot';
import { parseHTML } from 'linkedom';

/** Options of {@link renderPlot}: Observable Plot's own options (`document` is supplied). */
export type PlotOptions = Omit<Plot.PlotOptions, 'document'>;

/**
 * Renders an Observable Plot chart on the server (linkedom DOM, no browser) and returns its
 * markup: an `<svg>`, or a `<figure>` with the svg when the chart has a title, caption or
 * legend. Output is deterministic: coordinates are rounded to 2 decimals (so snapshots do not
 * flap on the last float digit) and time scales should be `type: 'utc'` (the builders in this
 * module do that) so the machine's time zone cannot change the labels.
 *
 * @example
 * const svg = renderPlot({ marks: [Plot.lineY(rows, { x: 'ts', y: 'value' })], x: { type: 'utc' } });
 * writeFileSync('chart.svg', svg);
 */
export function renderPlot(options: PlotOptions): string {
  const { document } = parseHTML('<!DOCTYPE html><html><body></body></html>');
  const el = Plot.plot({ ...options, document: document as unknown as Plot.PlotOptions['document'] });
  return tidy(el.outerHTML);
}

const NUMERIC_ATTR = /\s(d|transform|x|y|x1|x2|y1|y2|width|height|points|cx|cy|r|viewBox)="([^"]*)"/g;

/** Rounds long floats inside geometry attributes; leaves text (tick labels, titles) alone. */
function tidy(markup: string): string {
  return markup.replace(NUMERIC_ATTR, (_m, name: string, value: string) => ` ${name}="${value.replace(/-?\d+\.\d{3,}(e-?\d+)?/g, (num) => String(Math.round(Number(num) * 100) / 100))}"`);
}

/** Minimal shape of tslab's display API, so lib code does not depend on tslab's types. */
interface TslabLike {
  display: { html(s: string): void };
}

/**
 * Shows chart markup inline in a tslab (TypeScript Jupyter) notebook. Pass the kernel's `tslab`
 * module (`import * as tslab from 'tslab'`) or let it be required from the kernel.
 *
 * @example
 * import * as tslab from 'tslab';
 * display(lineChart(rows, { x: 'ts', y: 'value' }), tslab);
 */
export async function display(markup: string, tslab?: TslabLike): Promise<void> {
  const t = tslab ?? ((await import('tslab' as string)) as TslabLike);
  t.display.html(markup);
}
