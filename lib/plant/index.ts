/**
 * Plant onboarding: one config per plant, made from a common template, read by the retrain,
 * serve and report commands (`--plant NAME`).
 *
 * @packageDocumentation
 */
export { PLANT_TEMPLATES, templateDefaults, type PlantTemplate } from './templates.ts';
export { newPlant, loadPlant, parsePlantConfig, type PlantConfig, type NewPlantOptions } from './config.ts';
export { plantRetrainConfig } from './retrain-config.ts';
