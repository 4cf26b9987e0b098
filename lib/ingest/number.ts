/**
 * Decimal number parsing for ingest. The fast path (up to 15 significant digits, no exponent)
 * is exact: the digits form an integer below 2^53 and one division by an exact power of ten is
 * correctly rounded, so it returns the same double as `Number()` without allocating a substring.
 * Everything else goes through `Number()` after a strict character check, so hex (`0x1f`),
 * `Infinity`, `NaN`, blanks and thousands separators are refused instead of misread.
 */

/** Exact powers of ten (10^0..10^22): a double holds each exactly. */
export const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/**
 * Parses the decimal number in `s[start, end)`: `[+-]digits[.digits][(e|E)[+-]digits]` (a
 * leading or trailing `.` is allowed: `.5`, `5.`). Returns NaN when the text is not such a
 * number or its value is not finite.
 *
 * @example
 * parseDecimal('-12.50'); // -12.5
 * parseDecimal('1e3');    // 1000
 * parseDecimal('0x10');   // NaN
 */
export function parseDecimal(s: string, start = 0, end = s.length): number {
  let i = start;
  if (i >= end) return NaN;
  let c = s.charCodeAt(i);
  let neg = false;
  if (c === 45 || c === 43) {
    neg = c === 45;
    i++;
  }
  let mant = 0;
  let digits = 0;
  let fracDigits = 0;
  let seenDot = false;
  let sig = 0; // significant digits accumulated into mant (leading zeros excluded)
  for (; i < end; i++) {
    c = s.charCodeAt(i);
    const d = c - 48;
    if (d >= 0 && d <= 9) {
      digits++;
      if (sig > 0 || d !== 0) sig++;
      mant = mant * 10 + d;
      if (seenDot) fracDigits++;
    } else if (c === 46 && !seenDot) {
      seenDot = true;
    } else {
      break;
    }
  }
  if (digits === 0) return NaN;
  if (i === end && sig <= 15 && fracDigits <= 22) {
    const v = fracDigits === 0 ? mant : mant / POW10[fracDigits];
    return neg ? -v : v;
  }
  // Slow path: exponent or many digits. Validate the exponent syntax, then let Number() round.
  if (i < end) {
    if (c !== 101 && c !== 69) return NaN; // 'e' / 'E'
    i++;
    if (i < end && (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45)) i++;
    const expStart = i;
    for (; i < end; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return NaN;
    }
    if (i === expStart) return NaN;
  }
  const v = Number(s.slice(start, end));
  return Number.isFinite(v) ? v : NaN;
}
