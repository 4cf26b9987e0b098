/**
 * ASHRAE Guideline 14's calibration criteria for a baseline model, stated for what they are:
 * the guideline gives them for monthly data (CV(RMSE) ≤ 15 %, |NMBE| ≤ 5 %) and hourly data
 * (≤ 30 %, ≤ 10 %) only. A daily or weekly model is held to the hourly criteria here (the looser
 * pair, and the closer in resolution for daily data), and the verdict says so.
 */
import { periodAdjective, type Granularity } from './periods.ts';

export interface Guideline14Verdict {
  criteria: string;
  meets: boolean | null;
  statement: string;
}

const MONTHLY = { cv: 15, nmbe: 5 };
const HOURLY = { cv: 30, nmbe: 10 };

/**
 * The verdict for a fit's CV(RMSE) and NMBE (percent).
 *
 * @example
 * guideline14Verdict('month', 9.8, 0).meets; // true
 */
export function guideline14Verdict(g: Granularity, cvRmsePct: number | null, nmbePct: number | null): Guideline14Verdict {
  const limits = g === 'month' ? MONTHLY : HOURLY;
  const criteria = `CV(RMSE) ≤ ${limits.cv} %, |NMBE| ≤ ${limits.nmbe} % (${g === 'month' ? 'monthly' : 'hourly'} criteria)`;
  if (cvRmsePct === null || nmbePct === null) return { criteria, meets: null, statement: 'CV(RMSE) or NMBE could not be computed (mean energy of zero?)' };
  const meets = cvRmsePct <= limits.cv && Math.abs(nmbePct) <= limits.nmbe;
  const held = g === 'hour' || g === 'month' ? '' : ` Guideline 14 states criteria for monthly and hourly models only; this ${periodAdjective(g)} model is held to the hourly ones${cvRmsePct <= MONTHLY.cv && Math.abs(nmbePct) <= MONTHLY.nmbe ? ' (it also meets the monthly ones)' : ''}.`;
  // A least-squares fit with an intercept has zero in-sample bias by construction: say so, so a 0 % NMBE is not read as evidence.
  const nmbeNote = Math.abs(nmbePct) < 1e-9 ? ' NMBE is 0 by construction for a least-squares fit with an intercept on its own data.' : '';
  return {
    criteria,
    meets,
    statement: `CV(RMSE) ${cvRmsePct.toFixed(1)} %, NMBE ${nmbePct.toFixed(2)} %: ${meets ? 'meets' : 'does not meet'} ${criteria}.${held}${nmbeNote}`,
  };
}
