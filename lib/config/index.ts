/**
 * Configuration: every environment variable the toolkit reads (`CONFIG_VARS`, docs/configuration.md),
 * one reader with one rule (an empty value is unset) and the path resolvers built on it.
 *
 * @example
 * import { readEnv, storeRoot } from 'millwright';
 * const root = storeRoot(undefined, process.env); // --store, else MILLWRIGHT_STORE, else ./.millwright/store
 *
 * @packageDocumentation
 */
export { CONFIG_VARS, configurationMarkdown, firstEnv, readEnv, type ConfigVar, type Env } from './variables.ts';
export { dataDir, mlBase, plantsDir, processStartDir, registryDir, servedModelDir, spoolDir, storeRoot } from './paths.ts';
