import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataType, DataValue, OPCUACertificateManager, StatusCodes, Variant, VariantArrayType } from 'node-opcua';
import { opcuaSchema, opcuaSource, qualityOf, type OpcuaConfig } from '../../lib/gateway/sources/opcua.ts';
import { BAD_OUT_OF_RANGE, COMM_FAILURE_CODES, numberOf, timestampOf } from '../../lib/gateway/sources/opcua-values.ts';
import { QUALITY, type Source } from '../../lib/gateway/source.ts';
import { parseGatewayConfig } from '../../lib/gateway/config.ts';
import { TestContext } from './helpers/context.ts';
import { TestOpcuaServer } from './helpers/opcua-server.ts';
import { freePort, TcpProxy } from '../helpers/tcp-proxy.ts';

const VARS = ['Press1.Temperature', 'Press1.Pressure'];
const root = await mkdtemp(join(tmpdir(), 'mw-opcua-'));
const pkiDir = join(root, 'server-pki');
const cleanups: (() => Promise<void>)[] = [];

after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

const config = (port: number, extra: Partial<Record<string, unknown>> = {}, nodes = VARS.map((v) => `ns=1;s=${v}`)): OpcuaConfig =>
  opcuaSchema.parse({
    name: 'press', type: 'opcua', endpoint: `opc.tcp://127.0.0.1:${port}`, samplingInterval: '50ms',
    tags: nodes.map((node, i) => ({ node, asset: 'press1', signal: ['temperature', 'pressure', 'ghost'][i] ?? `s${i}`, unit: 'degC' })),
    ...extra,
  });

async function startServer(port: number, secure = false): Promise<TestOpcuaServer> {
  const server = await TestOpcuaServer.start({ port, pkiDir, variables: VARS, secure });
  cleanups.push(() => server.stop());
  return server;
}

async function run(cfg: OpcuaConfig, prepare?: (ctx: TestContext) => Promise<void>): Promise<{ source: Source; ctx: TestContext }> {
  const ctx = await TestContext.create();
  await prepare?.(ctx);
  const source = opcuaSource.create(cfg);
  await source.start(ctx);
  cleanups.push(async () => { await source.stop(); await ctx.cleanup(); });
  return { source, ctx };
}

const of = (ctx: TestContext, signal: string) => ctx.readings.filter((r) => r.signal === signal);

test('config: a bad node id, endpoint or security combination is refused with what was expected', () => {
  const bad = opcuaSchema.safeParse({
    name: 'press', type: 'opcua', endpoint: 'http://press:4840',
    security: { mode: 'None', policy: 'Basic256Sha256', certificate: 'c.pem' },
    tags: [{ node: 'ns=2;x=Temp', asset: 'press1', signal: 'temperature' }],
  });
  assert.equal(bad.success, false);
  const issues = bad.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  assert.ok(issues.includes('endpoint: expected an endpoint URL such as opc.tcp://press-plc:4840'), issues.join('\n'));
  assert.ok(issues.some((i) => i.startsWith('tags.0.node: expected an OPC UA node id such as ns=2;s=Press1.Temperature')), issues.join('\n'));
  assert.ok(issues.includes('security.privateKey: expected certificate and privateKey together (the key of that certificate)'), issues.join('\n'));
  assert.ok(issues.includes('security.policy: a policy needs mode Sign or SignAndEncrypt (mode None sends in clear)'), issues.join('\n'));
  const mode = opcuaSchema.safeParse({ name: 'p', type: 'opcua', endpoint: 'opc.tcp://h:4840', security: { mode: 'Encrypt' }, tags: [{ node: 'i=2258', asset: 'a', signal: 's' }] });
  assert.equal(mode.error?.issues[0].message, 'expected one of None, Sign, SignAndEncrypt');
  const ok = opcuaSchema.parse({ name: 'p', type: 'opcua', endpoint: 'opc.tcp://h:4840', tags: [{ node: 'ns=2;s=Press1.Temperature', asset: 'a', signal: 's' }] });
  assert.equal(ok.samplingInterval, 1000);
  assert.equal(ok.security.mode, 'None');
  assert.deepEqual(opcuaSource.assets(ok), ['a']);
});

test('StatusCode severities map to quality codes', () => {
  assert.equal(qualityOf(StatusCodes.Good), QUALITY.good);
  assert.equal(qualityOf(StatusCodes.UncertainLastUsableValue), QUALITY.uncertain);
  assert.equal(qualityOf(StatusCodes.BadSensorFailure), QUALITY.bad);
  assert.equal(qualityOf(StatusCodes.BadNoCommunication), QUALITY.commFailure);
  assert.equal(qualityOf(StatusCodes.BadOutOfRange), QUALITY.outOfRange);
  // The module spells the spec's numbers itself (so it need not load node-opcua): check them.
  assert.equal(BAD_OUT_OF_RANGE, StatusCodes.BadOutOfRange.value);
  for (const [name, value] of Object.entries(COMM_FAILURE_CODES)) assert.equal(value, (StatusCodes as unknown as Record<string, { value: number }>)[name].value, name);
  assert.deepEqual([DataType.Null, DataType.Boolean, DataType.SByte, DataType.Int64, DataType.UInt64, DataType.Double, DataType.String, VariantArrayType.Scalar], [0, 1, 2, 8, 9, 11, 12, 0]);
});

test('variant values become numbers (booleans 0/1, 64-bit integers) or a reason; time stamps fall back source -> server -> receive', () => {
  const dv = (dataType: DataType, value: unknown, arrayType = VariantArrayType.Scalar) => new DataValue({ value: new Variant({ dataType, value, arrayType }) });
  assert.equal(numberOf(dv(DataType.Boolean, true)), 1);
  assert.equal(numberOf(dv(DataType.Int16, -7)), -7);
  assert.equal(numberOf(dv(DataType.Float, 0.5)), 0.5);
  assert.equal(numberOf(dv(DataType.Int64, [0xffffffff, 0xfffffffe])), -2);
  assert.equal(numberOf(dv(DataType.UInt64, [1, 5])), 2 ** 32 + 5);
  assert.equal(numberOf(dv(DataType.String, 'on')), 'a String, not a number');
  assert.equal(numberOf(dv(DataType.Double, [1, 2], VariantArrayType.Array)), 'an array (Double), not a scalar');
  const source = new Date('2026-02-01T00:00:00Z');
  const server = new Date('2026-02-01T00:00:05Z');
  assert.equal(timestampOf(new DataValue({ value: new Variant({ dataType: DataType.Double, value: 1 }), sourceTimestamp: source, serverTimestamp: server }), 9), source.getTime());
  assert.equal(timestampOf(new DataValue({ value: new Variant({ dataType: DataType.Double, value: 1 }), serverTimestamp: server }), 9), server.getTime());
  assert.equal(timestampOf(new DataValue({ value: new Variant({ dataType: DataType.Double, value: 1 }) }), 9), 9);
});

test('node ids: the string forms of OPC UA Part 6 are accepted, others refused', () => {
  const parse = (node: string) => opcuaSchema.safeParse({ name: 'p', type: 'opcua', endpoint: 'opc.tcp://h:4840', tags: [{ node, asset: 'a', signal: 's' }] }).success;
  for (const ok of ['i=2258', 'ns=2;s=Press1.Temperature', 'ns=3;i=1001', 'nsu=urn:plant:press;s=T 1', 'ns=1;g=09087e75-8e5e-499b-954f-f2a9603db28a', 'ns=1;b=M/RbKBsRVkePCePcx24oRA==']) assert.ok(parse(ok), ok);
  for (const bad of ['ns=2;x=T', 'Press1.Temperature', 'ns=a;i=1', 'ns=2;i=12a', 'ns=1;g=not-a-guid', '']) assert.ok(!parse(bad), bad);
});

test('values written on the server arrive with their quality and source time stamps; an unknown node is an error event', async () => {
  const port = await freePort();
  const server = await startServer(port);
  const { source, ctx } = await run(config(port, {}, [...VARS.map((v) => `ns=1;s=${v}`), 'ns=1;s=Press1.Ghost']));
  await ctx.until('connected', () => ctx.eventsOf('connected').length === 1);
  await ctx.until('the unknown node reported', () => ctx.eventsOf('error').length === 1);
  const error = ctx.eventsOf('error')[0];
  assert.equal(error.signal, 'ghost');
  assert.match(error.message ?? '', /node ns=1;s=Press1\.Ghost cannot be monitored: BadNodeIdUnknown/);

  const t1 = new Date('2026-03-01T10:00:00.125Z');
  const t2 = new Date('2026-03-01T10:00:01.250Z');
  const t3 = new Date('2026-03-01T10:00:02.500Z');
  server.set('Press1.Temperature', 81.25, StatusCodes.Good, t1);
  await ctx.until('good value', () => of(ctx, 'temperature').some((r) => r.ts === t1.getTime()));
  server.set('Press1.Temperature', 82.5, StatusCodes.UncertainSensorNotAccurate, t2);
  await ctx.until('uncertain value', () => of(ctx, 'temperature').some((r) => r.ts === t2.getTime()));
  server.set('Press1.Pressure', -1, StatusCodes.BadSensorFailure, t3);
  await ctx.until('bad value', () => of(ctx, 'pressure').some((r) => r.ts === t3.getTime()));

  const byTs = new Map(ctx.readings.map((r) => [r.ts, r]));
  assert.deepEqual(byTs.get(t1.getTime()), { ts: t1.getTime(), asset: 'press1', signal: 'temperature', value: 81.25, quality: QUALITY.good });
  assert.deepEqual(byTs.get(t2.getTime()), { ts: t2.getTime(), asset: 'press1', signal: 'temperature', value: 82.5, quality: QUALITY.uncertain });
  assert.equal(byTs.get(t3.getTime())?.quality, QUALITY.bad);
  assert.equal(of(ctx, 'ghost').length, 0);
  assert.equal(source.status().state, 'connected');
  assert.ok(source.status().readings >= 3);
});

test('server restart: disconnected (commFailure for every tag), connected again, a gap, and values flow again', async () => {
  const port = await freePort();
  let server = await startServer(port);
  const { ctx } = await run(config(port));
  await ctx.until('connected', () => ctx.eventsOf('connected').length === 1);
  server.set('Press1.Temperature', 1, StatusCodes.Good, new Date(Date.UTC(2026, 0, 1, 0, 0, 1)));
  await ctx.until('first value', () => of(ctx, 'temperature').some((r) => r.value === 1));

  const stoppedAt = Date.now();
  await server.stop();
  await ctx.until('disconnected', () => ctx.eventsOf('disconnected').length === 1);
  const failures = ctx.readings.filter((r) => r.quality === QUALITY.commFailure);
  assert.deepEqual(failures.map((r) => r.signal).sort(), ['pressure', 'temperature']);
  assert.ok(failures.every((r) => r.ts >= stoppedAt && Number.isNaN(r.value)));

  server = await startServer(port);
  const restartedAt = Date.now();
  await ctx.until('connected again', () => ctx.eventsOf('connected').length === 2, 30_000);
  const t = new Date(Date.UTC(2026, 0, 1, 0, 0, 9));
  server.set('Press1.Temperature', 2, StatusCodes.Good, t);
  await ctx.until('value after restart', () => of(ctx, 'temperature').some((r) => r.ts === t.getTime() && r.value === 2));
  const gaps = ctx.eventsOf('gap');
  assert.equal(gaps.length, 1);
  assert.ok((gaps[0].from ?? 0) >= stoppedAt && (gaps[0].to ?? 0) >= restartedAt);
  assert.equal(ctx.eventsOf('disconnected').length, 1, 'one disconnected per outage, not one per retry');
  assert.deepEqual(ctx.events.filter((e) => e.kind === 'connected' || e.kind === 'disconnected').map((e) => e.kind), ['connected', 'disconnected', 'connected']);
});

test('network cut through a TCP proxy: disconnected, reconnect once the network is back, values flow again', async () => {
  const port = await freePort();
  const server = await startServer(port);
  const proxy = await TcpProxy.start(port);
  cleanups.push(() => proxy.stop());
  const { ctx } = await run(config(proxy.port));
  await ctx.until('connected', () => ctx.eventsOf('connected').length === 1);
  await proxy.cut();
  await ctx.until('disconnected', () => ctx.eventsOf('disconnected').length === 1);
  const during = new Date(Date.UTC(2026, 0, 2));
  server.set('Press1.Pressure', 5, StatusCodes.Good, during); // changed while cut: lost, covered by the gap
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(ctx.eventsOf('connected').length, 1, 'no connection while cut');
  const restoredAt = Date.now();
  await proxy.restore();
  await ctx.until('reconnected', () => ctx.eventsOf('connected').length === 2, 30_000);
  const after = new Date(Date.UTC(2026, 0, 3));
  server.set('Press1.Pressure', 6, StatusCodes.Good, after);
  await ctx.until('value after the cut', () => of(ctx, 'pressure').some((r) => r.ts === after.getTime() && r.value === 6));
  const gap = ctx.eventsOf('gap');
  assert.equal(gap.length, 1);
  assert.ok((gap[0].from ?? Infinity) <= restoredAt && (gap[0].to ?? 0) >= restoredAt);
  assert.ok(proxy.accepted >= 2);
});

test('a silent cut (connections open, nothing carried) is noticed by the keep-alives: disconnected, then back after the cut', async () => {
  const port = await freePort();
  const server = await startServer(port);
  const proxy = await TcpProxy.start(port);
  cleanups.push(() => proxy.stop());
  const { ctx } = await run(config(proxy.port));
  await ctx.until('connected', () => ctx.eventsOf('connected').length === 1);
  const frozenAt = Date.now();
  proxy.freeze();
  await ctx.until('disconnected after the silent cut', () => ctx.eventsOf('disconnected').length === 1, 45_000);
  assert.ok(Date.now() - frozenAt >= 1000, 'noticed by a timeout, not by a closed socket');
  await proxy.cut(); // the operator "replugs the cable": the proxy forwards again on new connections
  await proxy.restore();
  await ctx.until('reconnected', () => ctx.eventsOf('connected').length === 2, 30_000);
  const t = new Date(Date.UTC(2026, 0, 6));
  server.set('Press1.Temperature', 7, StatusCodes.Good, t);
  await ctx.until('value after the silent cut', () => of(ctx, 'temperature').some((r) => r.ts === t.getTime()));
  assert.equal(ctx.eventsOf('gap').length, 1);
});

test('a full spool pauses publishing; when space returns the interval is a gap and changes flow again', async () => {
  const port = await freePort();
  const server = await startServer(port);
  const { source, ctx } = await run(config(port));
  await ctx.until('connected', () => ctx.eventsOf('connected').length === 1);
  // The subscription's initial values must be taken before the spool fills: one still in the
  // source's buffer would be refused with the rest and rightly start the gap before fullAt.
  await ctx.until('initial values', () => of(ctx, 'temperature').length >= 1 && of(ctx, 'pressure').length >= 1);
  const fullAt = Date.now();
  ctx.fillSpool();
  server.set('Press1.Temperature', 10);
  await ctx.until('a refused emit', () => ctx.refused >= 1);
  await ctx.until('paused', () => ctx.eventsOf('paused').length === 1);
  assert.equal(source.status().state, 'paused');
  // In-flight notifications may still be refused just after the pause; after that, none.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const refusedAtPause = ctx.refused;
  for (let i = 0; i < 5; i++) {
    server.set('Press1.Temperature', 11 + i);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const refused = ctx.refused;
  const freedAt = Date.now();
  ctx.freeSpace();
  await ctx.until('gap', () => ctx.eventsOf('gap').length === 1);
  const gap = ctx.eventsOf('gap')[0];
  assert.ok((gap.from ?? 0) >= fullAt && (gap.from ?? Infinity) <= freedAt && (gap.to ?? 0) >= freedAt, `gap ${gap.from}..${gap.to} should start between ${fullAt} and ${freedAt} and end after ${freedAt}`);
  assert.match(gap.message ?? '', /spool full/);
  assert.ok(refused - refusedAtPause <= 1, `publishing paused: ${refused - refusedAtPause} more emits refused after the pause (${refused} in all)`);
  const t = new Date(Date.UTC(2026, 0, 4));
  server.set('Press1.Temperature', 99, StatusCodes.Good, t);
  await ctx.until('value after the pause', () => of(ctx, 'temperature').some((r) => r.ts === t.getTime()));
  assert.equal(source.status().state, 'connected');
});

test('SignAndEncrypt with certificate files: refused until the server certificate is trusted, then values flow', async () => {
  const port = await freePort();
  const server = await startServer(port, true);
  const certDir = join(root, 'client-cert');
  await mkdir(certDir, { recursive: true });
  const maker = new OPCUACertificateManager({ rootFolder: certDir });
  await maker.initialize();
  const certificate = join(certDir, 'client.pem');
  await maker.createSelfSignedCertificate({ applicationUri: 'urn:millwright:gateway-test', subject: '/CN=millwright-gateway-test', dns: ['localhost'], startDate: new Date(), validity: 30, outputFile: certificate });
  const privateKey = join(certDir, 'own', 'private', 'private_key.pem');
  await maker.dispose();
  const secure = { security: { mode: 'SignAndEncrypt', policy: 'Basic256Sha256', certificate, privateKey } };

  const untrusted = await run(config(port, secure));
  await untrusted.ctx.until('disconnected (server certificate not trusted)', () => untrusted.ctx.eventsOf('disconnected').length === 1, 20_000);
  assert.equal(untrusted.ctx.eventsOf('connected').length, 0);
  assert.match(untrusted.ctx.eventsOf('disconnected')[0].message ?? '', /BadCertificateUntrusted/);
  await untrusted.source.stop();
  // The refused certificate is kept for the operator to inspect and trust.
  const rejected = await readdir(join(untrusted.ctx.stateDir, 'pki', 'rejected'));
  assert.equal(rejected.filter((f) => f.endsWith('.pem')).length, 1);

  // The trusted run goes through the gateway config with the certificate paths relative to the
  // config file's folder (`root`), not to the working directory (the repository here).
  const relative = { security: { mode: 'SignAndEncrypt', policy: 'Basic256Sha256', certificate: 'client-cert/client.pem', privateKey: 'client-cert/own/private/private_key.pem' } };
  const gw = await parseGatewayConfig({ site: 'plant-a', spool: { dir: 'spool', maxBytes: '1mb' }, store: 'store', sources: [{ ...config(port, relative), samplingInterval: '50ms' }] }, root);
  const fromConfig = gw.sources[0] as OpcuaConfig;
  assert.deepEqual([fromConfig.security.certificate, fromConfig.security.privateKey], [certificate, privateKey]);
  assert.notEqual(process.cwd(), root);
  const { ctx } = await run(fromConfig, async (c) => {
    const trusted = join(c.stateDir, 'pki', 'trusted', 'certs');
    await mkdir(trusted, { recursive: true });
    await copyFile(server.server.certificateFile, join(trusted, 'server.pem'));
  });
  await ctx.until('connected', () => ctx.eventsOf('connected').length === 1, 20_000);
  assert.match(ctx.eventsOf('connected')[0].message ?? '', /SignAndEncrypt/);
  const t = new Date(Date.UTC(2026, 0, 5));
  server.set('Press1.Temperature', 42, StatusCodes.Good, t);
  await ctx.until('value over the secure channel', () => of(ctx, 'temperature').some((r) => r.ts === t.getTime() && r.value === 42));
});
