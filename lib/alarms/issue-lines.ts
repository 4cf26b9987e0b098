import type { z } from 'zod';

/** `rules[2].hi` from zod's `['rules', 2, 'hi']` (the gateway config's spelling). */
export function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? '(top level)' : out;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let v = data;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p as string];
  }
  return v;
}

/**
 * zod issues as `path: message` lines, in the style of the gateway config's errors (lib/alarms
 * cannot import lib/gateway, which imports it).
 */
export function issueLines(issues: readonly z.core.$ZodIssue[], data: unknown): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const i = issue as unknown as Record<string, unknown>;
    const path = issuePath(issue.path);
    const got = valueAt(data, issue.path);
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const k of i.keys as string[]) lines.push(`${issuePath([...issue.path, k])}: unknown key`);
        break;
      case 'invalid_value':
        lines.push(`${path}: expected one of ${(i.values as unknown[]).map(String).join(', ')}, got ${JSON.stringify(got)}`);
        break;
      case 'invalid_union':
        if (Array.isArray(i.options) && i.discriminator !== undefined) lines.push(`${path}: ${got === undefined ? 'missing; ' : `unknown ${String(i.discriminator)} ${JSON.stringify(got)}; `}expected one of ${(i.options as unknown[]).map(String).join(', ')}`);
        else lines.push(`${path}: ${issue.message}${got === undefined ? ' (missing)' : ` (got ${JSON.stringify(got)})`}`);
        break;
      case 'invalid_type':
        lines.push(`${path}: ${got === undefined ? 'missing' : `expected ${String(i.expected)}, got ${JSON.stringify(got)}`}${got === undefined ? ` (expected ${String(i.expected)})` : ''}`);
        break;
      default:
        lines.push(`${path}: ${issue.message}`);
    }
  }
  return lines;
}
