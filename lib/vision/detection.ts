/**
 * Detector post-processing as a pure function: raw boxes and class scores of a detector head
 * become `[{label, score, box}]` per image, after a score threshold and per-class IoU non-maximum
 * suppression (greedy, best first, as torchvision's `batched_nms`).
 */
import { MillwrightError } from '../errors/index.ts';
import type { DetectionConfig, TensorSpec } from '../model/contract.ts';

/** One kept detection: class label, score, box corners `[x1, y1, x2, y2]` in the model's coordinates. */
export interface Detection {
  label: string;
  score: number;
  box: [number, number, number, number];
}

/**
 * Intersection over union of two `[x1, y1, x2, y2]` boxes (0 when either has no area).
 *
 * @example
 * import { iou } from 'millwright';
 * iou([0, 0, 2, 2], [1, 1, 3, 3]); // 1 / 7
 */
export function iou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const w = Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!);
  const h = Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const areaA = (a[2]! - a[0]!) * (a[3]! - a[1]!);
  const areaB = (b[2]! - b[0]!) * (b[3]! - b[1]!);
  const union = areaA + areaB - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Detections of every image of a batch. `boxes` is `[N, B, 4]` row-major, `scores` `[N, B, C]`
 * (or `[N, B]` for one class); a box yields one candidate per class scoring at least the threshold.
 *
 * @example
 * import { postprocessDetections } from 'millwright';
 * const boxes = Float32Array.from([0, 0, 10, 10, 1, 1, 11, 11]);
 * const scores = Float32Array.from([0.9, 0.8]);
 * postprocessDetections({ data: boxes, dims: [1, 2, 4] }, { data: scores, dims: [1, 2] }, { boxes: 'boxes', scores: 'scores', labels: ['part'] });
 * // [[{ label: 'part', score: 0.9, box: [0, 0, 10, 10] }]]  (the second box overlaps it by IoU 0.68)
 */
export function postprocessDetections(
  boxes: { data: ArrayLike<number>; dims: readonly number[] },
  scores: { data: ArrayLike<number>; dims: readonly number[] },
  config: DetectionConfig,
): Detection[][] {
  const [N, B, four] = boxes.dims;
  if (boxes.dims.length !== 3 || four !== 4) throw new MillwrightError('INTERNAL', `detection: boxes output has shape [${boxes.dims.join(', ')}]; expected [N, B, 4]`);
  const C = scores.dims.length === 3 ? scores.dims[2]! : 1;
  if (scores.dims[0] !== N || scores.dims[1] !== B || scores.dims.length < 2 || scores.dims.length > 3) {
    throw new MillwrightError('INTERNAL', `detection: scores output has shape [${scores.dims.join(', ')}]; expected [${N}, ${B}, C] or [${N}, ${B}]`);
  }
  const threshold = config.scoreThreshold ?? 0.5;
  const iouMax = config.iouThreshold ?? 0.5;
  const maxKeep = config.maxDetections ?? 100;
  const out: Detection[][] = [];
  for (let n = 0; n < N!; n++) {
    const cands: { b: number; c: number; s: number }[] = [];
    for (let b = 0; b < B!; b++) {
      for (let c = 0; c < C; c++) {
        const s = scores.data[(n * B! + b) * C + c]!;
        if (s >= threshold) cands.push({ b, c, s });
      }
    }
    cands.sort((x, y) => y.s - x.s || x.b - y.b);
    const kept: { b: number; c: number; s: number; box: number[] }[] = [];
    for (const cand of cands) {
      if (kept.length >= maxKeep) break;
      const o = (n * B! + cand.b) * 4;
      const box = [boxes.data[o]!, boxes.data[o + 1]!, boxes.data[o + 2]!, boxes.data[o + 3]!];
      if (kept.some((k) => k.c === cand.c && iou(k.box, box) > iouMax)) continue;
      kept.push({ ...cand, box });
    }
    out.push(kept.map((k) => ({ label: config.labels?.[k.c] ?? String(k.c), score: k.s, box: k.box as Detection['box'] })));
  }
  return out;
}

/** Checks a detection config against the model's outputs (at training/import time, so serving cannot meet a bad one). */
export function checkDetectionConfig(value: unknown, outputs: TensorSpec[]): DetectionConfig {
  const bad = (m: string) => new MillwrightError('BAD_INPUT', `onnx: "detection" ${m}`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('must be an object {"boxes": output, "scores": output, ...}');
  const c = value as Record<string, unknown>;
  const known = ['boxes', 'scores', 'scoreThreshold', 'iouThreshold', 'labels', 'maxDetections'];
  const extra = Object.keys(c).filter((k) => !known.includes(k));
  if (extra.length > 0) throw bad(`has unknown key(s) ${extra.join(', ')} (known: ${known.join(', ')})`);
  const names = outputs.map((o) => o.name);
  for (const k of ['boxes', 'scores'] as const) {
    if (typeof c[k] !== 'string' || !names.includes(c[k])) throw bad(`"${k}" must name one of the model's outputs (${names.join(', ')}), got ${JSON.stringify(c[k])}`);
  }
  for (const k of ['scoreThreshold', 'iouThreshold'] as const) {
    if (c[k] !== undefined && !(typeof c[k] === 'number' && c[k] >= 0 && c[k] <= 1)) throw bad(`"${k}" must be a number in [0, 1], got ${JSON.stringify(c[k])}`);
  }
  if (c.maxDetections !== undefined && !(Number.isInteger(c.maxDetections) && (c.maxDetections as number) >= 1)) throw bad(`"maxDetections" must be an integer >= 1`);
  if (c.labels !== undefined && !(Array.isArray(c.labels) && c.labels.every((l) => typeof l === 'string'))) throw bad('"labels" must be an array of class names');
  return c as unknown as DetectionConfig;
}
