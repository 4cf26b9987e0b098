import { MillwrightError } from '../errors/index.ts';
import type { FeatureSpec, Prediction } from '../model/index.ts';
import { predictionsFile, predictionsFileExists, writePredictions, type PredictionRow } from '../store/index.ts';
import { parseDuration } from '../units/index.ts';
import { buildDefaultInputs, buildQueryInputs, type InputWindow, type SlotInputs } from './inputs.ts';
import { SlotLedger, type SlotEntry, type SlotStatus } from './ledger.ts';
import { currentPredictSource, openPredictSource, type ModelChange, type ModelSpec, type PredictSource } from './model-source.ts';
import { checkSchedule, dueSlots, latestSlot, nextSlot, type SlotSchedule } from './slots.ts';

/** Options of {@link runPredictions}. */
export interface PredictionScheduleOptions extends ModelSpec {
  /** Store root: read `readings`, write `predictions` (and the slot ledger). */
  store: string;
  site: string;
  /** Slot period (`2h` or ms), aligned to the UTC epoch; or give `cron`. */
  every?: string | number;
  /** Cron expression (UTC) instead of `every`. */
  cron?: string;
  /** Look-back read before each slot (`6h` or ms): inputs are [slot − window, slot). */
  window: string | number;
  /** How far ahead to predict (`2h` or ms). */
  horizon: string | number;
  /** Bucket of the default feature query and spacing of the target times. Default: 1h, or the horizon when shorter. */
  step?: string | number;
  /** Feature query instead of the default one (see `buildQueryInputs`; placeholders `{site}`, `{from_ms}`, `{to_ms}`, `{slot_ms}`, `{horizon_ms}`). */
  query?: string;
  /** Only these assets (default query). Default: every asset with all feature signals in the window. */
  assets?: string[];
  /** The feature that is the interval start time (set to each target time). Default: a feature named `ts` or with unit `epoch ms`. */
  timeFeature?: string | null;
  /** Ledger and file key. Default: `<group>` (one schedule per group and site). */
  key?: string;
  /** Run every missed slot since the ledger's last (true, default) or only the latest due slot. */
  catchUp?: boolean;
  /** At most this many missed slots are caught up (the newest). Default 100. */
  maxCatchUp?: number;
  /** Run what is due, then return (no waiting for the next slot). */
  once?: boolean;
  /** The clock (tests move it). Default `Date.now`. */
  now?: () => number;
  signal?: AbortSignal;
  /** Called after each slot is marked (write-back publishes from here). */
  onSlot?: (result: SlotResult) => void | Promise<void>;
  /** An already opened model (instead of resolving `group`/`modelDir`); it is used for every slot. */
  source?: PredictSource;
  /**
   * Called when a registry group's promoted version (the `stage`, else the latest approved) changed
   * between slots and the schedule switched to it; `error` when the registry could not be read
   * (the schedule keeps the version it has).
   */
  onModelChange?: (change: ModelChange) => void;
  /** Deadline of one model call (ms): a slower model fails the slot with DEADLINE_EXCEEDED. Default 60 000. */
  predictTimeoutMs?: number;
  /** @internal Test hook between the predictions write and the ledger mark. */
  afterWrite?: (slot: number, file: string) => Promise<void>;
}

/** What one slot produced. */
export interface SlotResult {
  slot: number;
  status: SlotStatus;
  /** Inputs' time range [from, to). */
  from: number;
  to: number;
  /** Newest reading behind the inputs (epoch ms). */
  latestInput?: number;
  group: string;
  model: string;
  modelVersion: string;
  rows: PredictionRow[];
  file?: string;
  /** Assets without every feature in the window. */
  missing: string[];
  error?: Error;
  /** The file was already written by a run that died before marking the slot. */
  recovered?: boolean;
}

const ms = (v: string | number, what: string): number => (typeof v === 'number' ? v : parseDuration(v, { what }));

function timeFeatureOf(features: FeatureSpec[], opt: string | null | undefined): string | undefined {
  if (opt === null) return undefined;
  if (opt !== undefined) {
    if (!features.some((f) => f.name === opt)) throw new MillwrightError('BAD_INPUT', `time feature "${opt}" is not a model feature (${features.map((f) => f.name).join(', ')})`);
    return opt;
  }
  return features.find((f) => f.name === 'ts' || f.unit === 'epoch ms')?.name;
}

/** Flattens predictions into rows: a record gives one row per key, a number `value`, a string `text`. */
function predictionRows(p: Prediction[], inputs: SlotInputs, base: Omit<PredictionRow, 'ts' | 'asset' | 'output' | 'value' | 'id'>): PredictionRow[] {
  const rows: PredictionRow[] = [];
  p.forEach((pred, i) => {
    const common = { ...base, ts: inputs.targets[i]!, ...(inputs.assets[i] !== undefined ? { asset: inputs.assets[i] } : {}) };
    const add = (output: string, v: number | string | null) => {
      const id = `${base.group}/${base.slot}/${i}/${output}`;
      rows.push(typeof v === 'string' ? { ...common, output, value: null, text: v, id } : { ...common, output, value: v, id });
    };
    if (typeof pred === 'object' && pred !== null) for (const [k, v] of Object.entries(pred)) add(k, v);
    else add('value', pred);
  });
  return rows;
}

interface Plan {
  schedule: SlotSchedule;
  window: number;
  horizon: number;
  step: number;
}

function planOf(o: PredictionScheduleOptions): Plan {
  if ((o.every === undefined) === (o.cron === undefined)) throw new MillwrightError('BAD_INPUT', 'predictions need exactly one of every (e.g. 2h) and cron (e.g. "0 */2 * * *")');
  const schedule: SlotSchedule = o.cron !== undefined ? { cron: o.cron } : { every: ms(o.every!, 'every') };
  checkSchedule(schedule);
  const window = ms(o.window, 'window');
  const horizon = ms(o.horizon, 'horizon');
  const step = o.step !== undefined ? ms(o.step, 'step') : Math.min(horizon, 3_600_000);
  for (const [k, v] of Object.entries({ window, horizon, step })) if (!(v > 0)) throw new MillwrightError('BAD_INPUT', `${k} must be a positive duration`);
  return { schedule, window, horizon, step };
}

/**
 * Runs one slot: reads [slot − window, slot), predicts, writes the predictions file. Never throws
 * for a model or input failure (the result says `failed` / `no-input`); throws for store errors.
 */
export async function runSlot(o: PredictionScheduleOptions, source: PredictSource, plan: Plan, slot: number, key: string): Promise<SlotResult> {
  const w: InputWindow = { site: o.site, from: slot - plan.window, to: slot, slot, horizon: plan.horizon, step: plan.step };
  const base = { slot, from: w.from, to: w.to, group: source.group, model: source.manifest.name, modelVersion: source.version, rows: [] as PredictionRow[], missing: [] as string[] };
  const file = predictionsFile(o.store, o.site, slot, key);
  if (await predictionsFileExists(file)) return { ...base, status: 'done', file, recovered: true };
  let inputs: SlotInputs;
  let preds: Prediction[];
  try {
    const features = source.manifest.features;
    inputs = o.query !== undefined ? await buildQueryInputs(o.store, w, o.query, features) : await buildDefaultInputs(o.store, w, features, timeFeatureOf(features, o.timeFeature), o.assets);
    if (inputs.table.numRows() === 0) return { ...base, status: 'no-input', missing: inputs.missing };
    preds = await withDeadline(source.predict(inputs.table), o.predictTimeoutMs ?? 60_000, `model ${source.group}@${source.version}`);
  } catch (err) {
    return { ...base, status: 'failed', error: err instanceof Error ? err : new Error(String(err)) };
  }
  const rows = predictionRows(preds, inputs, { slot, site: o.site, group: source.group, model: source.manifest.name, modelVersion: source.version, inputFrom: w.from, inputTo: w.to });
  await writePredictions(o.store, { site: o.site, slot, key }, rows);
  await o.afterWrite?.(slot, file);
  return { ...base, status: 'done', rows, file, missing: inputs.missing, ...(inputs.latestInput !== undefined ? { latestInput: inputs.latestInput } : {}) };
}

function withDeadline<T>(p: Promise<T>, limit: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new MillwrightError('DEADLINE_EXCEEDED', `${what} did not answer within ${limit} ms`)), limit);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

function entryOf(r: SlotResult): SlotEntry {
  return {
    slot: r.slot, status: r.status, at: Date.now(), rows: r.rows.length, modelVersion: r.modelVersion,
    ...(r.file && r.status === 'done' ? { file: r.file } : {}), ...(r.error ? { error: r.error.message } : {}), ...(r.recovered ? { recovered: true } : {}),
  };
}

function sleep(msToWait: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, Math.min(Math.max(0, msToWait), 2 ** 31 - 1));
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Scheduled predictions: at each slot (every `every`, aligned to the UTC epoch, or at a cron time)
 * reads the last `window` of readings, builds the model's features, predicts the `horizon` and
 * writes the rows (with model version, inputs' time range and target time) to the store's
 * `predictions` table. Each slot runs once: its file has a deterministic name and a durable slot
 * ledger marks it after the write, so a run killed in between finds the file and only marks it.
 * Slots missed while the process was down are caught up, oldest first. A registry group's
 * promoted version is looked up again before each slot, so a promotion takes effect at the next
 * slot (`model_version` says which version made each row). Resolves when `signal`
 * aborts (or after the due slots with `once`), with the results of the slots it ran.
 *
 * @example
 * import { runPredictions } from 'millwright';
 * const stop = new AbortController();
 * await runPredictions({ group: 'press-energy', stage: 'PROD', store: '.millwright/store', site: 'plant-a',
 *   every: '2h', window: '6h', horizon: '2h', signal: stop.signal, onSlot: (r) => console.log(r.slot, r.status) });
 */
export async function runPredictions(o: PredictionScheduleOptions): Promise<SlotResult[]> {
  const plan = planOf(o);
  let source = o.source ?? (await openPredictSource(o));
  // A registry group is resolved again before every slot: promoting or approving a version (or a
  // rollback) takes effect at the next slot, without a restart; each row carries the version.
  const follows = o.source === undefined && o.modelDir === undefined && o.group !== undefined;
  const key = o.key ?? source.group;
  const ledger = new SlotLedger(o.store, key);
  const now = o.now ?? Date.now;
  const results: SlotResult[] = [];
  while (!o.signal?.aborted) {
    const t = now();
    await ledger.locked(async () => {
      const rec = await ledger.read();
      const slots = o.catchUp === false ? [latestSlot(plan.schedule, t)] : dueSlots(plan.schedule, t, rec.lastSlot, o.maxCatchUp ?? 100);
      for (const slot of slots.filter((s) => !SlotLedger.has(rec, s))) {
        if (o.signal?.aborted) return;
        if (follows) source = await currentPredictSource(o, source, o.onModelChange);
        const r = await runSlot(o, source, plan, slot, key);
        await ledger.mark([entryOf(r)]);
        results.push(r);
        await o.onSlot?.(r);
      }
    });
    if (o.once) break;
    await sleep(nextSlot(plan.schedule, latestSlot(plan.schedule, now())) - now(), o.signal);
  }
  return results;
}
