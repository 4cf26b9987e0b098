import { z } from 'zod';
import { durationField, sourceBase, tagTarget } from '../config-fields.ts';

/**
 * The numeric register types a Modbus tag can decode as.
 *
 * @example
 * import { MODBUS_REGISTER_TYPES } from 'millwright';
 * MODBUS_REGISTER_TYPES.includes('float32'); // true
 */
export const MODBUS_REGISTER_TYPES = ['int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'] as const;
export type ModbusRegisterType = (typeof MODBUS_REGISTER_TYPES)[number];

/** The four Modbus data tables (holding and input registers are 16-bit words, coils and discrete inputs bits). */
export const MODBUS_KINDS = ['holding', 'input', 'coil', 'discrete'] as const;
export type ModbusKind = (typeof MODBUS_KINDS)[number];

/** 16-bit words one value of `type` occupies. */
export function wordsOf(type: ModbusRegisterType | 'boolean'): number {
  switch (type) {
    case 'int32': case 'uint32': case 'float32': return 2;
    case 'float64': return 4;
    default: return 1;
  }
}

const TYPE_MESSAGE = `expected one of ${MODBUS_REGISTER_TYPES.join(', ')}`;

const registerSchema = z
  .object({
    kind: z.enum(MODBUS_KINDS, { error: `expected one of ${MODBUS_KINDS.join(', ')}` }).default('holding'),
    address: z.number({ error: 'expected a register address 0..65535' }).int('expected a register address 0..65535').min(0, 'expected a register address 0..65535').max(65535, 'expected a register address 0..65535'),
    // Checked per kind below, so a bad type on a register says exactly which six are allowed.
    type: z.string().optional(),
    wordOrder: z.enum(['big', 'little'], { error: 'expected big or little' }).default('big'),
    scale: z.number().refine(Number.isFinite, 'expected a finite number').default(1),
    offset: z.number().refine(Number.isFinite, 'expected a finite number').default(0),
    ...tagTarget,
  })
  .strict()
  .superRefine((reg, ctx) => {
    const bit = reg.kind === 'coil' || reg.kind === 'discrete';
    if (bit) {
      if (reg.type !== undefined && reg.type !== 'boolean') ctx.addIssue({ code: 'custom', path: ['type'], message: `a ${reg.kind} is boolean (0/1): omit type or write boolean (got ${JSON.stringify(reg.type)})` });
      return;
    }
    if (reg.type === undefined || !(MODBUS_REGISTER_TYPES as readonly string[]).includes(reg.type)) {
      ctx.addIssue({ code: 'custom', path: ['type'], message: TYPE_MESSAGE });
      return;
    }
    const words = wordsOf(reg.type as ModbusRegisterType);
    if (reg.address + words - 1 > 65535) {
      ctx.addIssue({ code: 'custom', path: ['address'], message: `a ${reg.type} at ${reg.address} needs ${words} registers and runs past 65535` });
    }
  })
  .transform((reg) => ({ ...reg, type: (reg.kind === 'coil' || reg.kind === 'discrete' ? 'boolean' : reg.type) as ModbusRegisterType | 'boolean' }));

/**
 * One `type: modbus` entry of the gateway config (durations parsed to ms, defaults filled in).
 *
 * @example
 * import { modbusSchema } from 'millwright';
 * const pump = modbusSchema.parse({ name: 'pump', type: 'modbus', host: 'pump-plc', poll: '1s',
 *   registers: [{ kind: 'holding', address: 0, type: 'float32', scale: 0.1, asset: 'pump1', signal: 'pressure', unit: 'bar' }] });
 * pump.port; // 502
 */
export const modbusSchema = z
  .object({
    ...sourceBase,
    type: z.literal('modbus'),
    host: z.string().min(1, 'expected a host name or address'),
    port: z.number().int().min(1).max(65535, 'expected a TCP port 1..65535').default(502),
    unitId: z.number().int().min(0).max(255, 'expected a unit id 0..255').default(1),
    poll: durationField.default(1000),
    /** Per-request timeout; defaults to the poll interval, at most 5 s. */
    timeout: durationField.optional(),
    registers: z.array(registerSchema).min(1, 'expected at least one register'),
  })
  .strict();

export type ModbusConfig = z.output<typeof modbusSchema>;
export type ModbusRegister = ModbusConfig['registers'][number];
