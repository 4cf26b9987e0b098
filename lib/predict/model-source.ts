import { basename } from 'node:path';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../errors/index.ts';
import { getDeployable, getStaged, loadModel, readManifest, type LoadOptions, type ModelManifest, type Prediction, type RegistryOptions } from '../model/index.ts';

/** What a schedule predicts with: a loaded model, or a serving endpoint in front of the same model. */
export interface PredictSource {
  /** Registry group, or the model dir's name. */
  group: string;
  manifest: ModelManifest;
  /** The registry version (as text) when from a registry, else the manifest's version. */
  version: string;
  predict(table: ColumnTable): Promise<Prediction[]>;
}

/** Where the model comes from. */
export interface ModelSpec extends RegistryOptions {
  /** Registry group: the version in `stage`, else the latest approved one. */
  group?: string;
  stage?: string;
  /** A model dir instead of a registry group. */
  modelDir?: string;
  /** Call this SageMaker-style endpoint (`POST <url>/invocations`) instead of loading the model in-process; the manifest still comes from the group or dir. */
  endpoint?: string;
  /** Per-call deadline of the endpoint (ms). Default 30 000. */
  endpointTimeoutMs?: number;
  load?: LoadOptions;
}

/** Resolves and loads a {@link ModelSpec}. */
export async function openPredictSource(spec: ModelSpec): Promise<PredictSource> {
  let dir: string;
  let group: string;
  let version: string | undefined;
  if (spec.modelDir !== undefined) {
    dir = spec.modelDir;
    group = basename(spec.modelDir);
  } else if (spec.group !== undefined) {
    const reg = spec.stage !== undefined ? await getStaged(spec.group, spec.stage, spec) : await getDeployable(spec.group, spec);
    dir = reg.dir;
    group = spec.group;
    version = String(reg.record.version);
  } else {
    throw new MillwrightError('BAD_INPUT', 'predictions need a model: a registry group (--group) or a model dir (--model-dir)');
  }
  if (spec.endpoint !== undefined) {
    const manifest = await readManifest(dir);
    return { group, manifest, version: version ?? manifest.version, predict: (t) => invokeEndpoint(spec.endpoint!, t, manifest, spec.endpointTimeoutMs ?? 30_000) };
  }
  const model = await loadModel(dir, spec.load);
  return { group, manifest: model.manifest, version: version ?? model.manifest.version, predict: (t) => model.predict(t) };
}

/** A scheduled source following its group's promoted version: what changed (or why it could not be checked). */
export interface ModelChange {
  group: string;
  from: string;
  /** The version switched to. */
  to?: string;
  /** The registry could not be read or had no promoted version: the schedule keeps `from`. */
  error?: Error;
}

/**
 * The source of the spec's registry group as promoted now (`stage`, else the latest approved):
 * `current` itself when its version still is the promoted one or the registry cannot be read,
 * else the newly loaded version.
 *
 * @example
 * // lib/predict (runPredictions calls it before every slot)
 * let source = await openPredictSource({ group: 'press-energy', stage: 'PROD' });
 * source = await currentPredictSource({ group: 'press-energy', stage: 'PROD' }, source); // after a promotion: the new version
 */
export async function currentPredictSource(spec: ModelSpec, current: PredictSource, onChange?: (c: ModelChange) => void): Promise<PredictSource> {
  const group = spec.group;
  if (group === undefined || spec.modelDir !== undefined) return current;
  try {
    const reg = spec.stage !== undefined ? await getStaged(group, spec.stage, spec) : await getDeployable(group, spec);
    if (String(reg.record.version) === current.version) return current;
    const next = await openPredictSource(spec);
    onChange?.({ group, from: current.version, to: next.version });
    return next;
  } catch (err) {
    onChange?.({ group, from: current.version, error: err instanceof Error ? err : new Error(String(err)) });
    return current;
  }
}

/** POSTs the rows as JSON Lines to `<url>/invocations` and reads MLflow-style `{"predictions": [...]}`. */
async function invokeEndpoint(url: string, table: ColumnTable, manifest: ModelManifest, timeoutMs: number): Promise<Prediction[]> {
  const names = manifest.features.map((f) => f.name);
  const lines = table.objects().map((r) => JSON.stringify(Object.fromEntries(names.map((n) => [n, (r as Record<string, unknown>)[n] ?? null]))));
  const target = `${url.replace(/\/+$/, '').replace(/\/invocations$/, '')}/invocations`;
  let res: Response;
  try {
    res = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/jsonlines', accept: 'application/json' },
      body: `${lines.join('\n')}\n`,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error;
    throw new MillwrightError(e.name === 'TimeoutError' ? 'DEADLINE_EXCEEDED' : 'UNAVAILABLE', `endpoint ${target}: ${e.message}`, { cause: err });
  }
  const text = await res.text();
  if (!res.ok) throw new MillwrightError('UNAVAILABLE', `endpoint ${target} answered ${res.status}: ${text.slice(0, 300)}`);
  let body: { predictions?: Prediction[] };
  try {
    body = JSON.parse(text) as { predictions?: Prediction[] };
  } catch {
    throw new MillwrightError('BAD_INPUT', `endpoint ${target} did not answer JSON: ${text.slice(0, 200)}`);
  }
  if (!Array.isArray(body.predictions) || body.predictions.length !== table.numRows()) {
    throw new MillwrightError('BAD_INPUT', `endpoint ${target} returned ${Array.isArray(body.predictions) ? body.predictions.length : 'no'} predictions for ${table.numRows()} rows (expected {"predictions": [...]})`);
  }
  return body.predictions;
}
