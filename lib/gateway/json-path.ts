import { MillwrightError } from '../errors/index.ts';

/**
 * A small JSON path, enough to find a value in a device's payload: `$` (the whole payload),
 * `$.a.b` (object keys), `$['a key']` (quoted keys), `$.a[0]` (array indices) and, only at the
 * end of an `items` path, `[*]` (every element). Compiled once from the config into a list of
 * steps and walked without eval, so a path from a config file can never run code.
 */
export interface JsonPath {
  /** The path as written. */
  readonly source: string;
  /** True when the path ends in `[*]` (it selects the elements of an array). */
  readonly all: boolean;
  /** The keys and indices walked from the root (`$` has none), so a caller can tell a one-key path. */
  readonly steps: readonly (string | number)[];
  /** The value at the path, or undefined when a step is missing or of the wrong kind. */
  get(root: unknown): unknown;
}

type Step = string | number;

function fail(path: string, at: number, expected: string): never {
  throw new MillwrightError('BAD_INPUT', `JSON path ${JSON.stringify(path)}: at character ${at + 1}, expected ${expected} (paths look like $.a.b, $.a[0], $['a b'], $.items[*])`);
}

/** Reads `['key']` or `["key"]` starting at the opening quote; returns the key and the index after `]`. */
function quotedKey(path: string, i: number): [string, number] {
  const quote = path[i];
  let key = '';
  let j = i + 1;
  while (j < path.length && path[j] !== quote) {
    if (path[j] === '\\' && j + 1 < path.length) j++;
    key += path[j];
    j++;
  }
  if (j >= path.length) fail(path, i, `a closing ${quote}`);
  if (path[j + 1] !== ']') fail(path, j + 1, '"]"');
  return [key, j + 2];
}

function parseSteps(path: string, allowAll: boolean): { steps: Step[]; all: boolean } {
  if (path[0] !== '$') fail(path, 0, '"$" (the payload root)');
  const steps: Step[] = [];
  let all = false;
  let i = 1;
  while (i < path.length) {
    if (all) fail(path, i, 'the end of the path after [*]');
    const c = path[i];
    if (c === '.') {
      const m = /^[^.[\]'"\s]+/.exec(path.slice(i + 1));
      if (!m) fail(path, i + 1, 'a key name');
      steps.push(m[0]);
      i += 1 + m[0].length;
    } else if (c === '[') {
      const rest = path.slice(i + 1);
      if (rest[0] === "'" || rest[0] === '"') {
        const [key, next] = quotedKey(path, i + 1);
        steps.push(key);
        i = next;
      } else if (rest.startsWith('*]')) {
        if (!allowAll) fail(path, i, 'an index or quoted key ([*] is only allowed at the end of an items path)');
        all = true;
        i += 3;
      } else {
        const m = /^(\d+)\]/.exec(rest);
        if (!m) fail(path, i + 1, 'an array index such as [0] or a quoted key such as [\'a b\']');
        steps.push(Number(m[1]));
        i += 1 + m[0].length;
      }
    } else {
      fail(path, i, '"." or "["');
    }
  }
  return { steps, all };
}

/**
 * Compiles a JSON path. `allowAll` permits a trailing `[*]` (for `items` paths that select the
 * readings of a batched payload). Throws BAD_INPUT naming the position of the mistake.
 * (Internal to the MQTT source: `compileJsonPath('$.r[0].v').get({ r: [{ v: 21.5 }] })` is 21.5.)
 */
export function compileJsonPath(path: string, options: { allowAll?: boolean } = {}): JsonPath {
  const { steps, all } = parseSteps(path, options.allowAll === true);
  const n = steps.length;
  return {
    source: path,
    all,
    steps,
    get(root: unknown): unknown {
      let cur = root;
      for (let k = 0; k < n; k++) {
        if (cur === null || typeof cur !== 'object') return undefined;
        const step = steps[k];
        if (typeof step === 'number') {
          if (!Array.isArray(cur)) return undefined;
          cur = cur[step];
        } else {
          if (Array.isArray(cur) || !Object.hasOwn(cur, step)) return undefined;
          cur = (cur as Record<string, unknown>)[step];
        }
      }
      return cur;
    },
  };
}
