import type { z } from 'zod';

type Path = readonly PropertyKey[];

/** `sources[2].registers[0].type` from zod's `['sources', 2, 'registers', 0, 'type']`. */
export function formatPath(path: Path): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(top level)' : out;
}

function valueAt(data: unknown, path: Path): unknown {
  let v = data;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p as string];
  }
  return v;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : `the number ${v}`;
  return typeof v === 'boolean' ? `${v}` : typeof v;
}

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
}

function defOf(s: z.ZodType): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

/** The schema at `path` (walking objects, lists, optionals, pipes and discriminated unions by the data). */
function schemaAt(root: z.ZodType, data: unknown, path: Path): z.ZodType | undefined {
  let s: z.ZodType | undefined = root;
  let d: unknown = data;
  let i = 0;
  for (let guard = 0; s && guard < 200; guard++) {
    const def = defOf(s);
    if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault') s = def.innerType;
    else if (def.type === 'pipe') s = def.in;
    else if (def.type === 'union' && def.discriminator && def.options) {
      const tag = valueAt(d, [def.discriminator]);
      s = def.options.find((o) => {
        const lit = defOf(o).shape?.[def.discriminator!];
        return lit && (defOf(lit) as unknown as { values?: unknown[] }).values?.includes(tag);
      });
    } else if (i === path.length) return s;
    else if (def.type === 'object' && typeof path[i] === 'string') {
      s = def.shape?.[path[i] as string];
      d = valueAt(d, [path[i]]);
      i++;
    } else if (def.type === 'array' && typeof path[i] === 'number') {
      s = def.element;
      d = valueAt(d, [path[i]]);
      i++;
    } else return undefined;
  }
  return undefined;
}

function keysAt(root: z.ZodType, data: unknown, path: Path): string[] | undefined {
  const s = schemaAt(root, data, path);
  const shape = s && defOf(s).shape;
  return shape ? Object.keys(shape) : undefined;
}

function describeSize(issue: z.core.$ZodIssue, data: unknown): string {
  const i = issue as unknown as { code: string; origin?: string; minimum?: number | bigint; maximum?: number | bigint; inclusive?: boolean };
  const small = i.code === 'too_small';
  const bound = Number(small ? i.minimum : i.maximum);
  const got = valueAt(data, issue.path);
  if (i.origin === 'array' || i.origin === 'set') return small ? `expected at least ${bound} item${bound === 1 ? '' : 's'}` : `expected at most ${bound} item${bound === 1 ? '' : 's'}`;
  if (i.origin === 'string') return small && bound === 1 ? 'expected a non-empty string' : `expected a string of ${small ? 'at least' : 'at most'} ${bound} characters`;
  const op = small ? (i.inclusive === false ? '>' : '>=') : i.inclusive === false ? '<' : '<=';
  return `expected a number ${op} ${bound}, got ${kindOf(got)}`;
}

/**
 * Turns zod issues into `path: message` lines a person can act on, e.g.
 * `sources[2].registers[0].type: expected one of int16, uint16, int32, uint32, float32, float64`.
 * Unknown keys get one line each, with the keys that are allowed there.
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[], root: z.ZodType, data: unknown): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = formatPath(issue.path);
    const i = issue as unknown as Record<string, unknown>;
    switch (issue.code) {
      case 'unrecognized_keys': {
        const allowed = keysAt(root, data, issue.path);
        for (const k of i.keys as string[]) {
          lines.push(`${formatPath([...issue.path, k])}: unknown key${allowed ? ` (expected one of ${allowed.join(', ')})` : ''}`);
        }
        break;
      }
      case 'invalid_value':
        lines.push(`${path}: expected ${(i.values as unknown[]).length === 1 ? JSON.stringify((i.values as unknown[])[0]) : `one of ${(i.values as unknown[]).map(String).join(', ')}`}`);
        break;
      case 'invalid_union':
        if (i.discriminator !== undefined && Array.isArray(i.options)) {
          const got = valueAt(data, issue.path);
          lines.push(`${path}: ${got === undefined ? 'missing; ' : ''}expected one of ${(i.options as unknown[]).map(String).join(', ')}`);
        } else {
          // A plain union (e.g. a size: string or number): name what each branch expected.
          const got = valueAt(data, issue.path);
          const branches = (i.errors as { code: string; expected?: string }[][] | undefined) ?? [];
          const expected = [...new Set(branches.flatMap((b) => b.filter((x) => x.code === 'invalid_type').map((x) => String(x.expected))))];
          const want = expected.length > 0 ? expected.join(' or ') : 'another value';
          lines.push(`${path}: ${got === undefined ? `missing (expected ${want})` : `expected ${want}, got ${kindOf(got)}`}`);
        }
        break;
      case 'invalid_type': {
        const got = valueAt(data, issue.path);
        const expected = String(i.expected);
        lines.push(`${path}: ${got === undefined ? `missing (expected ${expected})` : `expected ${expected}, got ${kindOf(got)}`}`);
        break;
      }
      case 'too_small':
      case 'too_big':
        lines.push(`${path}: ${describeSize(issue, data)}`);
        break;
      default:
        lines.push(`${path}: ${issue.message}`);
    }
  }
  return lines;
}
