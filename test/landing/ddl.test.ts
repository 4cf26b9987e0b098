/**
 * The table DDL in docs/landing.md (Athena/Glue, Spark, Trino) against the files the store writes:
 * each block's column list is parsed from the doc and every column's type is checked against the
 * schema DuckDB reads from a real store file (DESCRIBE SELECT * FROM read_parquet(...)) and the
 * Hive partition columns of its path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { writeReadings } from '../../lib/store/index.ts';
import { repoRoot } from '../helpers/data.ts';

// Which DuckDB types (as read from the files) each engine's declared type reads correctly.
const COMPATIBLE: Record<string, string[]> = {
  timestamp: ['TIMESTAMP WITH TIME ZONE'],
  'timestamp(3) with time zone': ['TIMESTAMP WITH TIME ZONE'],
  string: ['VARCHAR'],
  varchar: ['VARCHAR'],
  double: ['DOUBLE'],
  // quality is INT32 annotated UINT_8: any signed type of 16 bits or more holds 0-255.
  int: ['UTINYINT'],
  integer: ['UTINYINT'],
  date: ['DATE'],
};

function ddlBlocks(): Map<string, string> {
  const doc = readFileSync(join(repoRoot, 'docs/landing.md'), 'utf8');
  const out = new Map<string, string>();
  for (const m of doc.matchAll(/```sql\n-- (\w+)\n([\s\S]*?)```/g)) out.set(m[1], m[2]);
  return out;
}

/** Columns of a CREATE TABLE: the parenthesised list after the table name, plus PARTITIONED BY (name type, ...). */
function columns(ddl: string): { name: string; type: string }[] {
  const parse = (list: string) =>
    list
      .split(',')
      .map((c) => c.trim())
      .filter((c) => /\s/.test(c))
      .map((c) => {
        const [, name, type] = /^`?(\w+)`?\s+(.+)$/.exec(c)!;
        return { name, type: type.trim().toLowerCase() };
      });
  const body = /CREATE (?:EXTERNAL )?TABLE [\w.]+ \(([\s\S]*?)\n\)/.exec(ddl);
  assert.ok(body, `a CREATE TABLE column list in:\n${ddl}`);
  const cols = parse(body[1]);
  const part = /PARTITIONED BY \(([^)]*)\)/.exec(ddl);
  if (part && /\s\w/.test(part[1].replace(/,\s*/g, ','))) cols.push(...parse(part[1]));
  return cols;
}

test('the Athena, Spark and Trino DDL in docs/landing.md match the column types of the store files', async () => {
  const root = mkdtempSync(join(tmpdir(), 'mw-ddl-'));
  try {
    const w = await writeReadings(root, {
      ts: Float64Array.of(Date.parse('2024-03-01T10:00:00.123Z'), Date.parse('2024-03-01T10:00:10Z')),
      site: ['north', 'north'], asset: ['pump-1', 'pump-1'], signal: ['pressure', 'flow'], value: Float64Array.of(4.5, -1), quality: Uint8Array.of(0, 200),
    });
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const fileTypes = new Map((await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${w.files[0]}', hive_partitioning = false)`)).getRowsJS().map((r) => [String(r[0]), String(r[1])]));
    const hiveTypes = new Map((await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${w.files[0]}', hive_partitioning = true, hive_types = {'site': VARCHAR, 'date': DATE})`)).getRowsJS().map((r) => [String(r[0]), String(r[1])]));
    conn.closeSync();
    assert.deepEqual([...fileTypes.keys()], ['ts', 'asset', 'signal', 'value', 'quality']);
    const blocks = ddlBlocks();
    assert.deepEqual([...blocks.keys()].sort(), ['athena', 'spark', 'trino']);
    for (const [engine, ddl] of blocks) {
      const cols = columns(ddl);
      assert.deepEqual(cols.map((c) => c.name).sort(), ['asset', 'date', 'quality', 'signal', 'site', 'ts', 'value'], `${engine}: every column, partitions included`);
      for (const c of cols) {
        const actual = fileTypes.get(c.name) ?? hiveTypes.get(c.name);
        assert.ok(COMPATIBLE[c.type], `${engine}: unknown declared type ${c.type} for ${c.name}`);
        assert.ok(COMPATIBLE[c.type].includes(actual!), `${engine}: ${c.name} declared ${c.type}, the files hold ${actual}`);
      }
      const partitions = cols.filter((c) => !fileTypes.has(c.name)).map((c) => c.name);
      assert.deepEqual(partitions, ['site', 'date'], `${engine}: site and date come from the path, in that order`);
      assert.match(ddl, /s3a?:\/\/plant-lake\/raw\//, `${engine}: the table reads the landed prefix`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
