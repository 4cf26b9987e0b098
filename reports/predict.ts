import * as aq from 'arquero';
import { loadModel } from '../lib/model/load-model.ts';
import type { Frame } from './data.ts';
import { toFrame } from './data.ts';

/**
 * Runs a model dir's predictions over a frame and returns the frame with them added: `prediction`
 * for scalar outputs, one column per key for record outputs (the energy model's `expected`, `best`).
 *
 * @example
 * const withPredictions = await addPredictions(frame, '.millwright/registry/steel-energy/3');
 */
export async function addPredictions(frame: Frame, modelDir: string): Promise<Frame> {
  const model = await loadModel(modelDir);
  const cols: Record<string, unknown[]> = {};
  for (const f of model.manifest.features) {
    const c = frame.columns.get(f.name);
    cols[f.name] = c ? Array.from(c.values as ArrayLike<unknown>, (v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) : new Array(frame.rows).fill(null);
  }
  const preds = await model.predict(aq.table(cols));
  const out: Record<string, ArrayLike<unknown>> = {};
  for (const [name, c] of frame.columns) out[name] = c.values;
  for (let i = 0; i < preds.length; i++) {
    const p = preds[i];
    if (p !== null && typeof p === 'object') {
      for (const [k, v] of Object.entries(p)) {
        const key = frame.columns.has(k) ? `prediction_${k}` : k;
        ((out[key] as unknown[] | undefined) ?? (out[key] = new Array(frame.rows).fill(null)) as unknown[])[i] = v;
      }
    } else {
      ((out.prediction as unknown[] | undefined) ?? (out.prediction = new Array(frame.rows).fill(null)) as unknown[])[i] = p;
    }
  }
  return toFrame(out);
}
