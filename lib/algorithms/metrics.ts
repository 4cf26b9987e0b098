/**
 * Accuracy metrics shared by the built-in algorithms and the reports. All take plain arrays or typed
 * arrays of equal length and skip pairs where either side is not a finite number.
 */
import { MillwrightError } from '../errors/index.ts';

type Num = ArrayLike<number>;

function pairs(actual: Num, predicted: Num, what: string): { a: number[]; p: number[] } {
  if (actual.length !== predicted.length) {
    throw new MillwrightError(
      'BAD_INPUT',
      `${what}: actual has ${actual.length} values but predicted has ${predicted.length} (expected equal lengths)`,
    );
  }
  const a: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < actual.length; i++) {
    const x = actual[i]!;
    const y = predicted[i]!;
    if (Number.isFinite(x) && Number.isFinite(y)) {
      a.push(x);
      p.push(y);
    }
  }
  if (a.length === 0) throw new MillwrightError('BAD_INPUT', `${what}: no pair of finite values to compare`);
  return { a, p };
}

/** Root mean squared error. @example rmse([1, 2], [1, 4]) // 1.414 */
export function rmse(actual: Num, predicted: Num): number {
  const { a, p } = pairs(actual, predicted, 'rmse');
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - p[i]!) ** 2;
  return Math.sqrt(s / a.length);
}

/** Mean absolute error. @example mae([1, 2], [1, 4]) // 1 */
export function mae(actual: Num, predicted: Num): number {
  const { a, p } = pairs(actual, predicted, 'mae');
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - p[i]!);
  return s / a.length;
}

/** Coefficient of determination (1 - SSE/SST). @example r2([1, 2, 3], [1, 2, 3]) // 1 */
export function r2(actual: Num, predicted: Num): number {
  const { a, p } = pairs(actual, predicted, 'r2');
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  let sse = 0;
  let sst = 0;
  for (let i = 0; i < a.length; i++) {
    sse += (a[i]! - p[i]!) ** 2;
    sst += (a[i]! - mean) ** 2;
  }
  return sst === 0 ? (sse === 0 ? 1 : 0) : 1 - sse / sst;
}

/**
 * Coefficient of variation of the RMSE, in percent, as ASHRAE Guideline 14 defines it:
 * `100 * sqrt(SSE / (n - p)) / mean(actual)`. `p` is the number of model parameters (Guideline 14
 * uses p = 1 for hourly calibration checks; 0 gives the plain RMSE/mean).
 *
 * @example
 * cvRmse([10, 12, 8], [11, 11, 9]); // 10.0 (percent)
 */
export function cvRmse(actual: Num, predicted: Num, options: { p?: number } = {}): number {
  const { a, p } = pairs(actual, predicted, 'cvRmse');
  const params = options.p ?? 0;
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  if (mean === 0) throw new MillwrightError('BAD_INPUT', 'cvRmse: mean of actual values is 0 (undefined ratio)');
  let sse = 0;
  for (let i = 0; i < a.length; i++) sse += (a[i]! - p[i]!) ** 2;
  return (100 * Math.sqrt(sse / Math.max(1, a.length - params))) / mean;
}

/**
 * Normalised mean bias error, in percent (ASHRAE Guideline 14): `100 * sum(actual - predicted) /
 * ((n - p) * mean(actual))`. Positive when the model under-predicts.
 *
 * @example
 * nmbe([10, 12, 8], [11, 11, 9]); // -3.33 (percent: the model over-predicts)
 */
export function nmbe(actual: Num, predicted: Num, options: { p?: number } = {}): number {
  const { a, p } = pairs(actual, predicted, 'nmbe');
  const params = options.p ?? 0;
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  if (mean === 0) throw new MillwrightError('BAD_INPUT', 'nmbe: mean of actual values is 0 (undefined ratio)');
  let bias = 0;
  for (let i = 0; i < a.length; i++) bias += a[i]! - p[i]!;
  return (100 * bias) / (Math.max(1, a.length - params) * mean);
}

/** ASHRAE Guideline 14 hourly calibration limits: CV(RMSE) <= 30 % and |NMBE| <= 10 %. */
export function meetsGuideline14Hourly(m: { cvRmse: number; nmbe: number }): boolean {
  return m.cvRmse <= 30 && Math.abs(m.nmbe) <= 10;
}

/** Share of equal labels. @example accuracy(['a', 'b'], ['a', 'a']) // 0.5 */
export function accuracy(actual: ArrayLike<unknown>, predicted: ArrayLike<unknown>): number {
  if (actual.length !== predicted.length || actual.length === 0) {
    throw new MillwrightError('BAD_INPUT', `accuracy: lengths ${actual.length} and ${predicted.length} (expected equal, > 0)`);
  }
  let ok = 0;
  for (let i = 0; i < actual.length; i++) if (actual[i] === predicted[i]) ok++;
  return ok / actual.length;
}
