import { delimiter, resolve } from 'node:path';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../errors/index.ts';
import { verifyArtifact } from './artifact.ts';
import { loadTrustStore, verifySignedModel, type TrustStore } from './signing.ts';
import type { FeatureSpec, LoadedModel, ModelManifest, Prediction, TensorValue } from './contract.ts';
import { CoercionProblem, coerceFeatureValue } from './coerce-feature.ts';
import { importPredictModule, packageForManifest } from './packages.ts';
import { readEnv } from '../config/index.ts';

export interface LoadOptions {
  /**
   * User package folders the operator allows models to run with (built-ins are always allowed).
   * Default: env `MILLWRIGHT_MODEL_PACKAGES` (a `:`-separated list), else none.
   */
  packages?: string[];
  env?: NodeJS.ProcessEnv;
  /**
   * Trust store: the model must be signed by one of its keys (see `verifySignedModel`).
   * Default: env `MILLWRIGHT_TRUST_DIR`, else none (checksums only).
   */
  trust?: TrustStore | string;
  /** The model running now: loading an older one is refused as a downgrade (with a trust store). */
  running?: ModelManifest;
  allowDowngrade?: boolean;
}

/**
 * Loads a model dir for serving: verifies every checksum (refusing a missing, extra or modified
 * file or a malformed manifest with `INTEGRITY`), resolves the algorithm package the manifest
 * names — a built-in, or a folder the operator allowed; never code stored in the artifact —
 * calls its `load` once and returns a model whose `predict` validates input columns against
 * the feature schema (numeric strings are cast; a missing column is `BAD_INPUT`).
 *
 * @example
 * const model = await loadModel('/opt/ml/model');
 * const [y] = await model.predict(aq.table({ speed: [1200], load: ['high'] }));
 */
export async function loadModel(dir: string, opts: LoadOptions = {}): Promise<LoadedModel> {
  const absDir = resolve(dir);
  const trustSpec = opts.trust ?? readEnv('MILLWRIGHT_TRUST_DIR', opts.env ?? process.env);
  const manifest = trustSpec
    ? (await verifySignedModel(absDir, typeof trustSpec === 'string' ? await loadTrustStore(trustSpec) : trustSpec, { running: opts.running, allowDowngrade: opts.allowDowngrade })).manifest
    : await verifyArtifact(absDir);
  const allowed = opts.packages ?? (readEnv('MILLWRIGHT_MODEL_PACKAGES', opts.env ?? process.env)?.split(delimiter).filter(Boolean) ?? []);
  const ref = packageForManifest(manifest.algorithm, allowed);
  const mod = await importPredictModule(ref);
  let model: unknown;
  try {
    model = await mod.load(absDir, manifest);
  } catch (err) {
    if (err instanceof MillwrightError) throw err;
    throw new MillwrightError('INTEGRITY', `model ${manifest.name}@${manifest.version}: ${manifest.algorithm} could not load ${absDir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const numeric = manifest.features.every((f) => f.type === 'number' || f.type === 'integer');
  const matrixFn = numeric ? mod.predictMatrix : undefined;
  const notes = mod.describe?.(model);
  const tensors = mod.predictTensors ? mod.tensorSignature?.(model) : undefined;
  const tensorFn = mod.predictTensors;
  return {
    manifest,
    dir: absDir,
    ...(notes ? { notes } : {}),
    ...(tensors && tensorFn ? { tensors, predictTensors: (inputs: Record<string, TensorValue>, outputs?: readonly string[]) => tensorFn(model, inputs, outputs) } : {}),
    ...(matrixFn
      ? (() => {
          const F = manifest.features.length;
          const checked = (out: Float64Array | Prediction[], n: number) => {
            if (out.length !== n) {
              throw new MillwrightError('INTERNAL', `model ${manifest.name}@${manifest.version}: predictMatrix returned ${out.length} predictions for ${n} rows`);
            }
            return out;
          };
          const predictMatrixNow = (X: Float64Array, n: number, params: Record<string, unknown> = {}): Float64Array | Prediction[] | Promise<Float64Array | Prediction[]> => {
            if (X.length < n * F) throw new MillwrightError('BAD_INPUT', `predictMatrix: ${X.length} values for ${n} rows x ${F} features`);
            const out = matrixFn(model, X, n, params);
            // any thenable is awaited, as `await` did before this had a synchronous form
            return typeof (out as Partial<PromiseLike<unknown>>).then === 'function' ? Promise.resolve(out).then((o) => checked(o, n)) : checked(out as Float64Array | Prediction[], n);
          };
          return {
            async predictMatrix(X: Float64Array, n: number, params: Record<string, unknown> = {}): Promise<Float64Array | Prediction[]> {
              return predictMatrixNow(X, n, params);
            },
            predictMatrixNow,
          };
        })()
      : {}),
    async predict(table: ColumnTable, params: Record<string, unknown> = {}): Promise<Prediction[]> {
      const input = prepareInput(table, manifest.features);
      const out = await mod.predict(model, input, params);
      if (!Array.isArray(out) || out.length !== input.numRows()) {
        throw new MillwrightError(
          'INTERNAL',
          `model ${manifest.name}@${manifest.version}: predict returned ${Array.isArray(out) ? out.length : typeof out} predictions for ${input.numRows()} rows`,
        );
      }
      return out;
    },
  };
}

/**
 * Checks and casts an input table against a feature schema: every feature column must exist
 * (`BAD_INPUT` naming the missing ones); values go through the one feature coercion
 * ({@link coerceFeatureValue}) with missing values allowed (null, '', NaN). Feature columns come first,
 * in schema order; other columns are kept after them (e.g. ids, timestamps).
 *
 * @example
 * prepareInput(aq.table({ x: ['1.5', '2'] }), [{ name: 'x', type: 'number' }]).array('x'); // [1.5, 2]
 */
export function prepareInput(table: ColumnTable, features: FeatureSpec[]): ColumnTable {
  const names = table.columnNames();
  const have = new Set(names);
  const missing = features.filter((f) => !have.has(f.name)).map((f) => f.name);
  if (missing.length > 0) {
    throw new MillwrightError(
      'BAD_INPUT',
      `missing input column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')}; the model expects ${features.map((f) => `${f.name} (${f.type})`).join(', ')}`,
      { details: { missing } },
    );
  }
  const cols: Record<string, ArrayLike<unknown>> = {};
  for (const f of features) cols[f.name] = castColumn(f, table.array(f.name) as ArrayLike<unknown>);
  for (const n of names) if (!(n in cols)) cols[n] = table.array(n) as ArrayLike<unknown>;
  return aq.table(cols);
}

function castColumn(f: FeatureSpec, values: ArrayLike<unknown>): ArrayLike<unknown> {
  const n = values.length;
  if (f.type === 'number' || f.type === 'integer') {
    // Typed columns are already numbers (NaN = missing): only integers need a look.
    if (values instanceof Float64Array || values instanceof Float32Array || values instanceof Int32Array) {
      if (f.type === 'integer' && !(values instanceof Int32Array)) {
        for (let i = 0; i < n; i++) if (Number.isFinite(values[i]) && !Number.isInteger(values[i])) throw castError(f, i, `is ${values[i]}; expected an integer`);
      }
      return values;
    }
  }
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    const v = coerceFeatureValue(values[i], f, 'allow');
    if (v instanceof CoercionProblem) throw castError(f, i, v.text);
    out[i] = v;
  }
  return out;
}

function castError(f: FeatureSpec, row: number, problem: string): MillwrightError {
  return new MillwrightError('BAD_INPUT', `column "${f.name}" row ${row} ${problem}`, { details: { column: f.name, row } });
}
