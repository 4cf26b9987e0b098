import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString, withConnection } from '../store/duckdb.ts';
import { DAY_MS, dateOfDay } from '../store/partition.ts';

/**
 * Partition pruning from the text of a query: which sites and dates of the `readings` view a
 * `SELECT` can touch, read off DuckDB's own parse tree (`json_serialize_sql`), never a regex.
 *
 * Conservative by construction: bounds come only from the top-level AND-ed predicates of the
 * WHERE clause of a single SELECT whose only table is `readings`, and only from these shapes
 * (either side): `site = 'x'`, `site IN ('x', 'y')`; `ts` and `date` compared with `=`, `<`,
 * `<=`, `>`, `>=` or `BETWEEN` to a literal (a string, or a string cast to DATE / TIMESTAMP /
 * TIMESTAMPTZ). The literal is evaluated by DuckDB in the session time zone `sql` uses (UTC), so
 * it means what it means in the query. Anything else (OR, NOT, functions of the column, a
 * subquery, a CTE, a join, UNION, another table, a parameter) prunes nothing: it may fetch more
 * than needed, never less.
 */

/** What the query lets a read-only object store skip. */
export interface SqlPruning {
  /** Sites the query can read (undefined: any). */
  sites?: string[];
  /** UTC days (since 1970-01-01), inclusive, the query can read (undefined: unbounded). */
  fromDay?: number;
  toDay?: number;
  /** What was derived, or why nothing was, for `--verbose`. */
  note: string;
}

type Node = Record<string, unknown>;

const DAY_US = DAY_MS * 1000;
const TIME_CASTS = new Set(['TIMESTAMP', 'TIMESTAMP WITH TIME ZONE', 'DATE', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS']);
const OP_TEXT: Record<string, string> = {
  COMPARE_EQUAL: '=',
  COMPARE_LESSTHAN: '<',
  COMPARE_LESSTHANOREQUALTO: '<=',
  COMPARE_GREATERTHAN: '>',
  COMPARE_GREATERTHANOREQUALTO: '>=',
};
const FLIP: Record<string, string> = {
  COMPARE_EQUAL: 'COMPARE_EQUAL',
  COMPARE_LESSTHAN: 'COMPARE_GREATERTHAN',
  COMPARE_LESSTHANOREQUALTO: 'COMPARE_GREATERTHANOREQUALTO',
  COMPARE_GREATERTHAN: 'COMPARE_LESSTHAN',
  COMPARE_GREATERTHANOREQUALTO: 'COMPARE_LESSTHANOREQUALTO',
};

/** Nodes anywhere in the tree that read a relation or hide one (more than the top table means no pruning). */
function relations(n: unknown, out: string[]): void {
  if (Array.isArray(n)) {
    for (const x of n) relations(x, out);
    return;
  }
  if (n === null || typeof n !== 'object') return;
  const o = n as Node;
  const t = o.type;
  if (o.class === 'SUBQUERY') out.push('a subquery');
  else if (t === 'BASE_TABLE' || t === 'TABLE_FUNCTION' || t === 'JOIN' || t === 'SUBQUERY' || t === 'EXPRESSION_LIST' || t === 'PIVOT') out.push(String(t));
  else if (t === 'SET_OPERATION_NODE' || t === 'RECURSIVE_CTE_NODE' || t === 'CTE_NODE') out.push(String(t));
  else if (o.class === 'PARAMETER') out.push('a parameter');
  for (const v of Object.values(o)) if (v !== null && typeof v === 'object') relations(v, out);
}

/** The readings column a node names (`site`, `r.ts`, `readings.date`), lower case, or undefined. */
function columnOf(n: Node | undefined, alias: string): string | undefined {
  if (!n || n.class !== 'COLUMN_REF') return undefined;
  const names = (n.column_names as string[]).map((s) => s.toLowerCase());
  if (names.length === 1) return names[0];
  if (names.length === 2 && (names[0] === alias || names[0] === 'readings')) return names[1];
  return undefined;
}

/** SQL text of a literal the pruning accepts, or undefined. */
function literal(n: Node | undefined): Literal | undefined {
  if (!n) return undefined;
  if (n.class === 'CONSTANT') {
    const v = n.value as { type: { id: string }; is_null: boolean; value: unknown };
    if (v.is_null || v.type.id !== 'VARCHAR' || typeof v.value !== 'string') return undefined;
    return { sql: sqlString(v.value), text: v.value };
  }
  if (n.class === 'CAST' && n.try_cast === false) {
    const inner = literal(n.child as Node);
    const to = (n.cast_type as { id: string }).id;
    if (!inner || inner.cast || !TIME_CASTS.has(to)) return undefined;
    return { sql: `CAST(${inner.sql} AS ${to})`, text: inner.text, cast: to };
  }
  return undefined;
}

interface Bounds {
  sites?: Set<string>;
  fromDay?: number;
  toDay?: number;
  used: string[];
}

function narrowSites(b: Bounds, s: string[]): void {
  b.sites = b.sites ? new Set(s.filter((x) => b.sites!.has(x))) : new Set(s);
}

function lower(b: Bounds, day: number): void {
  b.fromDay = b.fromDay === undefined ? day : Math.max(b.fromDay, day);
}

function upper(b: Bounds, day: number): void {
  b.toDay = b.toDay === undefined ? day : Math.min(b.toDay, day);
}

async function scalar(conn: DuckDBConnection, sql: string): Promise<number | undefined> {
  try {
    const r = await conn.runAndReadAll(`SELECT (${sql})::DOUBLE`);
    const v = r.getRows()[0]?.[0];
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

type Literal = { sql: string; text: string; cast?: string };

/** Applies `ts op literal` (op oriented column-first) to the bounds. */
async function compareTs(conn: DuckDBConnection, b: Bounds, op: string, lit: Literal): Promise<boolean> {
  const us = await scalar(conn, `epoch_us(CAST(${lit.sql} AS TIMESTAMPTZ))`);
  if (us === undefined || Math.abs(us) > 1e17) return false;
  const floorDay = Math.floor(us / DAY_US);
  if (op === 'COMPARE_GREATERTHAN' || op === 'COMPARE_GREATERTHANOREQUALTO' || op === 'COMPARE_EQUAL') lower(b, floorDay);
  if (op === 'COMPARE_LESSTHAN') upper(b, Math.ceil(us / DAY_US) - 1);
  if (op === 'COMPARE_LESSTHANOREQUALTO' || op === 'COMPARE_EQUAL') upper(b, floorDay);
  b.used.push(`ts ${OP_TEXT[op]} ${lit.sql}`);
  return true;
}

/** Applies `date op literal`: only a date (a string or a DATE literal), which DuckDB casts to DATE. */
async function compareDate(conn: DuckDBConnection, b: Bounds, op: string, lit: Literal): Promise<boolean> {
  if (lit.cast !== undefined && lit.cast !== 'DATE') return false;
  const day = await scalar(conn, `CAST(${lit.sql} AS DATE) - DATE '1970-01-01'`);
  if (day === undefined) return false;
  if (op === 'COMPARE_GREATERTHANOREQUALTO' || op === 'COMPARE_EQUAL') lower(b, day);
  if (op === 'COMPARE_GREATERTHAN') lower(b, day + 1);
  if (op === 'COMPARE_LESSTHANOREQUALTO' || op === 'COMPARE_EQUAL') upper(b, day);
  if (op === 'COMPARE_LESSTHAN') upper(b, day - 1);
  b.used.push(`date ${OP_TEXT[op]} ${lit.sql}`);
  return true;
}

/** Applies `column op literal` (op already oriented column-first) to the bounds; false when it cannot. */
async function compare(conn: DuckDBConnection, b: Bounds, column: string, op: string, lit: Literal): Promise<boolean> {
  if (column === 'ts') return compareTs(conn, b, op, lit);
  if (column === 'date') return compareDate(conn, b, op, lit);
  if (column !== 'site' || op !== 'COMPARE_EQUAL' || lit.cast) return false;
  narrowSites(b, [lit.text]);
  b.used.push(`site = ${sqlString(lit.text)}`);
  return true;
}

/** One top-level conjunct: narrows the bounds, or does nothing. */
async function conjunct(conn: DuckDBConnection, b: Bounds, n: Node, alias: string): Promise<void> {
  if (n.class === 'COMPARISON' && typeof n.type === 'string' && FLIP[n.type]) {
    const l = n.left as Node;
    const r = n.right as Node;
    const lc = columnOf(l, alias);
    const rc = columnOf(r, alias);
    if (lc !== undefined && rc === undefined) {
      const lit = literal(r);
      if (lit) await compare(conn, b, lc, n.type, lit);
    } else if (rc !== undefined && lc === undefined) {
      const lit = literal(l);
      if (lit) await compare(conn, b, rc, FLIP[n.type], lit);
    }
    return;
  }
  if (n.class === 'BETWEEN' && n.type === 'COMPARE_BETWEEN') {
    const c = columnOf(n.input as Node, alias);
    const lo = literal(n.lower as Node);
    const hi = literal(n.upper as Node);
    if (c !== undefined && c !== 'site' && lo && hi) {
      await compare(conn, b, c, 'COMPARE_GREATERTHANOREQUALTO', lo);
      await compare(conn, b, c, 'COMPARE_LESSTHANOREQUALTO', hi);
    }
    return;
  }
  if (n.class === 'OPERATOR' && n.type === 'COMPARE_IN') {
    const [first, ...rest] = n.children as Node[];
    if (columnOf(first, alias) !== 'site') return;
    const lits = rest.map(literal);
    if (lits.length === 0 || lits.some((x) => !x || x.cast)) return;
    const values = lits.map((x) => x!.text);
    narrowSites(b, values);
    b.used.push(`site IN (${values.map(sqlString).join(', ')})`);
  }
}

/** Flattens nested ANDs: `a AND (b AND c)` is three conjuncts. */
function conjuncts(n: Node, out: Node[]): Node[] {
  if (n.class === 'CONJUNCTION' && n.type === 'CONJUNCTION_AND') for (const c of n.children as Node[]) conjuncts(c, out);
  else out.push(n);
  return out;
}

/**
 * Reads the partitions a query over the `readings` view can touch (see the module comment for
 * exactly which predicates count).
 *
 * @example
 * import { pruneFromSql } from 'millwright';
 * const p = await pruneFromSql("SELECT avg(value) FROM readings WHERE site = 'north' AND ts >= '2024-03-01' AND ts < '2024-03-03'");
 * // p.sites = ['north'], p.fromDay = 19783 (2024-03-01), p.toDay = 19784 (2024-03-02)
 */
export async function pruneFromSql(query: string): Promise<SqlPruning> {
  return withConnection(async (conn) => {
    let tree: Tree;
    try {
      const r = await conn.runAndReadAll('SELECT json_serialize_sql(?::VARCHAR)', [query]);
      tree = JSON.parse(String(r.getRows()[0][0])) as Tree;
    } catch (err) {
      return { note: `no pruning from the query (it could not be parsed: ${(err as Error).message})` };
    }
    const shape = prunableSelect(tree);
    if (typeof shape === 'string') return { note: `no pruning from the query (${shape})` };
    const { where, alias } = shape;
    const b: Bounds = { used: [] };
    for (const c of conjuncts(where, [])) await conjunct(conn, b, c, alias);
    if (b.used.length === 0) return { note: 'no pruning from the query (no top-level AND-ed predicate on site, date or ts with a literal)' };
    const sites = b.sites ? [...b.sites].sort() : undefined;
    const days = b.fromDay === undefined && b.toDay === undefined ? 'any date' : `dates ${b.fromDay === undefined ? '…' : dateOfDay(b.fromDay)} to ${b.toDay === undefined ? '…' : dateOfDay(b.toDay)}`;
    const note = `pruning from the query: ${sites ? `sites ${sites.length ? sites.join(', ') : '(none)'}` : 'any site'}, ${days} (from ${b.used.join(' AND ')})`;
    return { sites, fromDay: b.fromDay, toDay: b.toDay, note };
  });
}

type Tree = { error: boolean; error_message?: string; statements?: { node: Node }[] };

/** The WHERE clause and table alias of a single SELECT over `readings` alone, or why the query is not one. */
function prunableSelect(tree: Tree): { where: Node; alias: string } | string {
  if (tree.error || !tree.statements) return tree.error_message ?? 'not a SELECT';
  if (tree.statements.length !== 1) return 'more than one statement';
  const node = tree.statements[0].node;
  if (node.type !== 'SELECT_NODE') return `${String(node.type)}: only a single SELECT is read`;
  if (((node.cte_map as { map?: unknown[] }).map ?? []).length > 0) return 'it has a WITH clause';
  const from = node.from_table as Node;
  if (from.type !== 'BASE_TABLE' || String(from.table_name).toLowerCase() !== 'readings' || from.schema_name !== '' || from.catalog_name !== '') {
    return 'its FROM is not the readings view alone';
  }
  const rel: string[] = [];
  relations(node, rel);
  if (rel.length !== 1) return `it also has ${rel.filter((r) => r !== 'BASE_TABLE').join(', ') || 'another table'}`;
  if (!node.where_clause) return 'no WHERE clause';
  return { where: node.where_clause as Node, alias: String(from.alias ?? '').toLowerCase() };
}
