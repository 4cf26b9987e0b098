/** A matcher for names or `*` wildcards; omitted matches everything. */
export function nameMatcher(sel: string | readonly string[] | undefined): (name: string) => boolean {
  if (sel === undefined) return () => true;
  const list = typeof sel === 'string' ? [sel] : sel;
  const exact = new Set(list.filter((s) => !s.includes('*')));
  const globs = list.filter((s) => s.includes('*')).map((s) => new RegExp(`^${s.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`));
  return (name) => exact.has(name) || globs.some((g) => g.test(name));
}

/** The plain names (no wildcard) of a selector. */
export function exactNames(sel: string | readonly string[] | undefined): string[] {
  if (sel === undefined) return [];
  return (typeof sel === 'string' ? [sel] : [...sel]).filter((s) => !s.includes('*'));
}
