// partition.ts, not the store's index: the index loads DuckDB and parquet-wasm, which a parse worker never needs (1 s of start-up)
import { validatePartitionValue } from '../store/partition.ts';

// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;
const MAX_NAME_LENGTH = 200;

/** Which name column a value came from. */
export type NameKind = 'site' | 'asset' | 'signal';

/**
 * Why `value` is not acceptable as a `kind` name, or undefined when it is. Sites are directory
 * names in the store, so they get the store's own partition check (no `..`, `/`, `\`, `=`, `%`,
 * control characters, empty). Assets are treated the same way (they become file-level
 * dictionaries and, in downstream tools, file and model names); signals must be non-empty and
 * free of control characters.
 */
export function nameProblem(kind: NameKind, value: string): string | undefined {
  if (kind === 'site') {
    try {
      validatePartitionValue('site', value);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }
  const expected =
    kind === 'asset'
      ? 'expected a non-empty name without "/", "\\", "..", "=", "%" or control characters'
      : 'expected a non-empty name without control characters';
  const bad = (why: string) => `invalid ${kind} ${JSON.stringify(value)}: ${why} (${expected})`;
  if (value.length === 0) return bad('it is empty');
  if (value.trim().length === 0) return bad('it is only whitespace');
  if (CONTROL_RE.test(value)) return bad('it contains a control character');
  if (value.length > MAX_NAME_LENGTH) return bad(`it is longer than ${MAX_NAME_LENGTH} characters`);
  if (kind === 'asset') {
    if (value.includes('..')) return bad('it contains ".."');
    if (value.includes('/')) return bad('it contains "/"');
    if (value.includes('\\')) return bad('it contains "\\"');
    if (value.includes('=')) return bad('it contains "="');
    if (value.includes('%')) return bad('it contains "%"');
  }
  return undefined;
}

const OK = '';

/**
 * Memoises {@link nameProblem}: a file has few distinct names and millions of rows, so each
 * distinct value is checked once. The memo is bounded so adversarial input cannot grow it forever.
 */
export class NameChecker {
  private readonly memo = new Map<string, string>();
  constructor(private readonly kind: NameKind) {}
  /** The problem with `value`, or undefined when it is a valid name. */
  problem(value: string): string | undefined {
    let p = this.memo.get(value);
    if (p === undefined) {
      p = nameProblem(this.kind, value) ?? OK;
      if (this.memo.size >= 100_000) this.memo.clear();
      this.memo.set(value, p);
    }
    return p === OK ? undefined : p;
  }
}
