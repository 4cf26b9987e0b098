// A downstream project's file: every import is by package name, resolved through package.json
// `exports` to dist/*.d.ts. Type-checked (never run) by test/api/consumer.test.ts.
import { MillwrightError, isErrorCode, learnAlarmBands, summarizeFeatures, type FeatureSummary, type ReadingBatch, type ScanOptions } from 'millwright';
import { startServer, type ServeOptions } from 'millwright/serve';
import { driftReport, type MonitorBaselineOptions, type ReportResult } from 'millwright/reports';
import { generatePlant, rmsPeakKurtosis, type PlantOptions } from 'millwright/datasets';
import * as aq from 'arquero';

const batch: ReadingBatch = { ts: new Float64Array(1), site: ['a'], asset: ['p1'], signal: ['temp'], value: new Float64Array(1) };
const scan: ScanOptions = { root: '.millwright/store', sites: ['plant-a'] };
const summary: FeatureSummary[] = summarizeFeatures(aq.table({ temp: [20, 21] }));
const bands = learnAlarmBands(aq.table({ ts: [0], asset: ['p1'], signal: ['temp'], value: [20] }), { method: 'sigma', k: 3 });
const serve: ServeOptions = { modelDir: '/opt/ml/model', port: 0 };
const monitor: MonitorBaselineOptions = {};
const plant: PlantOptions = { seed: 7 };
const windows: Float64Array = rmsPeakKurtosis(Float64Array.from([1, -1, 1, -1]), 2).kurtosis;
const report: ReportResult = driftReport({ temp: [1, 2] }, { temp: [1, 3] });
const err = new MillwrightError('BAD_INPUT', 'row 3');
const code: 'BAD_INPUT' | false = isErrorCode(err, 'BAD_INPUT') && err.code === 'BAD_INPUT' ? err.code : false;

// @ts-expect-error: the types are real, not `any`: an unknown error code is rejected.
new MillwrightError('NOT_A_CODE', 'x');

export { batch, scan, summary, bands, serve, monitor, plant, windows, report, code, startServer, generatePlant };
