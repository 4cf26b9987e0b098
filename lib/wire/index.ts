/**
 * Request wire formats: CSV, JSON (MLflow shapes) and JSON Lines bodies parsed into typed rows
 * against a model's feature schema, and predictions formatted back. One implementation for the
 * server (`millwright/serve`) and for the reports that read captured traffic (`millwright/reports`).
 *
 * @example
 * import { parseInput } from 'millwright';
 * const { table, rows } = parseInput('1,2\n3,4', 'csv', [{ name: 'a', type: 'number' }, { name: 'b', type: 'number' }]);
 *
 * @packageDocumentation
 */
export { parseInput, inputFormat, baseMediaType, INPUT_TYPES, type InputFormat, type ParsedInput } from './parse-input.ts';
export { formatPredictions, formatNumbers, outputFormat, OUTPUT_CONTENT_TYPE, type OutputFormat } from './format-output.ts';
export { parseCsv, csvCell, type CsvRecord } from './csv.ts';
export { parseNumericCsv, readNumericRecord, readQuotedNumericRecord, type NumericBatch } from './numeric-csv.ts';
export { numericJsonRows } from './numeric-json.ts';
export { parseTensorJson, toTensorData, checkTensorDims, stackTensors, nestedShape, tensorElements, exampleNested, MAX_TENSOR_ELEMENTS } from './tensor-json.ts';
