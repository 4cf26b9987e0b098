/**
 * The data-capture record format shared by the server that writes it (`millwright/serve`) and the
 * reports that read it back (`millwright/reports`): SageMaker Model Monitor's JSON Lines layout,
 * `<dir>/<endpoint>/<variant>/YYYY/MM/DD/HH/<mm>-<ss>-<mmm>-<uuid>.jsonl`.
 *
 * @example
 * import { captureRecord } from 'millwright';
 * const line = JSON.stringify(captureRecord({ endpoint: 'press', inputContentType: 'text/csv', input: '1,2',
 *   outputContentType: 'application/json', output: '{"predictions":[3]}' }));
 *
 * @packageDocumentation
 */
export { captureRecord, captureBody, pathSegment, inferenceIdOf, INFERENCE_ID_HEADER, type CaptureEvent, type CaptureRecord } from './record.ts';
export { listCaptureFiles, type CaptureFile } from './files.ts';
