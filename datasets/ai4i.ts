import { readFileSync } from 'node:fs';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { datasetPath } from './data-dir.ts';
import { parseDelimited } from './parse-delimited.ts';

const COLUMNS: Record<string, string> = {
  UDI: 'udi',
  'Product ID': 'product_id',
  Type: 'type',
  'Air temperature [K]': 'air_temperature_k',
  'Process temperature [K]': 'process_temperature_k',
  'Rotational speed [rpm]': 'rotational_speed_rpm',
  'Torque [Nm]': 'torque_nm',
  'Tool wear [min]': 'tool_wear_min',
  'Machine failure': 'machine_failure',
  TWF: 'twf',
  HDF: 'hdf',
  PWF: 'pwf',
  OSF: 'osf',
  RNF: 'rnf',
};

/**
 * Loads AI4I 2020 (synthetic milling-machine data; 10,000 rows, NOT a time series). Columns
 * renamed to snake_case with units kept in the name: `udi`, `product_id`, `type` (L/M/H),
 * `air_temperature_k`, `process_temperature_k`, `rotational_speed_rpm`, `torque_nm`,
 * `tool_wear_min`, target `machine_failure` and failure modes `twf`, `hdf`, `pwf`, `osf`, `rnf`.
 *
 * @param dir data directory (default `MILLWRIGHT_DATA_DIR`)
 * @example
 * loadAi4i().rollup({ failures: op.sum('machine_failure') }); // 339
 */
export function loadAi4i(dir?: string): ColumnTable {
  const path = datasetPath('ai4i2020', 'ai4i2020.csv', dir);
  const parsed = parseDelimited(readFileSync(path, 'utf8'), {
    names: Object.keys(COLUMNS),
    kinds: { 'Product ID': 'string', Type: 'string' },
    source: path,
  });
  const columns: Record<string, Float64Array | string[]> = {};
  for (const [from, to] of Object.entries(COLUMNS)) columns[to] = parsed.columns[from]!;
  return aq.table(columns);
}
