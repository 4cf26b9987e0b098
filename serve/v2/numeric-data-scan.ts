/**
 * The fast path for V2 JSON inference requests: one scan over the body finds every
 * `inputs[k].data` that is a rectangular array (flat or nested) of JSON numbers, parses those
 * numbers straight into a Float64Array and cuts the array out of the text, so `JSON.parse` only
 * reads the small envelope that is left (names, shapes, datatypes, parameters, outputs). A data
 * array with anything else in it (strings, booleans, null, ragged nesting), a key with an escape,
 * a repeated `inputs` or `data` key, an `inputs` element that is not an object, or text that is
 * not JSON is left to the general path, which also gives every error: where the scan takes a
 * body, the values are the ones `JSON.parse` gives (see {@link ScannedNumbers}).
 */

/**
 * The numbers of one `data` array as scanned: row-major values and the (rectangular) array's dims.
 * A number of more than 15 significant digits (as every float32 written as a double is) is first
 * taken approximately (within 7e-16 of it, relative); {@link ScannedNumbers.exact} makes every
 * value the double `JSON.parse` gives (reading the array's text again), {@link ScannedNumbers.forFloat32}
 * only those whose float32 rounding the approximation does not already decide (the scan listed
 * those, with their text spans: for float32 data there are none).
 *
 * @example
 * import { scanNumericData } from 'millwright/serve';
 * const numbers = scanNumericData(Buffer.from('{"inputs":[{"data":[[0.1, 2], [3, 4]]}]}'))!.data.get(0)!;
 * numbers.dims; // [2, 2]
 * numbers.exact(); // Float64Array [0.1, 2, 3, 4]
 */
export class ScannedNumbers {
  constructor(
    readonly values: Float64Array,
    readonly dims: readonly number[],
    private readonly text: Uint8Array,
    /** The array's span in `text`: its `[` and the index after its `]`. */
    private readonly span: readonly [number, number],
    /** How many values are approximations (0: every value is exact). */
    private inexactCount: number,
    /** Per approximation whose float32 rounding is not decided: its index, then its span's start and end in `text`. */
    private undecided: Int32Array,
  ) {}

  /** Every value exactly as JSON.parse gives it. */
  exact(): Float64Array {
    if (this.inexactCount === 0) return this.values;
    // Every number token again, in order: one with more than 15 digits or an exponent (a superset of
    // the approximations) through Number(), which gives JSON.parse's double for a JSON number.
    const t = this.text;
    const [start, end] = this.span;
    const v = this.values;
    let k = 0;
    for (let i = start; i < end; ) {
      const c = t[i]!;
      if (c !== MINUS && !(c >= ZERO && c <= NINE)) {
        i++;
        continue;
      }
      let j = i;
      let digits = 0;
      let e = false;
      for (; j < end; j++) {
        const d = t[j]!;
        if (d >= ZERO && d <= NINE) digits++;
        else if (d === 0x65 || d === 0x45) e = true;
        else if (d !== MINUS && d !== PLUS && d !== DOT) break;
      }
      if (digits > 15 || e) v[k] = Number(ascii(t, i, j));
      k++;
      i = j;
    }
    this.inexactCount = 0;
    this.undecided = new Int32Array(0);
    return v;
  }

  /** Values that round to float32 exactly as JSON.parse's doubles do (the checks' limits included). */
  forFloat32(): Float64Array {
    const q = this.undecided;
    const v = this.values;
    for (let j = 0; j < q.length; j += 3) v[q[j]!] = Number(ascii(this.text, q[j + 1]!, q[j + 2]!));
    this.undecided = new Int32Array(0);
    return v;
  }

  /** The nested JS array `JSON.parse` would have returned for this data. */
  toNested(): unknown[] {
    const { dims } = this;
    const values = this.exact();
    const build = (depth: number, offset: number): unknown[] => {
      const n = dims[depth]!;
      if (depth === dims.length - 1) return Array.from(values.subarray(offset, offset + n));
      let stride = 1;
      for (let d = depth + 1; d < dims.length; d++) stride *= dims[d]!;
      return Array.from({ length: n }, (_, i) => build(depth + 1, offset + i * stride));
    };
    return build(0, 0);
  }
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
const MAX_RANK = 16;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** Bytes [a, e) (ASCII) as a string. */
function ascii(b: Uint8Array, a: number, e: number): string {
  let t = '';
  for (let i = a; i < e; i++) t += String.fromCharCode(b[i]!);
  return t;
}

/** Whether bytes [a, e) are the ASCII `word`. */
function bytesAre(b: Uint8Array, a: number, e: number, word: string): boolean {
  if (e - a !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (b[a + i] !== word.charCodeAt(i)) return false;
  return true;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** JSON's four whitespace characters. */
const isWs = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * One numeric array at `start` (a `[`): its values, dims and the index after its `]`, or
 * undefined when it is not a rectangular array of JSON numbers (at most 16 deep).
 */
function scanNumericArray(s: Uint8Array, start: number): { values: Float64Array; dims: number[]; end: number; inexactCount: number; undecided: Int32Array } | undefined {
  const len = s.length;
  const view = new DataView(s.buffer, s.byteOffset, s.byteLength);
  // room for a number per 16 bytes left (a float32 written as a double takes about 20): the 60 KiB
  // body of a [1, 3, 32, 32] tensor then needs no growing copy
  let cap = Math.max(1024, (len - start) >> 4);
  let values = new Float64Array(cap);
  let n = 0;
  const dims: (number | undefined)[] = [];
  const counts: number[] = []; // elements so far of the open array at each depth
  let depth = 0; // open arrays
  let leafDepth = -1; // the depth numbers (or empty arrays) live at
  let i = start;
  let inexactCount = 0;
  let undecided = new Int32Array(3 * 16);
  let q = 0; // used length of undecided
  for (;;) {
    // a value is expected
    while (i < len && isWs(s[i]!)) i++;
    if (i >= len) return undefined;
    let c = s[i]!;
    if (c === LBRACKET) {
      if (depth >= MAX_RANK || (leafDepth !== -1 && depth >= leafDepth)) return undefined;
      counts[depth] = 0;
      depth++;
      i++;
      while (i < len && isWs(s[i]!)) i++;
      if (s[i]! !== RBRACKET) continue;
      // an empty array is a leaf level
      if (leafDepth === -1) leafDepth = depth;
      else if (leafDepth !== depth) return undefined;
    } else {
      if (depth === 0) return undefined;
      if (leafDepth === -1) leafDepth = depth;
      else if (leafDepth !== depth) return undefined;
      // The numbers of this array one after another, in one tight loop (at the leaf depth nothing
      // but a number may follow a comma); its `]`, or anything else, is for the loop below.
      let k = 0;
      for (;;) {
        // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
        let neg = false;
        if (c === MINUS) {
          neg = true;
          i++;
          c = s[i]!;
        }
        const numStart = i;
        // The digits (sig counts them, without leading zeros) collect up to 8 at a time in an
        // integer, `acc`, then go into one double, `mant`: up to 15 digits every step is an integer
        // below 2^53, so exact; 16 to 19 take at most four roundings.
        let mant = 0;
        let acc = 0;
        let accN = 0;
        let sig = 0;
        let exp10 = 0;
        let d: number;
        if (c === ZERO) i++;
        else if (c > ZERO && c <= NINE) {
          const i0 = i;
          while ((d = s[i]! - ZERO) >= 0 && d <= 9) {
            acc = acc * 10 + d;
            if (++accN === 8) {
              mant = mant * 1e8 + acc;
              acc = 0;
              accN = 0;
            }
            i++;
          }
          sig = i - i0;
        } else return undefined;
        if (s[i] === DOT) {
          i++;
          const f0 = i;
          if (sig === 0) {
            while (s[i] === ZERO) i++;
          }
          const f1 = i;
          // Four digits at a time where four are there (a float32 sent as JSON has 7 to 9 of them,
          // usually 16 or 17): one 32-bit read, one test, two multiply-adds, instead of four byte
          // reads and compares (this loop is most of the scan's time).
          for (;;) {
            if (i + 4 <= len) {
              const w = view.getUint32(i, true);
              // every byte's high nibble is 3, and still is after adding 6: all four are 0x30..0x39
              if (((w & 0xf0f0f0f0) | (((w + 0x06060606) & 0xf0f0f0f0) >>> 4)) === 0x33333333) {
                let x = w - 0x30303030; // the four digits' values, the first in the low byte
                x = (x * 10 + (x >>> 8)) & 0x00ff00ff; // two 2-digit values, low and high half
                x = (x * 100 + (x >>> 16)) & 0xffff;
                if (accN <= 4) {
                  acc = acc * 10000 + x;
                  accN += 4;
                  if (accN === 8) {
                    mant = mant * 1e8 + acc;
                    acc = 0;
                    accN = 0;
                  }
                } else {
                  mant = mant * POW10[accN]! + acc;
                  acc = x;
                  accN = 4;
                }
                i += 4;
                continue;
              }
            }
            d = s[i]! - ZERO;
            if (!(d >= 0 && d <= 9)) break;
            acc = acc * 10 + d;
            if (++accN === 8) {
              mant = mant * 1e8 + acc;
              acc = 0;
              accN = 0;
            }
            i++;
          }
          if (i === f0) return undefined;
          sig += i - f1;
          exp10 = f0 - i;
        }
        mant = mant * POW10[accN]! + acc;
        c = s[i]!;
        let bigExp = false;
        if (c === 0x65 || c === 0x45) {
          i++;
          c = s[i]!;
          let eneg = false;
          if (c === PLUS || c === MINUS) {
            eneg = c === MINUS;
            i++;
          }
          const e0 = i;
          let e = 0;
          while ((d = s[i]! - ZERO) >= 0 && d <= 9) {
            if (e < 100000) e = e * 10 + d;
            else bigExp = true;
            i++;
          }
          if (i === e0) return undefined;
          exp10 += eneg ? -e : e;
        }
        // up to 15 digits and 10^k (k <= 22) are exact doubles: one correctly rounded operation, the
        // value JSON.parse gives. 16 to 19 digits: within 7e-16 (relative) of it after at most six
        // roundings, marked inexact and refined later where it matters; anything else goes through
        // Number(), JSON.parse's own conversion.
        let v: number;
        if (!bigExp && sig <= 15 && exp10 >= -22 && exp10 <= 22) v = exp10 < 0 ? mant / POW10[-exp10]! : mant * POW10[exp10]!;
        else if (!bigExp && sig <= 19 && exp10 >= -44 && exp10 <= 22) {
          v = exp10 >= 0 ? mant * POW10[exp10]! : exp10 >= -22 ? mant / POW10[-exp10]! : mant / 1e22 / POW10[-exp10 - 22]!;
          inexactCount++;
          // The exact double is within v * (1 +- 7e-16): if both ends round to one float32, so does
          // it. Listed (with its text) only when not; the float32 checks' limit is decided here too.
          if (!(v < 3.4e38 && Math.fround(v * (1 - 1e-15)) === Math.fround(v * (1 + 1e-15)))) {
            if (q === undecided.length) {
              const grown = new Int32Array(2 * q);
              grown.set(undecided);
              undecided = grown;
            }
            undecided[q++] = n;
            undecided[q++] = neg ? numStart - 1 : numStart;
            undecided[q++] = i;
          }
        } else v = Number(ascii(s, numStart, i));
        if (neg) v = -v;
        if (n === cap) {
          cap *= 2;
          const grown = new Float64Array(cap);
          grown.set(values);
          values = grown;
        }
        values[n++] = v;
        k++;
        while (i < len && isWs(s[i]!)) i++;
        if (s[i] !== COMMA) break;
        i++;
        while (i < len && isWs(s[i]!)) i++;
        c = s[i]!;
        if (c !== MINUS && !(c >= ZERO && c <= NINE)) return undefined;
      }
      counts[depth - 1]! += k;
    }
    // after a value (or at the `]` of an empty array): `,` and the next value, or `]`s
    for (;;) {
      while (i < len && isWs(s[i]!)) i++;
      if (i >= len) return undefined;
      c = s[i]!;
      if (c === COMMA) {
        i++;
        break;
      }
      if (c !== RBRACKET) return undefined;
      i++;
      depth--;
      const count = counts[depth]!;
      if (dims[depth] === undefined) dims[depth] = count;
      else if (dims[depth] !== count) return undefined;
      if (depth === 0) return { values: values.subarray(0, n), dims: dims as number[], end: i, inexactCount, undecided: undecided.subarray(0, q) };
      counts[depth - 1]!++;
    }
  }
}

/** A body's envelope (text) with the scanned `data` arrays cut out (each replaced by `0`), and those arrays by input index. */
export interface ScannedRequest {
  envelope: string;
  data: Map<number, ScannedNumbers>;
}

/**
 * Scans a V2 request body (JSON, UTF-8 bytes) for numeric `inputs[k].data` arrays; undefined when
 * there are none, or the body is anything the scan does not follow (then the general path
 * decides). The envelope still has to go through `JSON.parse`, which checks the rest of the text;
 * it is decoded as strict UTF-8 (undefined if it is not), and the cut spans are ASCII.
 *
 * @example
 * import { scanNumericData } from 'millwright/serve';
 * scanNumericData(Buffer.from('{"inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[1,2]}]}'))?.data.get(0)?.exact(); // Float64Array [1, 2]
 */
export function scanNumericData(s: Uint8Array): ScannedRequest | undefined {
  const len = s.length;
  let i = 0;
  const stack: number[] = []; // open containers: LBRACE or LBRACKET
  let inInputs = false; // stack is [root, root.inputs, ...]
  let inputIndex = -1;
  let inputsSeen = false;
  let dataSeen = false;
  let keyIsData = false; // the key of the value being read
  let keyIsInputs = false;
  let nextBackslash = -2;
  const cuts: number[] = []; // [start, end) spans cut out
  const data = new Map<number, ScannedNumbers>();
  const skipWs = () => {
    while (i < len && isWs(s[i]!)) i++;
  };
  /** A string at i (its opening quote): false when unterminated; `esc` tells whether it had an escape. */
  let esc = false;
  let strStart = 0;
  let strEnd = 0;
  const readString = (): boolean => {
    const q = ++i;
    esc = false;
    for (;;) {
      const at = s.indexOf(QUOTE, i);
      if (at < 0) return false;
      if (nextBackslash < i && nextBackslash !== -1) nextBackslash = s.indexOf(BACKSLASH, i);
      if (nextBackslash !== -1 && nextBackslash < at) {
        esc = true;
        i = nextBackslash + 2;
        continue;
      }
      i = at + 1;
      strStart = q;
      strEnd = at;
      return true;
    }
  };
  /** A key and its colon at i; false when it is not one, has an escape, or repeats `inputs`/`data`. */
  const readKey = (): boolean => {
    if (s[i] !== QUOTE || !readString() || esc) return false;
    keyIsInputs = stack.length === 1 && bytesAre(s, strStart, strEnd, 'inputs');
    keyIsData = stack.length === 3 && inInputs && bytesAre(s, strStart, strEnd, 'data');
    skipWs();
    if (s[i] !== COLON) return false;
    i++;
    if (keyIsInputs) {
      if (inputsSeen) return false;
      inputsSeen = true;
    } else if (keyIsData) {
      if (dataSeen) return false;
      dataSeen = true;
    }
    return true;
  };
  /** After a value: `,` (and in an object the next key) or the container's closing bracket (left for the loop). */
  const afterValue = (): boolean => {
    skipWs();
    const c = s[i];
    const kind = stack[stack.length - 1];
    if (c === COMMA) {
      i++;
      skipWs();
      if (kind === LBRACE) return readKey();
      return s[i] !== RBRACKET;
    }
    return c === (kind === LBRACE ? RBRACE : RBRACKET);
  };
  skipWs();
  if (s[i] !== LBRACE) return undefined;
  for (;;) {
    skipWs();
    if (i >= len) return undefined;
    const c = s[i]!;
    const top = stack.length;
    // every element of root.inputs must be an object for the indexes to be the request's
    if (inInputs && top === 2 && c !== LBRACE && c !== RBRACKET) return undefined;
    if (c === LBRACE) {
      stack.push(LBRACE);
      i++;
      if (inInputs && top === 2) {
        inputIndex++;
        dataSeen = false;
      }
      skipWs();
      if (s[i] === RBRACE) continue;
      if (!readKey()) return undefined;
      continue;
    }
    if (c === RBRACE || c === RBRACKET) {
      if (top === 0 || stack[top - 1] !== (c === RBRACE ? LBRACE : LBRACKET)) return undefined;
      stack.pop();
      i++;
      if (stack.length < 2) inInputs = false;
      if (stack.length === 0) {
        skipWs();
        if (i !== len) return undefined;
        break;
      }
      if (!afterValue()) return undefined;
      continue;
    }
    if (c === LBRACKET) {
      if (inInputs && top === 3 && keyIsData && stack[2] === LBRACE) {
        const got = scanNumericArray(s, i);
        if (got !== undefined) {
          cuts.push(i, got.end);
          data.set(inputIndex, new ScannedNumbers(got.values, got.dims, s, [i, got.end], got.inexactCount, got.undecided));
          i = got.end;
          if (!afterValue()) return undefined;
          continue;
        }
      }
      stack.push(LBRACKET);
      i++;
      if (top === 1 && keyIsInputs) {
        inInputs = true;
        inputIndex = -1;
      }
      skipWs();
      // a comma right after `[` is not JSON
      if (s[i] === COMMA) return undefined;
      continue;
    }
    if (top === 0) return undefined;
    if (c === QUOTE) {
      if (!readString()) return undefined;
    } else {
      // a number, true, false or null: left in the envelope, where JSON.parse checks it
      const t0 = i;
      while (i < len) {
        const d = s[i]!;
        if (d === COMMA || d === RBRACE || d === RBRACKET || isWs(d) || d === QUOTE || d === LBRACE || d === LBRACKET || d === COLON) break;
        i++;
      }
      if (i === t0) return undefined;
    }
    if (!afterValue()) return undefined;
  }
  if (data.size === 0) return undefined;
  // the envelope: the bytes around the cuts, a 0 in each
  let size = len;
  for (let k = 0; k < cuts.length; k += 2) size -= cuts[k + 1]! - cuts[k]! - 1;
  const env = new Uint8Array(size);
  let from = 0;
  let o = 0;
  for (let k = 0; k < cuts.length; k += 2) {
    env.set(s.subarray(from, cuts[k]!), o);
    o += cuts[k]! - from;
    env[o++] = ZERO;
    from = cuts[k + 1]!;
  }
  env.set(s.subarray(from), o);
  let envelope: string;
  try {
    envelope = utf8.decode(env);
  } catch {
    return undefined;
  }
  return { envelope, data };
}
