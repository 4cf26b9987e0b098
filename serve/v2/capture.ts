/**
 * Data capture of Open Inference Protocol requests, in the same layout and record format as
 * `/invocations` (SageMaker's: `<dir>/<model>/<variant>/YYYY/MM/DD/HH/*.jsonl`). The event id is
 * the request's V2 `id` when it has one (so labels can be joined on it), else the request id.
 * A binary-extension request is stored as it came (BASE64), its content type carrying the JSON
 * part's length as an `inference-header-content-length` parameter; so is a binary response.
 */
import type { CaptureWriter } from '../capture-writer.ts';
import type { PoolResult } from '../pool.ts';
import { BINARY_CONTENT_TYPE, HEADER_LENGTH } from './binary.ts';

/** One answered V2 inference, as the HTTP layer has it. */
export interface V2Exchange {
  model: string;
  version: string;
  /** The `X-Request-Id` (given or generated): the event id when the request has no `id`. */
  requestId: string;
  contentType: string | undefined;
  /** `Inference-Header-Content-Length` of a binary request. */
  headerLength?: string;
  body: Uint8Array;
  result: PoolResult;
}

/**
 * Offers the exchange to the capture writer (which samples); true when it was queued.
 *
 * @example
 * import { captureInference } from 'millwright/serve';
 * captureInference(writer, { model: 'press', version: '3', requestId: 'r1', contentType: 'application/json', body, result });
 */
export function captureInference(capture: CaptureWriter, e: V2Exchange): boolean {
  const r = e.result;
  const outputLength = r.headers[HEADER_LENGTH];
  return capture.offer({
    endpoint: e.model,
    modelVersion: e.version,
    eventId: r.inferenceId ?? e.requestId,
    // Late labels are matched on the inference id, as for /invocations' X-Amzn-SageMaker-Inference-Id.
    inferenceId: r.inferenceId ?? e.requestId,
    inputContentType: e.headerLength !== undefined ? `${BINARY_CONTENT_TYPE}; ${HEADER_LENGTH}=${e.headerLength}` : (e.contentType ?? ''),
    input: e.body,
    outputContentType: r.binary ? `${BINARY_CONTENT_TYPE}; ${HEADER_LENGTH}=${outputLength}` : (r.headers['content-type'] ?? 'application/json'),
    output: r.binary ? Buffer.concat([Buffer.from(r.body), r.binary]) : r.body,
  });
}
