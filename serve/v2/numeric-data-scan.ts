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
 * taken approximately (within 7e-16 of it, relative) and listed in `inexact`,
 * with its text span; {@link ScannedNumbers.exact} makes every value the double `JSON.parse`
 * gives, {@link ScannedNumbers.forFloat32} only those whose float32 rounding the approximation
 * does not already decide.
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
    /** Per inexact value: its index, then its span's start and end in `text`. */
    private inexact: Int32Array,
  ) {}

  /** Every value exactly as JSON.parse gives it. */
  exact(): Float64Array {
    const q = this.inexact;
    for (let j = 0; j < q.length; j += 3) this.values[q[j]!] = Number(ascii(this.text, q[j + 1]!, q[j + 2]!));
    this.inexact = new Int32Array(0);
    return this.values;
  }

  /** Values that round to float32 exactly as JSON.parse's doubles do (the checks' limits included). */
  forFloat32(): Float64Array {
    const q = this.inexact;
    const v = this.values;
    for (let j = 0; j < q.length; j += 3) {
      const a = v[q[j]!]!;
      // the exact double is within a * (1 +- 8e-16): if both ends round to one float32, so does it
      if (Math.abs(a) < 3.4e38 && Math.fround(a * (1 - 1e-15)) === Math.fround(a * (1 + 1e-15))) continue;
      v[q[j]!] = Number(ascii(this.text, q[j + 1]!, q[j + 2]!));
    }
    this.inexact = new Int32Array(0);
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
function scanNumericArray(s: Uint8Array, start: number): { values: Float64Array; dims: number[]; end: number; inexact: Int32Array } | undefined {
  const len = s.length;
  let cap = 1024;
  let values = new Float64Array(cap);
  let n = 0;
  const dims: (number | undefined)[] = [];
  const counts: number[] = []; // elements so far of the open array at each depth
  let depth = 0; // open arrays
  let leafDepth = -1; // the depth numbers (or empty arrays) live at
  let i = start;
  let inexact = new Int32Array(3 * 1024);
  let q = 0; // used length of inexact
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
      // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
      let neg = false;
      if (c === MINUS) {
        neg = true;
        i++;
        c = s[i]!;
      }
      const numStart = i;
      // all digits go into one double (exact up to 15 significant digits); sig counts them without leading zeros
      let mant = 0;
      let sig = 0;
      let exp10 = 0;
      let d: number;
      if (c === ZERO) i++;
      else if (c > ZERO && c <= NINE) {
        const i0 = i;
        while ((d = s[i]! - ZERO) >= 0 && d <= 9) {
          mant = mant * 10 + d;
          i++;
        }
        sig = i - i0;
      } else return undefined;
      if (s[i] === DOT) {
        i++;
        const f0 = i;
        if (mant === 0) {
          while (s[i] === ZERO) i++;
        }
        const f1 = i;
        while ((d = s[i]! - ZERO) >= 0 && d <= 9) {
          mant = mant * 10 + d;
          i++;
        }
        if (i === f0) return undefined;
        sig += i - f1;
        exp10 = f0 - i;
      }
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
        if (q === inexact.length) {
          const grown = new Int32Array(2 * q);
          grown.set(inexact);
          inexact = grown;
        }
        inexact[q++] = n;
        inexact[q++] = neg ? numStart - 1 : numStart;
        inexact[q++] = i;
      } else v = Number(ascii(s, numStart, i));
      if (neg) v = -v;
      if (n === cap) {
        cap *= 2;
        const grown = new Float64Array(cap);
        grown.set(values);
        values = grown;
      }
      values[n++] = v;
      counts[depth - 1]!++;
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
      if (depth === 0) return { values: values.subarray(0, n), dims: dims as number[], end: i, inexact: inexact.subarray(0, q) };
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
          i = got.end;
          data.set(inputIndex, new ScannedNumbers(got.values, got.dims, s, got.inexact));
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
