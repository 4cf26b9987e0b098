/**
 * Ordinary least squares with an intercept, by modified Gram-Schmidt QR. A regressor that is
 * (numerically) a combination of earlier ones is dropped and named, rather than failing the fit:
 * a driver that never varies in the baseline period (no Saturdays, one load type) is common in
 * real plant data, and the energy engineer needs to see that it was left out, not a singular matrix.
 */
import { studentTTwoSidedP } from '../stats/student-t.ts';

/** One named regressor column. */
export interface Regressor {
  name: string;
  values: Float64Array;
}

/** A fitted linear model. */
export interface OlsFit {
  /** Names of the terms kept, `intercept` first. */
  terms: string[];
  coefficients: number[];
  standardErrors: number[];
  /** Two-sided p-value of each coefficient (t test, n - p degrees of freedom). */
  pValues: number[];
  /** Regressors dropped as collinear with earlier ones (or constant). */
  dropped: string[];
  n: number;
  /** Number of parameters, intercept included. */
  p: number;
  sse: number;
  r2: number;
  adjustedR2: number;
  fitted: Float64Array;
  residuals: Float64Array;
}

const DROP_TOLERANCE = 1e-9;

/**
 * Fits y = b0 + Σ b_j x_j.
 *
 * @example
 * const fit = ols([{ name: 'hdd', values: hdd }], energy);
 * fit.coefficients; // [b0, b_hdd]
 */
export function ols(regressors: Regressor[], y: Float64Array): OlsFit {
  const n = y.length;
  const columns: Regressor[] = [{ name: 'intercept', values: new Float64Array(n).fill(1) }, ...regressors];
  const q: Float64Array[] = [];
  const r: number[][] = []; // r[k][j]: upper-triangular, rows = kept columns
  const kept: Regressor[] = [];
  const dropped: string[] = [];
  for (const col of columns) {
    const v = Float64Array.from(col.values);
    const norm0 = Math.sqrt(dot(v, v));
    const coeffs: number[] = [];
    for (let k = 0; k < q.length; k++) {
      const c = dot(q[k]!, v);
      coeffs.push(c);
      axpy(-c, q[k]!, v);
    }
    const norm = Math.sqrt(dot(v, v));
    if (!(norm0 > 0) || norm <= DROP_TOLERANCE * norm0 || q.length >= n) {
      dropped.push(col.name);
      continue;
    }
    for (let i = 0; i < n; i++) v[i]! /= norm;
    for (let k = 0; k < coeffs.length; k++) r[k]!.push(coeffs[k]!);
    r.push([...new Array<number>(q.length).fill(0), norm]);
    q.push(v);
    kept.push(col);
  }
  const p = kept.length;
  const qty = q.map((qk) => dot(qk, y));
  const beta = backSolve(r, qty);
  const fitted = new Float64Array(n);
  for (let j = 0; j < p; j++) axpy(beta[j]!, kept[j]!.values, fitted);
  const residuals = new Float64Array(n);
  let sse = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i]!;
  mean /= n;
  let sst = 0;
  for (let i = 0; i < n; i++) {
    residuals[i] = y[i]! - fitted[i]!;
    sse += residuals[i]! ** 2;
    sst += (y[i]! - mean) ** 2;
  }
  const df = n - p;
  const sigma2 = df > 0 ? sse / df : Number.NaN;
  // (X'X)^-1 = R^-1 R^-T: the diagonal gives the coefficients' variances.
  const rInv = invertUpper(r);
  const standardErrors = rInv.map((row) => Math.sqrt(sigma2 * row.reduce((s, x) => s + x * x, 0)));
  const pValues = beta.map((b, j) => (df > 0 ? studentTTwoSidedP(b / standardErrors[j]!, df) : Number.NaN));
  const r2 = sst > 0 ? 1 - sse / sst : Number.NaN;
  return {
    terms: kept.map((c) => c.name),
    coefficients: beta,
    standardErrors,
    pValues,
    dropped,
    n,
    p,
    sse,
    r2,
    adjustedR2: df > 0 ? 1 - ((1 - r2) * (n - 1)) / df : Number.NaN,
    fitted,
    residuals,
  };
}

/** Predictions of a fit for new regressor values (same names; a dropped term is ignored). */
export function predictOls(fit: OlsFit, regressors: Regressor[], n: number): Float64Array {
  const byName = new Map(regressors.map((r) => [r.name, r.values]));
  const out = new Float64Array(n);
  fit.terms.forEach((term, j) => {
    if (term === 'intercept') out.fill(fit.coefficients[j]!);
  });
  fit.terms.forEach((term, j) => {
    if (term === 'intercept') return;
    const x = byName.get(term);
    if (!x) throw new Error(`predictOls: no values for term ${term}`);
    axpy(fit.coefficients[j]!, x, out);
  });
  return out;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function axpy(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i]! += alpha * x[i]!;
}

function backSolve(r: number[][], b: number[]): number[] {
  const p = b.length;
  const x = new Array<number>(p).fill(0);
  for (let i = p - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let j = i + 1; j < p; j++) s -= r[i]![j]! * x[j]!;
    x[i] = s / r[i]![i]!;
  }
  return x;
}

/** Inverse of an upper-triangular matrix (rows of the result are rows of R^-1). */
function invertUpper(r: number[][]): number[][] {
  const p = r.length;
  const inv = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  for (let j = 0; j < p; j++) {
    inv[j]![j] = 1 / r[j]![j]!;
    for (let i = j - 1; i >= 0; i--) {
      let s = 0;
      for (let k = i + 1; k <= j; k++) s += r[i]![k]! * inv[k]![j]!;
      inv[i]![j] = -s / r[i]![i]!;
    }
  }
  return inv;
}
