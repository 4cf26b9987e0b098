/**
 * The templates a plant is onboarded from: everything plant number twenty shares with the first
 * nineteen (the model package, its schedule, the thresholds, where notifications go), so that a
 * new plant is a name, a site and a handful of overrides.
 */

/** The template names. */
export const PLANT_TEMPLATES = ['energy', 'pdm'] as const;
export type PlantTemplate = (typeof PLANT_TEMPLATES)[number];

/** A template's defaults, before the plant's own name, site and overrides are applied. */
export function templateDefaults(template: PlantTemplate): Record<string, unknown> {
  if (template === 'energy') {
    return {
      template,
      timezone: 'UTC',
      // Role -> the store signal that plays it. `energy` is the target; the others are drivers.
      signals: { energy: 'energy_kwh', production: 'production_units', temperature: 'ambient_temp_c' },
      model: { package: 'energy-load-curve', window: '90d', schedule: '0 3 1 */3 *', hyperparameters: { best_quantile: 0.1 } },
      serve: { stage: 'PROD', port: 8080 },
      thresholds: { cvRmsePct: 30, driftShare: 0.5 },
      reports: { every: '1h', granularity: 'day' },
      notifications: [],
    };
  }
  return {
    template,
    timezone: 'UTC',
    signals: { vibration: 'vibration_rms', temperature: 'bearing_temp_c' },
    model: { package: 'threshold', window: '30d', schedule: '0 2 * * 1', hyperparameters: { method: 'sigma', k: 3 } },
    serve: { stage: 'PROD', port: 8080 },
    thresholds: { driftShare: 0.5 },
    reports: { every: '1h', granularity: 'day' },
    notifications: [],
  };
}
