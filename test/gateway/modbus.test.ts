import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import modbusSerial from 'modbus-serial';
import { modbusSource, modbusSchema, planRequests, type ModbusConfig } from '../../lib/gateway/sources/modbus.ts';
import { QUALITY, type Source } from '../../lib/gateway/source.ts';
import { TestContext } from './helpers/context.ts';
import { startPymodbus, type PymodbusServer, type PymodbusSpec } from '../helpers/pymodbus.ts';
import { createServer, type Socket } from 'node:net';
import { TcpProxy } from '../helpers/tcp-proxy.ts';

type Reg = ModbusConfig['registers'][number];
const reg = (r: Partial<Reg> & { address: number; signal: string }): Record<string, unknown> => ({ asset: 'pump1', ...r });
const config = (port: number, registers: Record<string, unknown>[], extra: Record<string, unknown> = {}): ModbusConfig =>
  modbusSchema.parse({ name: 'pump', type: 'modbus', host: '127.0.0.1', port, unitId: 1, poll: '100ms', timeout: '500ms', registers, ...extra });

/** Every numeric type in both word orders, packed on the Python side, plus scale/offset, bits and an input register. */
const TYPED: NonNullable<PymodbusSpec['typed']> = [
  { table: 'hr', address: 0, type: 'int16', value: -12345 },
  { table: 'hr', address: 1, type: 'uint16', value: 54321 },
  { table: 'hr', address: 2, type: 'int32', wordOrder: 'big', value: -123456789 },
  { table: 'hr', address: 4, type: 'int32', wordOrder: 'little', value: -987654321 },
  { table: 'hr', address: 6, type: 'uint32', wordOrder: 'big', value: 3000000001 },
  { table: 'hr', address: 8, type: 'uint32', wordOrder: 'little', value: 4000000003 },
  { table: 'hr', address: 10, type: 'float32', wordOrder: 'big', value: -1234.5 },
  { table: 'hr', address: 12, type: 'float32', wordOrder: 'little', value: 0.15625 },
  { table: 'hr', address: 14, type: 'float64', wordOrder: 'big', value: Math.PI },
  { table: 'hr', address: 18, type: 'float64', wordOrder: 'little', value: -2.718281828459045e10 },
  { table: 'hr', address: 22, type: 'uint16', value: 1234 },
  { table: 'hr', address: 40, type: 'float32', value: 'nan' },
  { table: 'hr', address: 42, type: 'float64', value: 'inf' },
  { table: 'ir', address: 3, type: 'int32', wordOrder: 'little', value: 77777 },
];
const EXPECTED: Record<string, number> = {
  i16: -12345, u16: 54321, i32b: -123456789, i32l: -987654321, u32b: 3000000001, u32l: 4000000003,
  f32b: -1234.5, f32l: 0.15625, f64b: Math.PI, f64l: -2.718281828459045e10, in32: 77777, coil5: 1, coil6: 0, coil7: 1, di2: 1,
};
const REGISTERS = [
  reg({ address: 0, type: 'int16', signal: 'i16' }),
  reg({ address: 1, type: 'uint16', signal: 'u16' }),
  reg({ address: 2, type: 'int32', wordOrder: 'big', signal: 'i32b' }),
  reg({ address: 4, type: 'int32', wordOrder: 'little', signal: 'i32l' }),
  reg({ address: 6, type: 'uint32', wordOrder: 'big', signal: 'u32b' }),
  reg({ address: 8, type: 'uint32', wordOrder: 'little', signal: 'u32l' }),
  reg({ address: 10, type: 'float32', wordOrder: 'big', signal: 'f32b' }),
  reg({ address: 12, type: 'float32', wordOrder: 'little', signal: 'f32l' }),
  reg({ address: 14, type: 'float64', wordOrder: 'big', signal: 'f64b' }),
  reg({ address: 18, type: 'float64', wordOrder: 'little', signal: 'f64l' }),
  reg({ address: 22, type: 'uint16', scale: 0.1, offset: -5, signal: 'scaled', unit: 'bar' }),
  reg({ kind: 'input', address: 3, type: 'int32', wordOrder: 'little', signal: 'in32' }),
  reg({ kind: 'coil', address: 5, signal: 'coil5' }),
  reg({ kind: 'coil', address: 6, signal: 'coil6' }),
  reg({ kind: 'coil', address: 7, signal: 'coil7' }),
  reg({ kind: 'discrete', address: 2, signal: 'di2' }),
];

let server: PymodbusServer;
const started: { source: Source; ctx: TestContext }[] = [];

before(async () => {
  server = await startPymodbus({ size: 1000, typed: TYPED, co: { 5: [1, 0, 1] }, di: { 2: [1] } });
});

after(async () => {
  for (const { source, ctx } of started) {
    await source.stop();
    await ctx.cleanup();
  }
  await server.stop();
});

async function run(cfg: ModbusConfig): Promise<{ source: Source; ctx: TestContext }> {
  const ctx = await TestContext.create();
  const source = modbusSource.create(cfg);
  await source.start(ctx);
  started.push({ source, ctx });
  return { source, ctx };
}

const latest = (ctx: TestContext, signal: string) => ctx.readings.filter((r) => r.signal === signal).at(-1);

test('config: a bad register type, an address past 65535 and a typed coil are refused with the key and what was expected', () => {
  const bad = modbusSchema.safeParse({
    name: 'pump', type: 'modbus', host: 'h',
    registers: [
      { address: 0, type: 'float', asset: 'a', signal: 's' },
      { address: 65534, type: 'float64', asset: 'a', signal: 's' },
      { kind: 'coil', address: 1, type: 'int16', asset: 'a', signal: 's' },
      { address: 70000, type: 'int16', asset: 'a', signal: 's' },
    ],
  });
  assert.equal(bad.success, false);
  const issues = bad.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  assert.ok(issues.includes('registers.0.type: expected one of int16, uint16, int32, uint32, float32, float64'), issues.join('\n'));
  assert.ok(issues.includes('registers.1.address: a float64 at 65534 needs 4 registers and runs past 65535'), issues.join('\n'));
  assert.ok(issues.some((i) => i.startsWith('registers.2.type: a coil is boolean')), issues.join('\n'));
  assert.ok(issues.includes('registers.3.address: expected a register address 0..65535'), issues.join('\n'));
  const ok = modbusSchema.parse({ name: 'pump', type: 'modbus', host: 'h', registers: [{ address: 65532, type: 'float64', asset: 'a', signal: 's' }] });
  assert.equal(ok.port, 502);
  assert.equal(ok.poll, 1000);
  assert.deepEqual(modbusSource.assets(ok), ['a']);
});

test('every type and word order decodes to the value pymodbus holds; a second client writing a register is seen', async () => {
  const { source, ctx } = await run(config(server.port, REGISTERS));
  await ctx.until('one full poll', () => REGISTERS.every((r) => latest(ctx, String(r.signal)) !== undefined));
  for (const [signal, value] of Object.entries(EXPECTED)) {
    const r = latest(ctx, signal);
    assert.equal(r?.value, value, signal);
    assert.equal(r?.quality, QUALITY.good, signal);
  }
  assert.ok(Math.abs((latest(ctx, 'scaled')?.value ?? 0) - 118.4) < 1e-9);
  assert.deepEqual(ctx.eventsOf('connected').length, 1);
  const first = ctx.readings[0];
  assert.ok(first.ts <= Date.now() && first.ts > Date.now() - 30_000);

  const writer = new modbusSerial.default();
  await writer.connectTCP('127.0.0.1', { port: server.port });
  writer.setID(1);
  await writer.writeRegisters(0, [0x8000]); // int16 -32768
  writer.close(() => undefined);
  await ctx.until('the written value', () => latest(ctx, 'i16')?.value === -32768);
  assert.ok(source.status().readings >= REGISTERS.length);
  assert.equal(source.status().state, 'connected');
  await source.stop();
});

test('an illegal address is bad quality with an event naming the exception; its neighbours stay good; NaN/Inf are rejects', async () => {
  const { ctx } = await run(config(server.port, [
    reg({ address: 998, type: 'uint16', signal: 'edge' }),
    reg({ address: 999, type: 'int32', signal: 'past_end' }), // 999..1000: the block ends at 999
    reg({ address: 40, type: 'float32', signal: 'nan' }),
    reg({ address: 42, type: 'float64', signal: 'inf' }),
  ]));
  await ctx.until('three polls', () => ctx.readings.filter((r) => r.signal === 'edge').length >= 3);
  assert.equal(latest(ctx, 'edge')?.quality, QUALITY.good);
  const bad = ctx.readings.filter((r) => r.signal === 'past_end');
  assert.ok(bad.length >= 3);
  assert.ok(bad.every((r) => r.quality === QUALITY.bad && Number.isNaN(r.value)));
  const errors = ctx.eventsOf('error');
  assert.equal(errors.length, 1, 'one event per run of the same exception, not one per poll');
  assert.equal(errors[0].signal, 'past_end');
  assert.match(errors[0].message ?? '', /holding 999: Modbus exception 2: Illegal data address/);
  assert.equal(ctx.readings.filter((r) => r.signal === 'nan' || r.signal === 'inf').length, 0);
  const rejects = ctx.eventsOf('reject');
  assert.deepEqual(rejects.map((e) => e.signal).sort(), ['inf', 'nan']);
  assert.match(rejects.find((e) => e.signal === 'nan')?.message ?? '', /holding 40 \(float32\) holds NaN/);
  assert.match(rejects.find((e) => e.signal === 'inf')?.message ?? '', /holding 42 \(float64\) holds Infinity/);
});

test('a network cut gives commFailure readings, disconnected, then connected and a gap covering the outage', async () => {
  const proxy = await TcpProxy.start(server.port);
  try {
    const { ctx } = await run(config(proxy.port, [reg({ address: 1, type: 'uint16', signal: 'u16' })]));
    await ctx.until('readings through the proxy', () => ctx.readings.length >= 3);
    const cutAt = Date.now();
    await proxy.cut();
    await ctx.until('disconnected', () => ctx.eventsOf('disconnected').length >= 1);
    const failure = ctx.readings.find((r) => r.quality === QUALITY.commFailure);
    assert.ok(failure !== undefined && Number.isNaN(failure.value) && failure.ts >= cutAt - 200);
    const goodBefore = ctx.readings.filter((r) => r.quality === QUALITY.good).length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(ctx.readings.filter((r) => r.quality === QUALITY.good).length, goodBefore, 'nothing read while cut');
    const restoredAt = Date.now();
    await proxy.restore();
    await ctx.until('reconnected', () => ctx.eventsOf('connected').length >= 2, 20_000);
    await ctx.until('readings again', () => ctx.readings.filter((r) => r.quality === QUALITY.good).length > goodBefore + 2);
    const gaps = ctx.eventsOf('gap');
    assert.equal(gaps.length, 1);
    assert.ok((gaps[0].from ?? 0) >= cutAt - 200 && (gaps[0].from ?? Infinity) <= restoredAt);
    assert.ok((gaps[0].to ?? 0) >= restoredAt);
    assert.equal(ctx.eventsOf('disconnected').length, 1, 'one disconnected per outage, not one per retry');
  } finally {
    await proxy.stop();
  }
});

test('a silent cut (connection open, nothing carried) is a poll timeout: commFailure, disconnected, then back', async () => {
  const proxy = await TcpProxy.start(server.port);
  try {
    const { ctx } = await run(config(proxy.port, [reg({ address: 1, type: 'uint16', signal: 'u16' })], { timeout: '300ms' }));
    await ctx.until('readings', () => ctx.readings.length >= 2);
    proxy.freeze();
    await ctx.until('disconnected', () => ctx.eventsOf('disconnected').length === 1);
    assert.match(ctx.eventsOf('disconnected')[0].message ?? '', /Timed out/);
    assert.equal(ctx.readings.at(-1)?.quality, QUALITY.commFailure);
    await proxy.cut();
    await proxy.restore();
    await ctx.until('reconnected', () => ctx.eventsOf('connected').length === 2, 20_000);
    await ctx.until('good readings again', () => ctx.readings.at(-1)?.quality === QUALITY.good);
    assert.equal(ctx.eventsOf('gap').length, 1);
  } finally {
    await proxy.stop();
  }
});

test('a full spool stops polling; when space returns the skipped interval is one gap event and polling resumes', async () => {
  const { source, ctx } = await run(config(server.port, [reg({ address: 1, type: 'uint16', signal: 'u16' })]));
  await ctx.until('readings', () => ctx.readings.length >= 2);
  const fullAt = Date.now();
  ctx.fillSpool();
  await ctx.until('a refused emit', () => ctx.refused >= 1);
  await new Promise((resolve) => setTimeout(resolve, 800)); // 8 poll periods
  assert.equal(ctx.refused, 1, 'no polls while the spool is full');
  assert.equal(source.status().state, 'paused');
  const before = ctx.readings.length;
  const freedAt = Date.now();
  ctx.freeSpace();
  await ctx.until('readings again', () => ctx.readings.length >= before + 2);
  const gap = ctx.eventsOf('gap');
  assert.equal(gap.length, 1);
  assert.ok((gap[0].from ?? 0) >= fullAt && (gap[0].from ?? Infinity) < freedAt);
  assert.ok((gap[0].to ?? 0) >= freedAt);
  assert.match(gap[0].message ?? '', /spool full/);
  assert.deepEqual(ctx.events.filter((e) => e.kind === 'paused' || e.kind === 'resumed').map((e) => e.kind), ['paused', 'resumed']);
  assert.ok(ctx.readings.slice(before).every((r) => r.ts >= freedAt));
});

test('contiguous registers of one table share a read; holes and other tables do not', () => {
  const cfg = config(502, REGISTERS);
  const plan = planRequests(cfg.registers).map((r) => [r.kind, r.start, r.count, r.tags.length]);
  assert.deepEqual(plan, [
    ['coil', 5, 3, 3],
    ['discrete', 2, 1, 1],
    ['holding', 0, 23, 11],
    ['input', 3, 2, 1],
  ]);
});

test('a hung device (accepts TCP, never answers) is one commFailure per tag and one disconnected, not a flapping connection', async () => {
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => { sockets.add(socket); socket.on('data', () => undefined); socket.on('error', () => undefined); });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as { port: number }).port;
  try {
    const { source, ctx } = await run(config(port, [reg({ address: 1, type: 'uint16', signal: 'u16' }), reg({ address: 2, type: 'uint16', signal: 'u16b' })], { timeout: '200ms' }));
    await ctx.until('disconnected', () => ctx.eventsOf('disconnected').length >= 1);
    assert.match(ctx.eventsOf('disconnected')[0].message ?? '', /holding 1\+2: Timed out/);
    await new Promise((resolve) => setTimeout(resolve, 2000)); // several reconnects and timeouts
    assert.equal(ctx.eventsOf('disconnected').length, 1);
    assert.equal(ctx.eventsOf('connected').length, 0, 'TCP accepted is not connected: the device never answered');
    assert.deepEqual(ctx.readings.map((r) => [r.signal, r.quality]), [['u16', QUALITY.commFailure], ['u16b', QUALITY.commFailure]]);
    assert.equal(source.status().state, 'disconnected');
    await source.stop();
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
});
