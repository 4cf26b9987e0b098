/**
 * Small requests answered on the HTTP thread. A single-row request spends far more time in the
 * hop to a worker thread and back (two messages, two thread wake-ups) than in the prediction
 * itself, so a pool can hold one more copy of its model on the HTTP thread and answer bodies up
 * to `--inline-max-body` there, with the same `invocations` code the workers run (same answers,
 * errors, limits, logs and capture). Only models whose cost per row is small and bounded qualify:
 * millwright's own loader and a built-in forest package (their cost depends on the model's size,
 * never on the input) with a numeric fast path (`predictMatrix`), no tensors, artifacts small enough
 * to load on the HTTP thread without stalling it, and a probe row measured under the budget at
 * load. Everything else, and every larger body, still goes to the workers, where a runaway
 * prediction can be abandoned at its deadline.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadedModel } from '../lib/model/contract.ts';
import { healthCheck, probeRow, probeTensors } from './health-check.ts';
import { invocations } from './invocations.ts';
import { threadBusyMs } from './thread-busy.ts';
import { inlineExamples } from './inline-limit.ts';

/** Built-in packages whose predict cost per row is bounded by the model's size alone (not by the input). */
export const INLINE_ALGORITHMS: ReadonlySet<string> = new Set(['random-forest-regression', 'random-forest-classification', 'energy-load-curve']);

/** Default `--inline-max-body`: bodies up to this many bytes (a few rows) may be answered on the HTTP thread. */
export const DEFAULT_INLINE_MAX_BYTES = 4096;
/** Models with more artifact bytes than this are not copied onto the HTTP thread (loading them there would stall it). */
export const INLINE_MAX_MODEL_BYTES = 32 * 1024 * 1024;
/** A probe row must take at most this long (fastest of 30 runs, ms) for the model to be answered inline. */
export const INLINE_BUDGET_MS = 0.25;

/** The HTTP thread's copy of the model, and what it answers. */
export interface InlineModel {
  model: LoadedModel;
  /** Largest body answered here. */
  maxBytes: number;
  /** Tensor models: most examples (images, batch rows) one request may run here (serve/inline-limit.ts). */
  maxExamples?: number;
}

/** What the load-time decision found (logged with the model). */
export interface InlineDecision {
  inline: boolean;
  reason: string;
  maxBytes?: number;
  /** Tensor models: most examples one request may run on the HTTP thread; larger requests go to the workers. */
  maxExamples?: number;
  /** Forests: fastest of 30 runs of `invocations` on the probe row; tensor models: least HTTP-thread busy time of 20 probe runs (ms). */
  probeMs?: number;
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await treeBytes(p);
    else if (e.isFile()) total += (await stat(p)).size;
  }
  return total;
}

/** The HTTP thread's copy of the model, or why there is none (off, or artifacts too large to hold twice). */
async function loadCandidate(modelDir: string, loader: string, maxBytes: number): Promise<{ model: LoadedModel } | { decision: InlineDecision }> {
  if (maxBytes <= 0) return { decision: { inline: false, reason: 'off (--inline-max-body 0)' } };
  const bytes = await treeBytes(modelDir);
  if (bytes > INLINE_MAX_MODEL_BYTES) return { decision: { inline: false, reason: `model artifacts are ${Math.round(bytes / 2 ** 20)} MiB (more than ${INLINE_MAX_MODEL_BYTES / 2 ** 20} MiB)` } };
  const mod = (await import(loader)) as { loadModel: (dir: string) => Promise<LoadedModel> };
  return { model: await mod.loadModel(modelDir) };
}

/**
 * Loads the HTTP thread's copy of the model at `modelDir` through `loader` when it qualifies
 * (see the module comment); otherwise says why not. Never throws: the workers serve regardless.
 *
 * @example
 * const { model, decision } = await loadInlineModel('/opt/ml/model', loaderUrl, { maxBytes: 4096, maxBodyBytes: 6 << 20 });
 */
export async function loadInlineModel(modelDir: string, loader: string, o: { maxBytes: number; maxBodyBytes: number }): Promise<{ inline?: InlineModel; decision: InlineDecision }> {
  try {
    const candidate = await loadCandidate(modelDir, loader, o.maxBytes);
    if ('decision' in candidate) return candidate;
    const { model } = candidate;
    if (!INLINE_ALGORITHMS.has(model.manifest.algorithm)) return { decision: { inline: false, reason: `${model.manifest.algorithm} is not a built-in forest` } };
    if (!model.predictMatrix || model.tensors) return { decision: { inline: false, reason: 'the model has no numeric fast path (predictMatrix)' } };
    await healthCheck(model);
    const row = probeRow(model.manifest);
    const body = `${model.manifest.features.map((f) => String(row[f.name])).join(',')}\n`;
    const times: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t = performance.now();
      const res = await invocations(model, { body, contentType: 'text/csv', accept: 'application/json' }, { maxBodyBytes: o.maxBodyBytes });
      if (res.status !== 200) return { decision: { inline: false, reason: `the probe row was answered with ${res.status}` } };
      if (i >= 10) times.push(performance.now() - t);
    }
    // the fastest run: what the model costs, without the time this thread waited for a core
    const probeMs = Math.round(Math.min(...times) * 1000) / 1000;
    if (probeMs > INLINE_BUDGET_MS) return { decision: { inline: false, reason: `a probe row took ${probeMs} ms (budget ${INLINE_BUDGET_MS} ms)`, probeMs } };
    return { inline: { model, maxBytes: o.maxBytes }, decision: { inline: true, reason: `bodies up to ${o.maxBytes} bytes are answered on the HTTP thread`, maxBytes: o.maxBytes, probeMs } };
  } catch (err) {
    return { decision: { inline: false, reason: `the HTTP thread's copy did not load: ${(err as Error).message}` } };
  }
}

/** Built-in packages whose tensor models may be run on the HTTP thread for small bodies. */
export const INLINE_TENSOR_ALGORITHMS: ReadonlySet<string> = new Set(['onnx']);
/** Largest V2 or `/invocations` body of a tensor model answered on the HTTP thread (a [1,3,32,32] FP32 JSON body is 60 KiB). */
export const DEFAULT_INLINE_TENSOR_MAX_BYTES = 256 * 1024;
/** The probe run (zeros of every input) may keep the HTTP thread busy at most this long (fastest of 20, ms) for a tensor model to run inline. */
export const INLINE_TENSOR_BUDGET_MS = 1;

/**
 * The HTTP thread's copy of a tensor model (the `onnx` built-in) for small V2 and `/invocations`
 * bodies (tensors as JSON or binary, or one JPEG/PNG): the hop to a worker and back, with the body
 * copied into it, cost more than a small model's run. The answer is made by the same `inferV2` /
 * `invocations` the workers run. Only a model whose artifacts are small and whose probe run
 * (serve/health-check.ts: zeros of every input, built once) keeps the HTTP thread busy for at most
 * {@link INLINE_TENSOR_BUDGET_MS} qualifies; larger bodies, and requests with more examples (images,
 * batch rows) than probe runs fit the budget (serve/inline-limit.ts), still go to the workers.
 *
 * What is measured is the thread's busy time (serve/thread-busy.ts), not the run's wall time: the
 * budget bounds how long an inline answer can hold up the other requests and their deadline
 * timers, which only time spent computing on this thread does. onnxruntime-node computes its
 * whole run there, so the probe counts all of it; the probe inputs are built once, outside the
 * timing, as a request's inputs are built by the request's parsing. An image body is also decoded
 * and resized there by sharp, on the libuv threadpool (the HTTP thread is free meanwhile, and the
 * request's deadline timer still fires); its normalisation to the model's input is bounded by that
 * input's size, as a tensor body's parsing is by its byte limit.
 *
 * @example
 * const { inline, decision } = await loadInlineTensorModel('/srv/models/conv32/1', loaderUrl, { maxBytes: 256 * 1024 });
 */
export async function loadInlineTensorModel(modelDir: string, loader: string, o: { maxBytes: number }): Promise<{ inline?: InlineModel; decision: InlineDecision }> {
  try {
    const candidate = await loadCandidate(modelDir, loader, o.maxBytes);
    if ('decision' in candidate) return candidate;
    const { model } = candidate;
    if (!INLINE_TENSOR_ALGORITHMS.has(model.manifest.algorithm) || !model.tensors || !model.predictTensors) return { decision: { inline: false, reason: `${model.manifest.algorithm} is not a tensor model of the onnx built-in` } };
    await healthCheck(model);
    const inputs = probeTensors(model.tensors.inputs);
    const times: number[] = [];
    for (let i = 0; i < 25; i++) {
      const busy = await threadBusyMs(() => model.predictTensors!(inputs));
      if (i >= 5) times.push(busy);
    }
    const probeMs = Math.round(Math.min(...times) * 1000) / 1000;
    if (probeMs > INLINE_TENSOR_BUDGET_MS) return { decision: { inline: false, reason: `the probe run kept the HTTP thread busy ${probeMs} ms (budget ${INLINE_TENSOR_BUDGET_MS} ms)`, probeMs } };
    const maxExamples = inlineExamples(probeMs, INLINE_TENSOR_BUDGET_MS);
    return { inline: { model, maxBytes: o.maxBytes, maxExamples }, decision: { inline: true, reason: `V2 and /invocations bodies up to ${o.maxBytes} bytes and ${maxExamples} example(s) are answered on the HTTP thread`, maxBytes: o.maxBytes, maxExamples, probeMs } };
  } catch (err) {
    return { decision: { inline: false, reason: `the HTTP thread's copy did not load: ${(err as Error).message}` } };
  }
}
