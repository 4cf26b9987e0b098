/**
 * Savings and their uncertainty as ASHRAE Guideline 14-2014 (Annex B) states them for a
 * regression baseline: the fractional savings uncertainty
 *
 *   ΔE_save / E_save = t · 1.26 · CV · sqrt( (n / n′) · (1 + 2/n) · (1/m) ) / F
 *
 * with CV the baseline model's CV(RMSE) as a fraction, n baseline periods, n′ = n (1 − ρ)/(1 + ρ)
 * the effective number after the residuals' lag-1 autocorrelation ρ, m reporting periods, F the
 * savings as a fraction of the adjusted baseline, and t Student's t at the confidence level with
 * n − p degrees of freedom. Guideline 14 derived the 1.26 factor for monthly models; the report
 * says so when it applies the formula to other period lengths.
 */
import { studentTCritical } from '../stats/student-t.ts';

export { lag1Autocorrelation } from '../stats/autocorrelation.ts';


/** Inputs of {@link savingsUncertainty}. */
export interface UncertaintyInputs {
  /** Baseline CV(RMSE) as a fraction (0.12 for 12 %). */
  cv: number;
  /** Baseline periods fitted. */
  n: number;
  /** Model parameters (intercept included). */
  p: number;
  /** Lag-1 autocorrelation of the baseline residuals. */
  rho: number;
  /** Reporting periods. */
  m: number;
  /** Total savings over the reporting periods (adjusted baseline − actual). */
  savings: number;
  /** Total adjusted baseline over the reporting periods. */
  adjustedBaseline: number;
}

/** The uncertainty of the savings at one confidence level. */
export interface SavingsUncertainty {
  confidence: number;
  t: number;
  /** n′, capped at n (a negative ρ does not earn more information than n independent periods). */
  effectiveN: number;
  /** ΔE_save / E_save; null when there are no savings to be a fraction of. */
  fractional: number | null;
  /** ΔE_save in energy units (± around the savings). */
  absolute: number;
}

/**
 * Guideline 14's savings uncertainty at `confidence` (e.g. 0.68, 0.9).
 *
 * @example
 * import { savingsUncertainty } from 'millwright/reports';
 * savingsUncertainty({ cv: 0.1, n: 365, p: 4, rho: 0.3, m: 92, savings: 5e4, adjustedBaseline: 1e6 }, 0.9).fractional; // ≈ 0.59
 */
export function savingsUncertainty(x: UncertaintyInputs, confidence: number): SavingsUncertainty {
  const t = studentTCritical(confidence, Math.max(1, x.n - x.p));
  const effectiveN = Math.min(x.n, (x.n * (1 - x.rho)) / (1 + x.rho));
  // ΔE_save = t · 1.26 · CV · sqrt((n/n′)(1 + 2/n)/m) · E_baseline,adjusted: the fraction times E_save.
  const absolute = t * 1.26 * x.cv * Math.sqrt(((x.n / effectiveN) * (1 + 2 / x.n)) / x.m) * x.adjustedBaseline;
  return { confidence, t, effectiveN, fractional: x.savings > 0 ? absolute / x.savings : null, absolute };
}
