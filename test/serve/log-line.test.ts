// The server's log line (serve/log-line.ts) is JSON.stringify({ time, ...fields }) byte for byte.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logLine } from '../../serve/log-line.ts';

test('logLine is JSON.stringify({ time: ISO, ...fields }) for every shape of fields', () => {
  const at = Date.UTC(2026, 11, 2, 10, 0, 0, 7);
  const cases: Record<string, unknown>[] = [
    {},
    { level: 'info', msg: 'request', status: 200, ms: 0.125, rows: 1, skipped: undefined, nested: { a: [1, 'x"y'] } },
    { time: 'given', level: 'warn' },
    { msg: 'unicode \u2028 é \n "q"' },
  ];
  for (const fields of cases) {
    assert.equal(logLine(fields, at), JSON.stringify({ time: new Date(at).toISOString(), ...fields }));
    assert.equal(logLine(fields, at + 1), JSON.stringify({ time: new Date(at + 1).toISOString(), ...fields }), 'a new millisecond, a new stamp');
  }
});
