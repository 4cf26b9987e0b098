import * as aq from 'arquero';
import { MillwrightError } from '../lib/errors/index.ts';
import type { LoadedModel, ModelManifest, TensorSpec, TensorValue } from '../lib/model/contract.ts';

/**
 * A typical input row built from the training baseline (median of numeric features, most
 * common category otherwise), so a health check exercises the model on realistic values.
 */
export function probeRow(manifest: ModelManifest): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const f of manifest.features) {
    const b = manifest.baseline?.find((x) => x.name === f.name);
    if (f.type === 'number' || f.type === 'integer') {
      const v = b?.numeric?.quantiles?.['0.5'] ?? b?.numeric?.mean ?? 0;
      row[f.name] = f.type === 'integer' ? Math.round(v) : v;
    } else if (f.type === 'boolean') {
      row[f.name] = false;
    } else {
      const counts = b?.categorical?.counts ?? {};
      const top = Object.entries(counts).sort((a, c) => c[1] - a[1])[0];
      row[f.name] = top ? top[0] : '';
    }
  }
  return row;
}

/**
 * Runs one prediction on the probe row and checks it is usable: exactly one prediction, and
 * a finite number for regression. Throws UNAVAILABLE otherwise, so a broken version is never swapped in.
 */
export async function healthCheck(model: LoadedModel): Promise<void> {
  if (model.tensors && model.predictTensors) return tensorHealthCheck(model);
  const row = probeRow(model.manifest);
  const cols: Record<string, unknown[]> = {};
  for (const [k, v] of Object.entries(row)) cols[k] = [v];
  let out: unknown;
  try {
    out = await model.predict(aq.table(cols));
  } catch (err) {
    throw new MillwrightError('UNAVAILABLE', `health check failed: predict threw on a typical row (${(err as Error).message})`, { cause: err });
  }
  if (!Array.isArray(out) || out.length !== 1) {
    throw new MillwrightError('UNAVAILABLE', `health check failed: predict returned ${Array.isArray(out) ? out.length : 'no'} predictions for 1 row`);
  }
  const p = out[0];
  if (model.manifest.task === 'regression' && !(typeof p === 'number' && Number.isFinite(p))) {
    throw new MillwrightError('UNAVAILABLE', `health check failed: regression model returned ${JSON.stringify(p)} for a typical row (expected a finite number)`);
  }
  if (p === undefined || p === null) throw new MillwrightError('UNAVAILABLE', 'health check failed: model returned an empty prediction');
}

/** A tensor model's probe: zeros of every input's shape (dynamic dimensions 1); every output must come back. */
async function tensorHealthCheck(model: LoadedModel): Promise<void> {
  const inputs = probeTensors(model.tensors!.inputs);
  let out: Record<string, TensorValue>;
  try {
    out = await model.predictTensors!(inputs);
  } catch (err) {
    throw new MillwrightError('UNAVAILABLE', `health check failed: the model threw on zero inputs (${(err as Error).message})`, { cause: err });
  }
  const missing = model.tensors!.outputs.filter((o) => !(o.name in out)).map((o) => o.name);
  if (missing.length > 0) throw new MillwrightError('UNAVAILABLE', `health check failed: output(s) ${missing.join(', ')} missing`);
}

/** A tensor model's probe inputs: zeros of every input's shape, dynamic dimensions 1. */
export function probeTensors(inputs: readonly TensorSpec[]): Record<string, TensorValue> {
  return Object.fromEntries(inputs.map((s) => [s.name, zeroTensor(s)]));
}

function zeroTensor(s: TensorSpec): TensorValue {
  const dims = s.shape.map((d) => (d < 0 ? 1 : d));
  const n = dims.reduce((a, d) => a * d, 1);
  const data: TensorValue['data'] =
    s.type === 'string' ? new Array<string>(n).fill('') : s.type === 'int64' ? new BigInt64Array(n) : s.type === 'uint64' ? new BigUint64Array(n) : s.type === 'float64' ? new Float64Array(n) : s.type === 'float32' ? new Float32Array(n) : s.type === 'int32' ? new Int32Array(n) : s.type === 'uint32' ? new Uint32Array(n) : s.type === 'int16' ? new Int16Array(n) : s.type === 'uint16' || s.type === 'float16' ? new Uint16Array(n) : s.type === 'int8' ? new Int8Array(n) : new Uint8Array(n);
  return { type: s.type, dims, data };
}
