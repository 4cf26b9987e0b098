/**
 * Reads a few top-level keys out of a small JSON payload straight from its bytes, for the MQTT
 * source's common case `{"v":21.5,"t":1767571200000}` mapped by `$.v` / `$.t`: no UTF-8 decoding
 * of the whole payload, no parsed object. It is a fast path only: it answers for payloads it can
 * read exactly as `JSON.parse` would and gives up (returns `undefined`) on everything else, which
 * the caller then parses with `JSON.parse`. It reads: a flat object whose values are numbers,
 * strings, `true`, `false` or `null`, or a bare such value. It gives up on nested objects and
 * arrays, on any backslash escape, on any byte outside printable ASCII inside a string or key
 * (non-ASCII text, invalid UTF-8, control characters), on any JSON syntax error (so malformed
 * payloads get `JSON.parse`'s own error message) and on anything after the value. Duplicate keys
 * resolve as in `JSON.parse`: the last one wins.
 */

/** Keys to look up, compiled once per topic entry. */
export interface FlatKeys {
  /** The keys as ASCII bytes (only ASCII keys can be matched here; others give up at compile). */
  readonly bytes: readonly Uint8Array[];
}

/** What a scan found: a flat object (`values[i]` is keys[i]'s value, undefined when absent) or a bare value. */
export type FlatScan = { kind: 'object'; values: unknown[] } | { kind: 'scalar'; value: unknown };

/** Compiles the keys, or returns undefined when one of them cannot be matched on bytes (non-ASCII). */
export function compileFlatKeys(keys: readonly string[]): FlatKeys | undefined {
  const bytes: Uint8Array[] = [];
  for (const k of keys) {
    const b = new Uint8Array(k.length);
    for (let i = 0; i < k.length; i++) {
      const c = k.charCodeAt(i);
      // A key with a character JSON would have to escape, or non-ASCII, is left to JSON.parse.
      if (c < 0x20 || c >= 0x7f || c === 0x22 || c === 0x5c) return undefined;
      b[i] = c;
    }
    bytes.push(b);
  }
  return { bytes };
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/** Scanner state: the position after the last token and the last scalar read. */
class Scanner {
  pos = 0;
  value: unknown = undefined;
  private mant = 0;
  private digits = 0;
  b: Buffer = Buffer.alloc(0);
  n = 0;

  reset(b: Buffer): this {
    this.b = b;
    this.n = b.length;
    this.pos = 0;
    this.value = undefined;
    return this;
  }

  ws(): void {
    const b = this.b;
    let i = this.pos;
    while (i < this.n) {
      const c = b[i];
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
    this.pos = i;
  }

  /** A string at pos (at its opening quote): end index of its content, or -1 to give up. */
  stringEnd(): number {
    const b = this.b;
    for (let i = this.pos + 1; i < this.n; i++) {
      const c = b[i];
      if (c === 0x22) return i;
      if (c < 0x20 || c >= 0x7f || c === 0x5c) return -1;
    }
    return -1;
  }

  /** Reads a scalar at pos into `value`; false to give up. `want` says whether the value is needed. */
  scalar(want: boolean): boolean {
    const b = this.b;
    const c = b[this.pos];
    if (c === 0x22) {
      const end = this.stringEnd();
      if (end < 0) return false;
      if (want) this.value = latin1(b, this.pos + 1, end);
      this.pos = end + 1;
      return true;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number(want);
    if (c === 0x74) return this.literal(TRUE, true);
    if (c === 0x66) return this.literal(FALSE, false);
    if (c === 0x6e) return this.literal(NULL, null);
    return false;
  }

  private literal(bytes: Uint8Array, value: unknown): boolean {
    if (this.pos + bytes.length > this.n) return false;
    for (let k = 0; k < bytes.length; k++) if (this.b[this.pos + k] !== bytes[k]) return false;
    this.pos += bytes.length;
    this.value = value;
    return true;
  }

  /** JSON's number grammar exactly: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? */
  private number(want: boolean): boolean {
    const b = this.b;
    const start = this.pos;
    let i = start;
    const neg = b[i] === 0x2d;
    if (neg) i++;
    this.mant = 0;
    this.digits = 0;
    if (b[i] === 0x30) i++;
    else if (b[i] >= 0x31 && b[i] <= 0x39) i = this.run(i);
    else return false;
    let exp = 0;
    if (i < this.n && b[i] === 0x2e) {
      const f = i + 1;
      i = this.run(f);
      if (i === f) return false;
      exp = f - i;
    }
    const explicit = i < this.n && (b[i] === 0x65 || b[i] === 0x45);
    if (explicit) {
      i = this.exponent(i + 1);
      if (i < 0) return false;
    }
    this.pos = i;
    if (!want) return true;
    // Up to 15 digits the mantissa is an exact double, and with |exp| <= 22 so is 10^exp: one
    // multiplication or division is then correctly rounded, the same double JSON.parse gives
    // (Clinger's fast path). Exponent form and longer numbers go through Number(), which uses
    // the same conversion as JSON.parse.
    if (!explicit && this.digits <= 15 && -exp <= 22) {
      const v = exp === 0 ? this.mant : this.mant / POW10[-exp];
      this.value = neg ? -v : v;
    } else {
      this.value = Number(latin1(b, start, i));
    }
    return true;
  }

  /** The digits of an exponent after its `e` (with an optional sign); -1 when there are none. */
  private exponent(i: number): number {
    const b = this.b;
    if (i < this.n && (b[i] === 0x2b || b[i] === 0x2d)) i++;
    const e = i;
    while (i < this.n && b[i] >= 0x30 && b[i] <= 0x39) i++;
    return i === e ? -1 : i;
  }

  /** Digits from `i` on, accumulated into `mant` (exact while `digits` <= 15); returns the index after them. */
  private run(i: number): number {
    const b = this.b;
    while (i < this.n && b[i] >= 0x30 && b[i] <= 0x39) {
      this.mant = this.mant * 10 + (b[i] - 0x30);
      this.digits++;
      i++;
    }
    return i;
  }
}

/** One scanner for every scan (scans never nest or interleave: each runs to completion). */
const scanner = new Scanner();

const TRUE = Uint8Array.of(0x74, 0x72, 0x75, 0x65);
const FALSE = Uint8Array.of(0x66, 0x61, 0x6c, 0x73, 0x65);
const NULL = Uint8Array.of(0x6e, 0x75, 0x6c, 0x6c);

function latin1(b: Buffer, from: number, to: number): string {
  // Only printable ASCII reaches here, so latin1 and UTF-8 decode alike (latin1 is the cheaper).
  return b.toString('latin1', from, to);
}

function keyIndex(b: Uint8Array, from: number, to: number, keys: readonly Uint8Array[]): number {
  const len = to - from;
  outer: for (let k = 0; k < keys.length; k++) {
    const key = keys[k];
    if (key.length !== len) continue;
    for (let j = 0; j < len; j++) if (b[from + j] !== key[j]) continue outer;
    return k;
  }
  return -1;
}

/**
 * Scans `payload` for `keys`. Returns undefined when the payload is anything this fast path does
 * not read exactly (then use JSON.parse). `values` is reused by the caller between messages.
 */
export function scanFlatJson(payload: Buffer, keys: FlatKeys, values: unknown[]): FlatScan | undefined {
  const s = scanner.reset(payload);
  const b = payload;
  s.ws();
  if (s.pos >= s.n) return undefined;
  if (b[s.pos] !== 0x7b) {
    if (!s.scalar(true)) return undefined;
    s.ws();
    return s.pos === s.n ? { kind: 'scalar', value: s.value } : undefined;
  }
  const want = keys.bytes;
  for (let k = 0; k < want.length; k++) values[k] = undefined;
  values.length = want.length;
  s.pos++;
  s.ws();
  if (b[s.pos] === 0x7d) {
    s.pos++;
  } else {
    for (;;) {
      if (s.pos >= s.n || b[s.pos] !== 0x22) return undefined;
      const keyEnd = s.stringEnd();
      if (keyEnd < 0) return undefined;
      const k = keyIndex(b, s.pos + 1, keyEnd, want);
      s.pos = keyEnd + 1;
      s.ws();
      if (b[s.pos] !== 0x3a) return undefined;
      s.pos++;
      s.ws();
      if (s.pos >= s.n || !s.scalar(k >= 0)) return undefined;
      if (k >= 0) values[k] = s.value;
      s.ws();
      const c = b[s.pos];
      s.pos++;
      if (c === 0x7d) break;
      if (c !== 0x2c) return undefined;
      s.ws();
    }
  }
  s.ws();
  return s.pos === s.n ? { kind: 'object', values } : undefined;
}
