/**
 * millwright: the analyst's library. Store, SQL, resampling, features, plots, the model contract,
 * readings and errors, with types.
 *
 * @example
 * import { scanTable, sql, resample } from 'millwright';
 * const t = await scanTable({ root: '.millwright/store', sites: ['plant-a'], from: '2024-03-01' });
 */
export * from './readings/index.ts';
export * from './errors/index.ts';
export * from './config/index.ts';
export * from './durable/index.ts';
export * from './store/index.ts';
export * from './ingest/index.ts';
export * from './spool/index.ts';
export * from './features/index.ts';
export * from './plot/index.ts';
export * from './model/index.ts';
export * from './algorithms/index.ts';
export * from './wire/index.ts';
export * from './capture/index.ts';
