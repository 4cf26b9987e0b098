import { MillwrightError } from '../errors/index.ts';

/**
 * An MQTT topic filter (`plant/+/+`, `site/#`) that is both the subscription and the pattern a
 * received topic is matched against, returning the topic levels the wildcards matched:
 * `{1}` is the level matched by the first `+` (or the rest matched by `#`, joined with `/`).
 */
export interface TopicPattern {
  readonly filter: string;
  /** Number of wildcards (`+` and `#`), i.e. the highest `{n}` a template may use. */
  readonly wildcards: number;
  /** The wildcard captures for a matching topic, or undefined when it does not match. */
  match(topic: string): string[] | undefined;
}

/**
 * Parses a topic filter by MQTT's rules: `+` and `#` stand alone in a level, `#` only last.
 * Throws BAD_INPUT saying which level is wrong.
 */
export function compileTopicPattern(filter: string): TopicPattern {
  if (filter === '') throw new MillwrightError('BAD_INPUT', 'topic filter is empty (expected e.g. plant/+/+ or site/#)');
  const levels = filter.split('/');
  let wildcards = 0;
  levels.forEach((level, i) => {
    if (level === '+' || level === '#') {
      if (level === '#' && i !== levels.length - 1) throw new MillwrightError('BAD_INPUT', `topic filter ${JSON.stringify(filter)}: "#" must be the last level`);
      wildcards++;
    } else if (level.includes('+') || level.includes('#')) {
      throw new MillwrightError('BAD_INPUT', `topic filter ${JSON.stringify(filter)}: level ${i + 1} ${JSON.stringify(level)} mixes a wildcard with text (a wildcard must be a whole level)`);
    }
  });
  const multi = levels[levels.length - 1] === '#';
  const fixed = multi ? levels.length - 1 : levels.length;
  return {
    filter,
    wildcards,
    match(topic: string): string[] | undefined {
      // MQTT: a filter starting with a wildcard does not match topics starting with `$` ($SYS/...).
      if (topic.startsWith('$') && (levels[0] === '+' || levels[0] === '#')) return undefined;
      const parts = topic.split('/');
      if (multi ? parts.length < fixed : parts.length !== fixed) return undefined;
      const captures: string[] = [];
      for (let i = 0; i < fixed; i++) {
        const want = levels[i];
        if (want === '+') captures.push(parts[i]);
        else if (want !== parts[i]) return undefined;
      }
      if (multi) captures.push(parts.slice(fixed).join('/'));
      return captures;
    },
  };
}

/**
 * A name template over a topic's wildcard captures: `"{1}"`, `"line-{2}"`, or plain text.
 * Compiled once; `render` fills in the captures. Throws BAD_INPUT for a `{n}` beyond the
 * filter's wildcards, so a typo is caught at start-up rather than per message.
 */
export function compileTemplate(template: string, pattern: TopicPattern, key: string): (captures: string[]) => string {
  const parts: (string | number)[] = [];
  let last = 0;
  for (const m of template.matchAll(/\{(\d+)\}/g)) {
    const n = Number(m[1]);
    if (n < 1 || n > pattern.wildcards) {
      throw new MillwrightError('BAD_INPUT', `${key} ${JSON.stringify(template)}: {${n}} but topic ${JSON.stringify(pattern.filter)} has ${pattern.wildcards} wildcard${pattern.wildcards === 1 ? '' : 's'} (expected {1}..{${pattern.wildcards}})`);
    }
    parts.push(template.slice(last, m.index), n - 1);
    last = m.index + m[0].length;
  }
  parts.push(template.slice(last));
  if (parts.length === 1) return () => template;
  return (captures) => {
    let out = '';
    for (const p of parts) out += typeof p === 'number' ? captures[p] : p;
    return out;
  };
}
