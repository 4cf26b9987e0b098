import type { RetrainConfig } from '../model/retrain.ts';
import type { PlantConfig } from './config.ts';

/**
 * The retrain config of a plant: one store query that pivots the plant's signals into one column
 * per role (hourly rows), the template's package, window, schedule and hyperparameters; for the
 * energy template the `energy` role is the target and the other roles are its drivers.
 *
 * @example
 * import { plantRetrainConfig, loadPlant } from 'millwright';
 * plantRetrainConfig(await loadPlant('plant-20', { dir: 'plants' })).channels.train; // 'store:SELECT ...'
 */
export function plantRetrainConfig(plant: PlantConfig): RetrainConfig {
  const roles = Object.keys(plant.signals).sort();
  // Signal and site names are validated to need no quoting; quotes are still doubled for safety.
  const q = (s: string) => `'${s.replaceAll("'", "''")}'`;
  const columns = roles.map((r) => `avg(value) FILTER (WHERE signal = ${q(plant.signals[r]!)}) AS ${r}`).join(',\n  ');
  const where = [`site = ${q(plant.site)}`, ...(plant.asset ? [`asset = ${q(plant.asset)}`] : []), `ts >= make_timestamp({from_ms} * 1000)`, `ts < make_timestamp({to_ms} * 1000)`].join(' AND ');
  const query = `SELECT epoch_ms(date_trunc('hour', ts)) AS ts,\n  ${columns}\nFROM readings WHERE ${where} GROUP BY 1 ORDER BY 1`;
  const hyperparameters: Record<string, unknown> = { ...plant.model.hyperparameters };
  if (plant.template === 'energy') {
    hyperparameters.target ??= 'energy';
    hyperparameters.timezone ??= plant.timezone;
    hyperparameters.drivers ??= roles.filter((r) => r !== 'energy');
  } else {
    hyperparameters.signals ??= roles;
  }
  return { package: plant.model.package, channels: { train: `store:${query}` }, window: plant.model.window, schedule: plant.model.schedule, hyperparameters, name: plant.model.group };
}
