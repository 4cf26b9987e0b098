import { DataType, StatusCodes, VariantArrayType, type DataValue, type StatusCode } from 'node-opcua-client';
import { QUALITY, type QualityCode } from '../source.ts';

/** Bad codes that say the link to the value failed rather than the value itself. */
const COMM_FAILURES = new Set<number>([
  StatusCodes.BadCommunicationError.value,
  StatusCodes.BadNoCommunication.value,
  StatusCodes.BadNotConnected.value,
  StatusCodes.BadServerNotConnected.value,
  StatusCodes.BadConnectionClosed.value,
  StatusCodes.BadTimeout.value,
  StatusCodes.BadSecureChannelClosed.value,
]);

/**
 * The quality of an OPC UA status code, by its severity bits (Good / Uncertain / Bad), with the
 * Bad codes that mean a lost link as `commFailure` and BadOutOfRange as `outOfRange`.
 */
export function qualityOf(status: StatusCode): QualityCode {
  const severity = (status.value >>> 30) & 3;
  if (severity === 0) return QUALITY.good;
  if (severity === 1) return QUALITY.uncertain;
  const code = (status.value & 0xffff0000) >>> 0;
  if (COMM_FAILURES.has(code)) return QUALITY.commFailure;
  if (code === StatusCodes.BadOutOfRange.value) return QUALITY.outOfRange;
  return QUALITY.bad;
}

/** Epoch ms of a value: the device's source time stamp, else the server's, else `receivedAt`. */
export function timestampOf(dataValue: DataValue, receivedAt: number): number {
  const source = dataValue.sourceTimestamp?.getTime();
  if (source !== undefined && source > 0) return source;
  const server = dataValue.serverTimestamp?.getTime();
  if (server !== undefined && server > 0) return server;
  return receivedAt;
}

/**
 * The number a scalar variant holds (booleans as 0/1, 64-bit integers from node-opcua's
 * [high, low] pair), or a reason it is not one (a string, an array, a structure).
 */
export function numberOf(dataValue: DataValue): number | string {
  const variant = dataValue.value;
  if (variant.arrayType !== VariantArrayType.Scalar) return `an array (${DataType[variant.dataType]}), not a scalar`;
  const v: unknown = variant.value;
  switch (variant.dataType) {
    case DataType.Boolean: return v ? 1 : 0;
    case DataType.Int64:
    case DataType.UInt64: {
      if (!Array.isArray(v) || v.length !== 2) return `a malformed ${DataType[variant.dataType]}`;
      const big = (BigInt(Number(v[0]) >>> 0) << 32n) | BigInt(Number(v[1]) >>> 0);
      return Number(variant.dataType === DataType.Int64 ? BigInt.asIntN(64, big) : big);
    }
    case DataType.SByte: case DataType.Byte: case DataType.Int16: case DataType.UInt16:
    case DataType.Int32: case DataType.UInt32: case DataType.Float: case DataType.Double:
      return typeof v === 'number' ? v : `a ${DataType[variant.dataType]} without a number`;
    case DataType.Null: return 'no value (Null)';
    default: return `a ${DataType[variant.dataType]}, not a number`;
  }
}
