/**
 * Interns site/asset/signal names to dense integer ids. Readings repeat a handful of names
 * millions of times; columns of ids (Int32Array) plus one `values` list keep them cheap, and ids
 * never change once given, so chunks of one ingest or scan can share a dictionary.
 *
 * @example
 * const names = new StringDictionary();
 * names.id('line01-motor'); // 0
 * names.id('line02-motor'); // 1
 * names.values[0];          // 'line01-motor'
 */
export class StringDictionary {
  readonly values: string[] = [];
  private readonly ids = new Map<string, number>();
  /** Id of `v`, adding it when new. */
  id(v: string): number {
    let id = this.ids.get(v);
    if (id === undefined) {
      id = this.values.length;
      // A name sliced from a large decoded input would pin that whole input: keep a copy of its own.
      const own = v.length >= 13 ? Buffer.from(v, 'utf8').toString('utf8') : v;
      this.ids.set(own, id);
      this.values.push(own);
    }
    return id;
  }
  /** Id of `v` when known. */
  get(v: string): number | undefined {
    return this.ids.get(v);
  }
}
