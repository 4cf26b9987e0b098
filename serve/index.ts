/**
 * serve: the model server (SageMaker-compatible `/ping` + `/invocations`, MLflow input formats).
 *
 * @example
 * import { startServer } from 'millwright/serve';
 * const srv = await startServer({ modelDir: '/opt/ml/model', port: 8080 });
 *
 * @module millwright/serve
 */
export { invocations, DEFAULT_MAX_BODY_BYTES, type InvocationRequest, type InvocationLimits, type InvocationResult } from './invocations.ts';
export { errorResponse, toMillwrightError, type HttpResult } from './errors.ts';
export { startServer, DEFAULT_PORT, DEFAULT_TIMEOUT_MS, type ServeOptions, type RunningServer, type ModelSource } from './server.ts';
export { CaptureWriter, type CaptureOptions } from './capture-writer.ts';
export { listReports, reportsIndexHtml, type ReportEntry } from './reports-route.ts';
export { healthCheck, probeRow } from './health-check.ts';
export { resolveSettings } from './options.ts';
export { ModelPool, type ModelInfo } from './pool.ts';
export { SERVE_NODE_FLAGS } from './node-flags.ts';
export { httpFunctionalCheck, type HttpCheckOptions } from './functional-check.ts';
export { registrySource } from './registry-source.ts';
export { deploymentSource, DEPLOYMENT_LOADER } from './deployment-source.ts';
export { inferV2, parseInferRequest, tensorsToTable, predictionsToOutputs, modelMetadata, outputMetadata, v2ErrorResponse, PREDICT_OUTPUT, PROBA_OUTPUT, type V2InferRequest, type V2ModelInfo, type V2TensorMetadata, type ParsedInferRequest } from './v2/infer.ts';
export { ModelRepository, parseVersionPolicy, selectVersions, sortVersions, type VersionPolicy, type RepositoryIndexEntry, type RepositoryOptions } from './v2/repository.ts';
export { V2_DATATYPES, MAX_ELEMENTS, checkShape, flattenData, type V2Datatype, type V2Tensor } from './v2/tensor.ts';
export { scanNumericData, ScannedNumbers, type ScannedRequest } from './v2/numeric-data-scan.ts';
export { splitBinaryBody, takeBinaryInputs, decodeBinaryTensor, encodeBinaryTensor, binaryToElements, binaryOutputChoice, HEADER_LENGTH, BINARY_CONTENT_TYPE, ELEMENT_BYTES, type BinaryValues } from './v2/binary.ts';
export { captureInference, type V2Exchange } from './v2/capture.ts';
