/**
 * A dictionary-encoded string column for arquero tables: one Int32 key per row into a short list
 * of distinct values. It has the shape arquero gives Arrow dictionary columns (`at`, `key`,
 * `keyFor`, iteration, `toArray`), so every verb, `objects()`, `array()` and `get()` see plain
 * strings, while code that knows the type (`resample`) works on the integer keys and no string
 * is made per row. `keyFor` lets arquero turn `d.asset === 'motor-3'` into an integer compare.
 *
 * @example
 * const asset = new DictionaryColumn(Int32Array.of(0, 0, 1), ['motor-1', 'motor-2']);
 * aq.table({ asset }).objects(); // [{ asset: 'motor-1' }, { asset: 'motor-1' }, { asset: 'motor-2' }]
 */
export class DictionaryColumn {
  /** Rows with a null value: none (store names are never null). */
  readonly nullCount = 0;

  constructor(
    /** Per row: index into `values`. */
    readonly keys: Int32Array,
    /** The distinct values (a value may be unused by every row). */
    readonly values: readonly string[],
  ) {}

  get length(): number {
    return this.keys.length;
  }

  at(row: number): string {
    return this.values[this.keys[row]];
  }

  key(row: number): number {
    return this.keys[row];
  }

  /** The key of `value`, or -1 when no row can have it. */
  keyFor(value: unknown): number {
    return typeof value === 'string' ? this.values.indexOf(value) : -1;
  }

  *[Symbol.iterator](): IterableIterator<string> {
    for (let i = 0; i < this.keys.length; i++) yield this.values[this.keys[i]];
  }

  toArray(): string[] {
    const out = new Array<string>(this.keys.length);
    for (let i = 0; i < out.length; i++) out[i] = this.values[this.keys[i]];
    return out;
  }
}
