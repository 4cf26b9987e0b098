/** The Open Inference Protocol's tensor datatypes, shared by the JSON (tensor.ts) and binary (binary.ts) forms. */

/** The protocol's tensor datatypes (FP16 is accepted as a JSON number in FP16's range). */
export const V2_DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;
export type V2Datatype = (typeof V2_DATATYPES)[number];
