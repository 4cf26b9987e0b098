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

/** The numbers of one `data` array as scanned: row-major values and the (rectangular) array's dims. */
export class ScannedNumbers {
  constructor(
    readonly values: Float64Array,
    readonly dims: readonly number[],
  ) {}

  /** The nested JS array `JSON.parse` would have returned for this data. */
  toNested(): unknown[] {
    const { values, dims } = this;
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

/** JSON's four whitespace characters. */
const isWs = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * One numeric array at `start` (a `[`): its values, dims and the index after its `]`, or
 * undefined when it is not a rectangular array of JSON numbers (at most 16 deep).
 */
function scanNumericArray(s: string, start: number): { values: Float64Array; dims: number[]; end: number } | undefined {
  const len = s.length;
  let cap = 1024;
  let values = new Float64Array(cap);
  let n = 0;
  const dims: (number | undefined)[] = [];
  const counts: number[] = []; // elements so far of the open array at each depth
  let depth = 0; // open arrays
  let leafDepth = -1; // the depth numbers (or empty arrays) live at
  let i = start;
  for (;;) {
    // a value is expected
    while (i < len && isWs(s.charCodeAt(i))) i++;
    if (i >= len) return undefined;
    let c = s.charCodeAt(i);
    if (c === LBRACKET) {
      if (depth >= MAX_RANK || (leafDepth !== -1 && depth >= leafDepth)) return undefined;
      counts[depth] = 0;
      depth++;
      i++;
      while (i < len && isWs(s.charCodeAt(i))) i++;
      if (s.charCodeAt(i) !== RBRACKET) continue;
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
        c = s.charCodeAt(i);
      }
      const numStart = i;
      let mant = 0;
      let digits = 0; // significant digits in mant
      let exp10 = 0;
      let exact = true;
      if (c === ZERO) i++;
      else if (c > ZERO && c <= NINE) {
        while (i < len && (c = s.charCodeAt(i)) >= ZERO && c <= NINE) {
          if (digits < 15) {
            mant = mant * 10 + (c - ZERO);
            if (mant !== 0) digits++;
          } else exact = false;
          i++;
        }
      } else return undefined;
      if (s.charCodeAt(i) === DOT) {
        i++;
        const f0 = i;
        while (i < len && (c = s.charCodeAt(i)) >= ZERO && c <= NINE) {
          if (digits < 15) {
            mant = mant * 10 + (c - ZERO);
            if (mant !== 0) digits++;
            exp10--;
          } else exact = false;
          i++;
        }
        if (i === f0) return undefined;
      }
      c = s.charCodeAt(i);
      if (c === 0x65 || c === 0x45) {
        i++;
        c = s.charCodeAt(i);
        let eneg = false;
        if (c === PLUS || c === MINUS) {
          eneg = c === MINUS;
          i++;
        }
        const e0 = i;
        let e = 0;
        while (i < len && (c = s.charCodeAt(i)) >= ZERO && c <= NINE) {
          if (e < 100000) e = e * 10 + (c - ZERO);
          else exact = false;
          i++;
        }
        if (i === e0) return undefined;
        exp10 += eneg ? -e : e;
      }
      // mant < 10^15 < 2^53 and 10^k (k <= 22) are exact doubles: one correctly rounded operation,
      // the value JSON.parse gives; anything else goes through Number(), JSON.parse's own conversion.
      let v = exact && exp10 >= -22 && exp10 <= 22 ? (exp10 < 0 ? mant / POW10[-exp10]! : mant * POW10[exp10]!) : Number(s.slice(numStart, i));
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
      while (i < len && isWs(s.charCodeAt(i))) i++;
      if (i >= len) return undefined;
      c = s.charCodeAt(i);
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
      if (depth === 0) return { values: values.subarray(0, n), dims: dims as number[], end: i };
      counts[depth - 1]!++;
    }
  }
}

/** A body's envelope with the scanned `data` arrays cut out (each replaced by `0`), and those arrays by input index. */
export interface ScannedRequest {
  envelope: string;
  data: Map<number, ScannedNumbers>;
}

const SCALAR = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null/y;

/**
 * Scans a V2 request body (JSON text) for numeric `inputs[k].data` arrays; undefined when there
 * are none, or the body is anything the scan does not follow (then the general path decides).
 * The envelope still has to go through `JSON.parse`, which checks the rest of the text.
 *
 * @example
 * import { scanNumericData } from 'millwright/serve';
 * scanNumericData('{"inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[1,2]}]}')?.data.get(0)?.values; // Float64Array [1, 2]
 */
export function scanNumericData(s: string): ScannedRequest | undefined {
  const len = s.length;
  let i = 0;
  const stack: number[] = []; // open containers: LBRACE or LBRACKET
  let inInputs = false; // stack is [root, root.inputs, ...]
  let inputIndex = -1;
  let inputsSeen = false;
  let dataSeen = false;
  let key = ''; // the key of the value being read (in an object)
  let nextBackslash = -2;
  const pieces: string[] = [];
  let from = 0;
  const data = new Map<number, ScannedNumbers>();
  const skipWs = () => {
    while (i < len && isWs(s.charCodeAt(i))) i++;
  };
  /** A string at i (its opening quote); its raw text and whether it has an escape, or undefined. */
  const readString = (): { text: string; esc: boolean } | undefined => {
    const q = ++i;
    let esc = false;
    for (;;) {
      const at = s.indexOf('"', i);
      if (at < 0) return undefined;
      if (nextBackslash < i && nextBackslash !== -1) nextBackslash = s.indexOf('\\', i);
      if (nextBackslash !== -1 && nextBackslash < at) {
        esc = true;
        i = nextBackslash + 2;
        continue;
      }
      i = at + 1;
      return { text: s.slice(q, at), esc };
    }
  };
  /** A key and its colon at i; false when it is not one, has an escape, or repeats `inputs`/`data`. */
  const readKey = (): boolean => {
    if (s.charCodeAt(i) !== QUOTE) return false;
    const k = readString();
    if (k === undefined || k.esc) return false;
    key = k.text;
    skipWs();
    if (s.charCodeAt(i) !== COLON) return false;
    i++;
    if (stack.length === 1 && key === 'inputs') {
      if (inputsSeen) return false;
      inputsSeen = true;
    } else if (stack.length === 3 && inInputs && key === 'data') {
      if (dataSeen) return false;
      dataSeen = true;
    }
    return true;
  };
  /** After a value: `,` (and in an object the next key) or the container's closing bracket (left for the loop). */
  const afterValue = (): boolean => {
    skipWs();
    const c = s.charCodeAt(i);
    const kind = stack[stack.length - 1];
    if (c === COMMA) {
      i++;
      skipWs();
      if (kind === LBRACE) return readKey();
      return s.charCodeAt(i) !== RBRACKET;
    }
    return c === (kind === LBRACE ? RBRACE : RBRACKET);
  };
  skipWs();
  if (s.charCodeAt(i) !== LBRACE) return undefined;
  for (;;) {
    skipWs();
    if (i >= len) return undefined;
    const c = s.charCodeAt(i);
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
      if (s.charCodeAt(i) === RBRACE) continue;
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
      if (inInputs && top === 3 && key === 'data' && stack[2] === LBRACE) {
        const got = scanNumericArray(s, i);
        if (got !== undefined) {
          pieces.push(s.slice(from, i), '0');
          from = got.end;
          i = got.end;
          data.set(inputIndex, new ScannedNumbers(got.values, got.dims));
          if (!afterValue()) return undefined;
          continue;
        }
      }
      stack.push(LBRACKET);
      i++;
      if (top === 1 && key === 'inputs') {
        inInputs = true;
        inputIndex = -1;
      }
      skipWs();
      if (s.charCodeAt(i) === RBRACKET) continue;
      // a comma right after `[` is not JSON
      if (s.charCodeAt(i) === COMMA) return undefined;
      continue;
    }
    if (top === 0) return undefined;
    if (c === QUOTE) {
      if (readString() === undefined) return undefined;
    } else {
      SCALAR.lastIndex = i;
      const m = SCALAR.exec(s);
      if (!m) return undefined;
      i += m[0].length;
    }
    if (!afterValue()) return undefined;
  }
  if (data.size === 0) return undefined;
  pieces.push(s.slice(from));
  return { envelope: pieces.join(''), data };
}
