/**
 * Survival function of the one-sample two-sided Kolmogorov-Smirnov statistic D_n (scipy's
 * `kstwo.sf(x, n)`, scipy/stats/_ksstats.py `_kolmogn(n, x, cdf=False)`): scipy's `ks_2samp`
 * uses it with n = round(n1 n2 / (n1 + n2)) when it does not compute the exact two-sample
 * distribution (above 10,000 rows per side in 'auto' mode). Same regimes as scipy (Simard &
 * L'Ecuyer 2011): Ruben-Gambino at the ends, 2 x Smirnov's one-sided tail for large n x^2,
 * Durbin's matrix (Marsaglia-Tsang-Wang), Pomeranz for small n, Pelz-Good otherwise.
 */
import { lgamma } from './special.ts';

const E128 = 2 ** 128;
const EM128 = 2 ** -128;
const STIRLING = [-0.029550653594771242, 0.00641025641025641, -0.0019175269175269176, 0.0008417508417508417, -0.0005952380952380953, 0.0007936507936507937, -0.002777777777777778, 0.08333333333333333];

function clip(p: number): number {
  return Math.min(1, Math.max(0, p));
}

function logFactorialOverNPowN(n: number): number {
  const rn = 1 / n;
  let poly = 0;
  for (const c of STIRLING) poly = poly * (rn / n) + c;
  return Math.log(n) / 2 - n + Math.log(2 * Math.PI) / 2 + rn * poly;
}

/**
 * P(D+_n >= x), Smirnov's one-sided tail by the Birnbaum-Tingey sum (all terms positive):
 * x Σ_{j=0}^{floor(n(1-x))} C(n,j) (x + j/n)^(j-1) (1 - x - j/n)^(n-j).
 */
export function smirnovSf(n: number, x: number): number {
  if (!(x > 0)) return 1;
  if (x >= 1) return 0;
  const top = Math.floor(n * (1 - x) + 1e-12);
  const xn = x * n;
  let sum = 0;
  for (let j = 0; j <= top; j++) {
    const nj = n - j;
    if (nj === 0 || xn + j >= n) continue;
    let lt: number;
    if (j === 0) lt = -Math.log(x) + n * Math.log1p(-x);
    else {
      // Loader's form: the big n log n parts of C(n, j) cancel against the powers analytically,
      // leaving log1p terms of moderate size (lgamma differences would lose ~1e-11 here)
      lt = j * Math.log1p(xn / j) + nj * Math.log1p(-xn / nj) - Math.log(x + j / n) + 0.5 * Math.log(n / (2 * Math.PI * j * nj)) + stirlerr(n) - stirlerr(j) - stirlerr(nj);
    }
    sum += Math.exp(lt);
  }
  return clip(x * sum);
}

/** log(k!) - [(k + 1/2) log k - k + log(2 pi)/2], the Stirling remainder (Loader 2000). */
function stirlerr(k: number): number {
  if (k <= 15) return lgamma(k + 1) - (k + 0.5) * Math.log(k) + k - 0.5 * Math.log(2 * Math.PI);
  const k2 = 1 / (k * k);
  return (1 / 12 - k2 * (1 / 360 - k2 * (1 / 1260 - k2 * (1 / 1680 - k2 / 1188)))) / k;
}

function matmul(A: Float64Array, B: Float64Array, m: number): Float64Array {
  const C = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const a = A[i * m + k]!;
      if (a === 0) continue;
      for (let j = 0; j < m; j++) C[i * m + j]! += a * B[k * m + j]!;
    }
  }
  return C;
}

/** Durbin's matrix method, P(D_n <= d) (MTW 2003), with scipy's 2^128 rescaling. */
function dmtwCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  let H: Float64Array = new Float64Array(m * m);
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    v[j - 1] = 1 - h ** j;
    w[j - 1] = fac;
    fac /= j;
    v[j - 1]! *= fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - (i - 1)]!;
  for (let r = 0; r < m; r++) H[r * m] = v[r]!;
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c]!;
  let P: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) P[i * m + i] = 1;
  let nn = n;
  let expnt = 0;
  let hexpnt = 0;
  while (nn > 0) {
    if (nn % 2) {
      P = matmul(P, H, m);
      expnt += hexpnt;
    }
    H = matmul(H, H, m);
    hexpnt *= 2;
    if (Math.abs(H[(k - 1) * m + k - 1]!) > E128) {
      for (let i = 0; i < H.length; i++) H[i]! /= E128;
      hexpnt += 128;
    }
    nn = Math.floor(nn / 2);
  }
  let p = P[(k - 1) * m + k - 1]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= E128;
      expnt -= 128;
    }
  }
  if (expnt !== 0) p *= 2 ** expnt;
  return clip(p);
}

function pomeranzJ(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const ip1div2 = Math.floor((i + 1) / 2);
    if ((i + 1) % 2 === 0) {
      if (ip1div2 === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = ip1div2 - 1 - ll - roundf - 1;
        j2 = ip1div2 + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = ip1div2 - 1 - ll - 1;
      j2 = ip1div2 + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** Pomeranz's recursion, P(D_n <= x) (n <= 140 in scipy's selection). */
function pomeranzCdf(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  const gp = new Float64Array(npwrs);
  const tgp = new Float64Array(npwrs);
  const omp = new Float64Array(npwrs);
  gp[0] = tgp[0] = omp[0] = 1;
  for (let m = 1; m < npwrs; m++) {
    gp[m] = (gp[m - 1]! * (g / n)) / m;
    tgp[m] = (tgp[m - 1]! * ((2 * g) / n)) / m;
    omp[m] = (omp[m - 1]! * ((1 - 2 * g) / n)) / m;
  }
  let V0 = new Float64Array(npwrs);
  let V1 = new Float64Array(npwrs);
  V1[0] = 1;
  let V0s = 0;
  let V1s = 0;
  let expnt = 0;
  let [j1, j2] = pomeranzJ(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [V0, V1] = [V1, V0];
    [V0s, V1s] = [V1s, V0s];
    V1.fill(0);
    [j1, j2] = pomeranzJ(i, n, ll, ceilf, roundf);
    const pw = i === 1 || i === 2 * n + 1 ? gp : i % 2 ? tgp : omp;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      const start = j1 - k1;
      const len = j2 - j1 + 1;
      let max = 0;
      for (let c = 0; c < len; c++) {
        const idx = start + c; // conv index
        let s = 0;
        for (let a = Math.max(0, idx - (ln2 - 1)); a <= Math.min(idx, ln2 - 1); a++) s += V0[k1 - V0s + a]! * pw[idx - a]!;
        V1[c] = s;
        if (s > max) max = s;
      }
      if (max > 0 && max < EM128) {
        for (let c = 0; c < V1.length; c++) V1[c]! *= E128;
        expnt -= 128;
      }
      V1s = V0s + j1 - k1;
    }
  }
  let ans = V1[n - V1s]!;
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > E128) {
      ans *= EM128;
      expnt += 128;
    }
    ans *= m;
  }
  if (expnt !== 0) ans *= 2 ** expnt;
  return clip(ans);
}

/** Pelz-Good asymptotic series for P(D_n <= x), or its complement with `sf`. */
function pelzGood(n: number, x: number, sf: boolean): number {
  if (x <= 0) return sf ? 1 : 0;
  if (x >= 1) return sf ? 0 : 1;
  const PI2 = Math.PI ** 2;
  const PI4 = Math.PI ** 4;
  const PI6 = Math.PI ** 6;
  const SQ2PI = Math.sqrt(2 * Math.PI);
  const z = Math.sqrt(n) * x;
  const z2 = z ** 2;
  const z3 = z ** 3;
  const z4 = z ** 4;
  const z6 = z ** 6;
  const qlog = -PI2 / 8 / z2;
  if (qlog < -708) return sf ? 1 : 0;
  let q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m ** 2;
    const m4 = m ** 4;
    const m6 = m ** 6;
    const qp = q ** (8 * k);
    const c = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) K[i] = K[i]! * qp + c[i]!;
  }
  const den = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = (((K[i]! * q) * SQ2PI) / den[i]!);
  q = Math.exp(-PI2 / 2 / z2);
  let k2extra = 0;
  let k3extra = 0;
  const s3z = Math.sqrt(3) * z;
  for (let k = maxk; k > 0; k--) {
    const ks2 = k * k;
    const qp = q ** ks2;
    k2extra += ks2 * qp;
    k3extra += (s3z + Math.PI * k) * (s3z - Math.PI * k) * ks2 * qp;
  }
  K[2]! += k2extra * ((PI2 * SQ2PI) / (-36 * z3));
  K[3]! += k3extra * ((PI2 * SQ2PI) / (216 * z6));
  for (let i = 0; i < 4; i++) K[i] = K[i]! / n ** (i / 2);
  if (sf) {
    for (let i = 0; i < 4; i++) K[i] = -K[i]!;
    K[0]! += 1;
  }
  return K[0]! + K[1]! + K[2]! + K[3]!;
}

/**
 * `kstwo.sf(x, n)`: P(D_n > x) for the two-sided one-sample KS statistic, integer n >= 1.
 *
 * @example
 * import { kstwoSf } from 'millwright/reports';
 * kstwoSf(0.01, 12000); // 0.1637...
 */
export function kstwoSf(x: number, n: number): number {
  if (!Number.isInteger(n) || n <= 0) return Number.NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    let prob: number;
    if (n <= 140) {
      prob = 1;
      for (let i = 1; i <= n; i++) prob *= i * (1 / n) * (2 * t - 1);
    } else prob = Math.exp(logFactorialOverNPowN(n) + n * Math.log(2 * t - 1));
    return clip(1 - prob);
  }
  if (t >= n - 1) return clip(2 * (1 - x) ** n);
  if (x >= 0.5) return clip(2 * smirnovSf(n, x));
  const nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 0.754693) return clip(1 - dmtwCdf(n, x));
    if (nx2 <= 4) return clip(1 - pomeranzCdf(n, x));
    return clip(2 * smirnovSf(n, x));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clip(2 * smirnovSf(n, x));
  let cdf: number;
  if (nx2 >= 18) cdf = 1;
  else if (n <= 100000 && n * x ** 1.5 <= 1.4) cdf = dmtwCdf(n, x);
  else cdf = pelzGood(n, x, false);
  return clip(1 - cdf);
}
