import type { DataValue } from 'node-opcua-client';
import { QUALITY, type QualityCode } from '../source.ts';

// Numbers fixed by the OPC UA specification (Part 6 built-in type ids, Part 4/6 status codes),
// spelled here so that this module does not load the OPC UA stack; the tests check them against
// node-opcua's own tables.

/** Built-in data type ids (Part 6, 5.1.2) and the names a reject message uses. */
const TYPE_NAMES = ['Null', 'Boolean', 'SByte', 'Byte', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Int64', 'UInt64', 'Float', 'Double', 'String', 'DateTime', 'Guid', 'ByteString', 'XmlElement', 'NodeId', 'ExpandedNodeId', 'StatusCode', 'QualifiedName', 'LocalizedText', 'ExtensionObject', 'DataValue', 'Variant', 'DiagnosticInfo'];
const TYPE = { Null: 0, Boolean: 1, SByte: 2, Double: 11, Int64: 8, UInt64: 9 } as const;
/** VariantArrayType.Scalar. */
const SCALAR = 0;

/** Status codes (high 16 bits) that say the link to the value failed rather than the value itself. */
export const COMM_FAILURE_CODES: Record<string, number> = {
  BadTimeout: 0x800a0000,
  BadServerNotConnected: 0x800d0000,
  BadCommunicationError: 0x80050000,
  BadNoCommunication: 0x80310000,
  BadSecureChannelClosed: 0x80860000,
  BadNotConnected: 0x808a0000,
  BadConnectionClosed: 0x80ae0000,
};
export const BAD_OUT_OF_RANGE = 0x803c0000;
const COMM_FAILURES = new Set(Object.values(COMM_FAILURE_CODES));

const typeName = (id: number): string => TYPE_NAMES[id] ?? `data type ${id}`;

/**
 * The quality of an OPC UA status code, by its severity bits (Good / Uncertain / Bad), with the
 * Bad codes that mean a lost link as `commFailure` and BadOutOfRange as `outOfRange`.
 */
export function qualityOf(status: { value: number }): QualityCode {
  const severity = (status.value >>> 30) & 3;
  if (severity === 0) return QUALITY.good;
  if (severity === 1) return QUALITY.uncertain;
  const code = (status.value & 0xffff0000) >>> 0;
  if (COMM_FAILURES.has(code)) return QUALITY.commFailure;
  if (code === BAD_OUT_OF_RANGE) return QUALITY.outOfRange;
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
  const type = variant.dataType as number;
  if ((variant.arrayType as number) !== SCALAR) return `an array (${typeName(type)}), not a scalar`;
  const v: unknown = variant.value;
  if (type === TYPE.Boolean) return v ? 1 : 0;
  if (type === TYPE.Int64 || type === TYPE.UInt64) {
    if (!Array.isArray(v) || v.length !== 2) return `a malformed ${typeName(type)}`;
    const big = (BigInt(Number(v[0]) >>> 0) << 32n) | BigInt(Number(v[1]) >>> 0);
    return Number(type === TYPE.Int64 ? BigInt.asIntN(64, big) : big);
  }
  if (type >= TYPE.SByte && type <= TYPE.Double) return typeof v === 'number' ? v : `a ${typeName(type)} without a number`;
  if (type === TYPE.Null) return 'no value (Null)';
  return `a ${typeName(type)}, not a number`;
}
