/**
 * Observable Plot → SVG markup on the server (linkedom provides the DOM). A thin wrapper kept
 * here until lib/plot offers the same; charts are plain inline SVG, so the HTML needs no script.
 */
import * as Plot from '@observablehq/plot';
import { parseHTML } from 'linkedom';

type PlotDocument = NonNullable<Plot.PlotOptions['document']>;

let doc: PlotDocument | undefined;

function document(): PlotDocument {
  doc ??= parseHTML('<!doctype html><html><head></head><body></body></html>').document as unknown as PlotDocument;
  return doc;
}

/**
 * Renders Plot options to an SVG (or figure) string.
 *
 * @example
 * chart({ marks: [Plot.lineY([1, 3, 2])], height: 120 })
 */
export function chart(options: Plot.PlotOptions): string {
  const el = Plot.plot({ width: 860, height: 260, style: { fontSize: '11px', background: 'white' }, ...options, document: document() });
  return (el as unknown as { outerHTML: string }).outerHTML;
}

export { Plot };
