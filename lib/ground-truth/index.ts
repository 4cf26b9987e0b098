/**
 * Ground truth that arrives late: labels in SageMaker's ground-truth merge layout (or CSV keyed by
 * inference id, lot or asset + time), parsed and stored durably in arrival order, for the reports
 * to merge with the data capture.
 *
 * @example
 * import { parseGroundTruth, appendGroundTruth } from 'millwright';
 * await appendGroundTruth('/var/lib/millwright/ground-truth/press', parseGroundTruth('inference_id,label\na1,12.5\n'));
 *
 * @packageDocumentation
 */
export { parseGroundTruth, groundTruthValues, type GroundTruthRecord } from './record.ts';
export { appendGroundTruth, readGroundTruth, type StoredGroundTruth } from './store.ts';
export { watchGroundTruthFolder, GROUND_TRUTH_HASHES, type GroundTruthFolderOptions, type GroundTruthFolderPass } from './folder.ts';
