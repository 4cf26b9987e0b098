import { randomUUID } from 'node:crypto';
import { MillwrightError } from '../errors/index.ts';

/** One captured exchange. */
export interface CaptureEvent {
  /** Endpoint/model name: the first directory level. */
  endpoint: string;
  modelVersion?: string;
  inputContentType: string;
  input: Uint8Array | string;
  outputContentType: string;
  output: Uint8Array | string;
  eventId?: string;
  /** The inference id (client's `X-Amzn-SageMaker-Inference-Id`, or generated): the key late labels name. */
  inferenceId?: string;
  inferenceTime?: Date;
}

/** One line of a capture file (SageMaker Model Monitor's data-capture format, plus model fields in eventMetadata). */
export interface CaptureRecord {
  captureData: {
    endpointInput: { observedContentType: string; mode: 'INPUT'; data: string; encoding: 'CSV' | 'JSON' | 'BASE64' };
    endpointOutput: { observedContentType: string; mode: 'OUTPUT'; data: string; encoding: 'CSV' | 'JSON' | 'BASE64' };
  };
  eventMetadata: { eventId: string; inferenceId?: string; inferenceTime: string; modelName?: string; modelVersion?: string };
  eventVersion: '0';
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Formats one capture record. Text bodies are stored as-is with encoding CSV or JSON (as
 * SageMaker does); anything else, or bytes that are not UTF-8, as BASE64.
 */
export function captureRecord(e: CaptureEvent): CaptureRecord {
  const at = e.inferenceTime ?? new Date();
  return {
    captureData: {
      endpointInput: { observedContentType: e.inputContentType, mode: 'INPUT', ...encode(e.input, e.inputContentType) },
      endpointOutput: { observedContentType: e.outputContentType, mode: 'OUTPUT', ...encode(e.output, e.outputContentType) },
    },
    eventMetadata: { eventId: e.eventId ?? randomUUID(), ...(e.inferenceId !== undefined ? { inferenceId: e.inferenceId } : {}), inferenceTime: at.toISOString(), modelName: e.endpoint, modelVersion: e.modelVersion },
    eventVersion: '0',
  };
}

function encode(body: Uint8Array | string, contentType: string): { data: string; encoding: 'CSV' | 'JSON' | 'BASE64' } {
  const base = contentType.split(';')[0]!.trim().toLowerCase();
  const kind = base.includes('csv') ? 'CSV' : base.includes('json') ? 'JSON' : undefined;
  if (kind) {
    try {
      return { data: typeof body === 'string' ? body : decoder.decode(body), encoding: kind };
    } catch {
      // not UTF-8: fall through to BASE64
    }
  }
  return { data: Buffer.from(body).toString('base64'), encoding: 'BASE64' };
}

/** The body of one side of a record as text (BASE64 bodies decoded as UTF-8). */
export function captureBody(side: { data: string; encoding: string }): string {
  return side.encoding === 'BASE64' ? Buffer.from(side.data, 'base64').toString('utf8') : side.data;
}

/** SageMaker's InferenceId rule: 1-64 printable ASCII characters, the first not a space. */
const INFERENCE_ID = /^[\x21-\x7e][\x20-\x7e]{0,63}$/;

/** The request header a client names its inference id in (SageMaker's InvokeEndpoint `InferenceId`). */
export const INFERENCE_ID_HEADER = 'x-amzn-sagemaker-inference-id';

/**
 * The inference id of a request: the client's (checked: 1-64 printable ASCII characters, not
 * starting with a space; BAD_INPUT otherwise, naming the rule), or a new UUID when none is given.
 *
 * @example
 * import { inferenceIdOf } from 'millwright';
 * inferenceIdOf('order-42/line-3'); // => 'order-42/line-3'
 * inferenceIdOf(undefined);         // => a random UUID
 */
export function inferenceIdOf(given: string | string[] | undefined): string {
  if (given === undefined) return randomUUID();
  const v = Array.isArray(given) ? given.join(',') : given;
  if (!INFERENCE_ID.test(v)) {
    throw new MillwrightError('BAD_INPUT', `X-Amzn-SageMaker-Inference-Id must be 1-64 printable ASCII characters, not starting with a space; got ${v.length} characters${v.length <= 80 ? ` ${JSON.stringify(v)}` : ''}`);
  }
  return v;
}

/** Filesystem-safe path segment (model names come from manifests). */
export function pathSegment(s: string): string {
  const clean = s.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return clean === '' ? 'model' : clean.slice(0, 100);
}

