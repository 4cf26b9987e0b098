/**
 * Datasets: the real industrial datasets millwright knows (catalogue + one loader each, plus
 * long-form converters for the store) and a seeded synthetic plant generator.
 *
 * @example
 * import { loadSteel, generatePlant, writePlant } from 'millwright/datasets';
 * const steel = loadSteel('/data/datasets');          // arquero table, ts epoch ms UTC
 * const plant = generatePlant({ seed: 7, days: 7 });  // iterate for ReadingBatch chunks
 *
 * @module millwright/datasets
 */
export { catalogue, getDataset, toReadings, type DatasetInfo, type ColumnInfo } from './catalogue.ts';
export { resolveDataDir, datasetPath, DATA_DIR_ENV } from './data-dir.ts';
export { loadSteel, steelTimestamp, STEEL_UTC_OFFSET_MINUTES, STEEL_HOLIDAYS_2018 } from './steel.ts';
export { loadNab, loadNabWindows, type NabOptions, type NabSeries, type AnomalyWindow } from './nab.ts';
export { loadSkab, SKAB_GROUPS, SKAB_SIGNALS, type SkabGroup, type SkabOptions } from './skab.ts';
export { loadCwru, CWRU_FILES, CWRU_SAMPLE_RATE, type CwruFault, type CwruOptions } from './cwru.ts';
export { loadImsRaw, loadImsFeatures, IMS_SAMPLE_RATE, type ImsOptions } from './ims.ts';
export { loadAi4i } from './ai4i.ts';
export { loadCmapss, CMAPSS_COLUMNS, type CmapssOptions } from './cmapss.ts';
export { tableToReadings, concatBatches, type TableToReadingsOptions } from './table-to-readings.ts';
export { steelToReadings, nabToReadings, skabToReadings, cwruToReadings, imsToReadings, STEEL_SIGNALS, type CwruReadingsOptions } from './to-readings.ts';
export { rmsPeakKurtosis, rmsPeakKurtosisTable } from './window-features.ts';
export { parseZonelessTime } from './zoneless-time.ts';
export { writeTable, tableToCsv, tableToNdjson, tableToParquet, readingsTable, formatOf, type TableFormat } from './write-table.ts';
export { generatePlant, type SyntheticPlant } from './plant/generate-plant.ts';
export { planPlant, plantAssets, signalsOf, PLANT_UNITS } from './plant/plan-plant.ts';
export type { PlantTruth, PlantAsset, MachineKind, Interval, ShiftTruth, RunTruth, WasteTruth, FailureTruth, SensorFaultTruth } from './plant/plan-plant.ts';
export { resolvePlantOptions, parseInterval, type PlantOptions, type PlantFaultOptions, type ResolvedPlantOptions } from './plant/options.ts';
export { writePlant, type WritePlantOptions, type WritePlantResult, type PlantProgress } from './plant/write-plant.ts';
export { truthToJson } from './plant/truth-json.ts';
export { plantEnergyTable } from './plant/plant-energy-table.ts';
export { createRng, type Rng } from './plant/random.ts';
