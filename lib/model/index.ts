/**
 * Models: the train/predict contract, the SageMaker-layout training runner, verified
 * artifacts, a file-based registry with approval, and scheduled retraining.
 *
 * @example
 * import { trainPackage, registerModel, approveVersion, getDeployable, loadModel } from 'millwright';
 * const { modelDir } = await trainPackage({ package: 'threshold', base: '/tmp/ml', channels: { train: './data' } });
 * const { record } = await registerModel(modelDir, { group: 'plant-a' });
 * await approveVersion('plant-a', record.version);
 * const model = await loadModel((await getDeployable('plant-a')).dir);
 *
 * @packageDocumentation
 */
export type * from './contract.ts';
export { trainPackage, STORE_CHANNEL_PREFIX, type TrainOptions, type TrainResult } from './train-package.ts';
export { loadModel, prepareInput, type LoadOptions } from './load-model.ts';
export { coerceFeatureValue, CoercionProblem, type FeatureValue, type MissingValues } from './coerce-feature.ts';
export { verifyArtifact, readManifest, validateManifest, checksumDir, sha256File, MANIFEST_FILE } from './artifact.ts';
export { parseHyperparameters, readHyperparametersFile } from './hyperparameters.ts';
export { openChannel, readTableFile, checkTable, CHANNEL_EXTENSIONS } from './channels.ts';
export { readInputDataConfig, readResourceConfig, csvLayoutOf, HEADERLESS_LABEL, type CsvLayout, type InputDataChannel, type ResourceConfig } from './sagemaker-input.ts';
export { resolvePackage, listBuiltinAlgorithms, builtinAlgorithmsDir, type PackageRef, type TrainModule, type PredictModule } from './packages.ts';
export { initModel, type InitModelOptions } from './init-model.ts';
export {
  registerModel,
  approveVersion,
  rejectVersion,
  listGroups,
  listVersions,
  getVersion,
  latestApproved,
  getDeployable,
  compareMetrics,
  resolveRegistry,
  type ApprovalStatus,
  type ModelVersionRecord,
  type RegisteredModel,
  type MetricComparison,
  type RegistryOptions,
} from './registry.ts';
export { STAGES, readStages, stageVersion, getStaged, promoteVersion, rollbackStage, setTestPayloads, getTestPayloads, type Stage, type StageAssignment, type StagesRecord, type PromoteOptions } from './stages.ts';
export { newSigningKey, signModel, loadTrustStore, verifySignedModel, keyIdOf, SIGNATURE_FILE, REVOKED_FILE, type ModelSignature, type TrustStore, type VerifySignedOptions } from './signing.ts';
export { readLineage, type Lineage, type LineageStep, type HashedFile } from './lineage.ts';
export { parseTestPayloads, compareOutputs, type TestPayload, type CheckCase, type FunctionalCheck, type FunctionalCheckResult } from './functional-check.ts';
export { retrainOnce, retrainOnSchedule, readRetrainConfig, nextRun, parseWindow, type RetrainConfig, type RetrainOptions, type RetrainResult } from './retrain.ts';
export { silentLogger } from './logger.ts';
export { summarizeFeatures, summarizeFeature, SUMMARY_QUANTILES, type FeatureSummaryOptions } from './feature-summary.ts';
