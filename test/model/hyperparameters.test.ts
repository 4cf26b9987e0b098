import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHyperparameters } from '../../lib/model/index.ts';
import { isErrorCode } from '../../lib/errors/index.ts';
import type { HyperparameterSchema } from '../../lib/model/index.ts';

const schema: HyperparameterSchema = {
  trees: { type: 'integer', description: 'number of trees', min: 1, max: 1000, default: 100 },
  learning_rate: { type: 'number', description: 'step', min: 0, max: 1, default: 0.1 },
  bootstrap: { type: 'boolean', description: 'sample with replacement', default: true },
  criterion: { type: 'string', description: 'split criterion', enum: ['mse', 'mae'], default: 'mse' },
  target: { type: 'string', description: 'column to predict', required: true },
  columns: { type: 'json', description: 'feature list', default: [] },
};

test('strings from hyperparameters.json are parsed to their declared types, defaults applied', () => {
  const hp = parseHyperparameters(schema, { trees: '250', learning_rate: ' 0.05 ', bootstrap: 'false', target: 'kwh', columns: '["a","b"]' });
  assert.deepEqual(hp, { trees: 250, learning_rate: 0.05, bootstrap: false, criterion: 'mse', target: 'kwh', columns: ['a', 'b'] });
  // Already-typed values (programmatic callers) are accepted as they are.
  assert.equal(parseHyperparameters(schema, { trees: 7, target: 'y' }).trees, 7);
  // Defaults are copies: mutating one run's value cannot leak into the schema.
  const a = parseHyperparameters(schema, { target: 'y' });
  (a.columns as string[]).push('x');
  assert.deepEqual(parseHyperparameters(schema, { target: 'y' }).columns, []);
});

function rejects(raw: Record<string, unknown>, pattern: RegExp) {
  assert.throws(
    () => parseHyperparameters(schema, raw),
    (err: unknown) => isErrorCode(err, 'BAD_INPUT') && pattern.test((err as Error).message),
  );
}

test('bad values name the key, the value and what was expected', () => {
  rejects({ target: 'y', trees: 'many' }, /"trees": got "many", expected an integer between 1 and 1000/);
  rejects({ target: 'y', trees: '2.5' }, /"trees": got "2.5", expected an integer/);
  rejects({ target: 'y', trees: '0' }, /"trees": got "0"/);
  rejects({ target: 'y', learning_rate: '1.5' }, /"learning_rate": got "1.5", expected a number between 0 and 1/);
  rejects({ target: 'y', learning_rate: '' }, /"learning_rate": got ""/);
  rejects({ target: 'y', learning_rate: 'NaN' }, /"learning_rate"/);
  rejects({ target: 'y', bootstrap: 'yes' }, /"bootstrap": got "yes", expected a boolean/);
  rejects({ target: 'y', criterion: 'gini' }, /"criterion": got "gini", expected a string one of "mse", "mae"/);
  rejects({ target: 'y', columns: '[a' }, /"columns": got "\[a", expected a JSON value/);
  rejects({}, /"target" is required/);
  rejects({ target: 'y', tress: '10' }, /unknown hyperparameter "tress" \(this package accepts: trees, learning_rate/);
});

test('every problem is reported at once', () => {
  try {
    parseHyperparameters(schema, { trees: 'x', bootstrap: 'maybe' });
    assert.fail('expected an error');
  } catch (err) {
    const msg = (err as Error).message;
    assert.match(msg, /"trees"/);
    assert.match(msg, /"bootstrap"/);
    assert.match(msg, /"target" is required/);
  }
});
