/**
 * Edge bundles: a model and its inference code shipped as two signed one-file bundles, deployed
 * independently into an edge folder that switches to a new model/code pair atomically after a
 * health check, keeps the previous pair, and rolls back to it.
 *
 * @example
 * import { buildModelBundle, buildCodeBundle, deployBundle, rollbackDeployment } from 'millwright';
 * import { healthCheck } from 'millwright/serve';
 * await buildModelBundle('/opt/ml/model', 'model.mwb', 'keys/release.key');
 * await buildCodeBundle('./my-model', 'code.mwb', 'keys/release.key');
 * await deployBundle('code.mwb', { to: '/var/lib/millwright/edge', trust: '/etc/millwright/trust', healthCheck });
 * await deployBundle('model.mwb', { to: '/var/lib/millwright/edge', trust: '/etc/millwright/trust', healthCheck });
 * await rollbackDeployment('/var/lib/millwright/edge', { healthCheck });
 *
 * @packageDocumentation
 */
export { openBundle, extractBundle, BUNDLE_MAGIC, type BundleManifest, type BundleMember, type BundleSignature, type OpenedBundle } from './archive.ts';
export { buildModelBundle, buildCodeBundle, type BuiltBundle } from './build.ts';
export {
  deployBundle,
  rollbackDeployment,
  currentDeployment,
  readDeployment,
  deploymentRecordFile,
  verifyReceived,
  pairDirs,
  type DeploymentRecord,
  type DeployedPart,
  type DeployOptions,
  type DeployResult,
  type HealthCheck,
} from './edge.ts';
