import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { connect } from 'mqtt';
import { DataType } from 'node-opcua';
import { MqttWriteBack, OpcuaWriteBack, WriteBack, openPredictSource, runPredictions, type PredictSource, type WriteBackMessage } from '../../lib/predict/index.ts';
import { QUALITY } from '../../lib/gateway/index.ts';
import { MillwrightError } from '../../lib/errors/index.ts';
import { TestOpcuaServer } from '../gateway/helpers/opcua-server.ts';
import { freePort, Mosquitto } from '../helpers/mosquitto.ts';
import { energyFixture, GROUP, HOUR, START } from './helpers/energy-fixture.ts';

const require = createRequire(import.meta.url);
const spB = (require('sparkplug-payload') as { get(ns: string): { decodePayload(b: Uint8Array): { seq?: unknown; metrics?: { name?: string | null; value: unknown; properties?: Record<string, { value: unknown }> }[] } } }).get('spBv1.0');

/** A model whose behaviour the test switches: the real one, throwing, or never answering. */
function switchable(real: PredictSource): PredictSource & { mode: 'ok' | 'throw' | 'hang' } {
  const s = {
    ...real,
    mode: 'ok' as 'ok' | 'throw' | 'hang',
    predict: (table: Parameters<PredictSource['predict']>[0]) =>
      s.mode === 'ok' ? real.predict(table) : s.mode === 'throw' ? Promise.reject(new Error('NaN in forest')) : new Promise<never>(() => undefined),
  };
  return s;
}

test('OPC UA write-back: the model sets the parameter; a failing, hanging or stale model holds the last good value and says so', async (t) => {
  const fx = await energyFixture();
  t.after(fx.cleanup);
  const pki = await mkdtemp(join(tmpdir(), 'millwright-wb-pki-'));
  t.after(() => rm(pki, { recursive: true, force: true }));
  const port = await freePort();
  const server = await TestOpcuaServer.start({ port, pkiDir: join(pki, 'server'), variables: ['Line1.EnergySetpoint', 'Line1.EnergyQuality', 'Line1.Heartbeat'] });
  t.after(() => server.stop());
  const ns = server.namespaceIndex;
  // A String variable for the model version, beside the test server's Doubles.
  const namespace = server.server.engine.addressSpace!.getOwnNamespace();
  const versionVar = namespace.addVariable({ organizedBy: server.server.engine.addressSpace!.rootFolder.objects, browseName: 'Line1.ModelVersion', nodeId: 's=Line1.ModelVersion', dataType: 'String', value: { dataType: DataType.String, value: '' } });
  const read = (id: string) => server.variables.get(id)!.readValue().value.value as number;

  const sink = new OpcuaWriteBack({
    endpoint: `opc.tcp://127.0.0.1:${port}`, pkiDir: join(pki, 'client'),
    nodes: { 'line1/expected': { value: `ns=${ns};s=Line1.EnergySetpoint`, quality: `ns=${ns};s=Line1.EnergyQuality`, heartbeat: `ns=${ns};s=Line1.Heartbeat`, modelVersion: `ns=${ns};s=Line1.ModelVersion` } },
  });
  let clock = START + 20 * 24 * HOUR + 9 * HOUR + 60_000;
  const errors: string[] = [];
  const wb = new WriteBack({ sinks: [sink], maxInputAge: 2 * HOUR, heartbeatMs: 0, now: () => clock, onError: (_s, e) => errors.push(e.message) });
  t.after(() => wb.close());
  const model = switchable(await openPredictSource({ group: GROUP, registry: fx.registry }));
  const run = () => runPredictions({ source: model, store: fx.store, site: 'plant-a', every: '1h', window: '3h', horizon: '1h', once: true, predictTimeoutMs: 300, now: () => clock, onSlot: (r) => wb.updateFromSlot(r, { outputs: ['expected'] }).then(() => undefined) });

  const [good] = await run();
  assert.equal(good!.status, 'done');
  const value = good!.rows.find((r) => r.output === 'expected')!.value!;
  assert.equal(read('Line1.EnergySetpoint'), value);
  assert.equal(read('Line1.EnergyQuality'), QUALITY.good);
  assert.equal(versionVar.readValue().value.value, '1');
  const beat1 = read('Line1.Heartbeat');
  assert.ok(beat1 >= 1);

  model.mode = 'throw';
  clock += HOUR;
  assert.equal((await run())[0]!.status, 'failed');
  assert.equal(read('Line1.EnergySetpoint'), value, 'last good value held');
  assert.equal(read('Line1.EnergyQuality'), QUALITY.uncertain);
  assert.match(wb.current('line1/expected')!.reason!, /NaN in forest/);

  model.mode = 'hang';
  clock += HOUR;
  assert.equal((await run())[0]!.error!.message.includes('did not answer within 300 ms'), true);
  assert.equal(read('Line1.EnergySetpoint'), value);
  assert.equal(read('Line1.EnergyQuality'), QUALITY.uncertain);
  assert.ok(read('Line1.Heartbeat') > beat1, 'the heartbeat moves while the value is held');

  // Back to good: a new value replaces the held one.
  model.mode = 'ok';
  clock += HOUR;
  const [again] = await run();
  const fresh = again!.rows.find((r) => r.output === 'expected')!.value!;
  assert.equal(read('Line1.EnergySetpoint'), fresh);
  assert.equal(read('Line1.EnergyQuality'), QUALITY.good);

  // The input stops arriving: the newest reading is older than maxInputAge -> stale, value held.
  await wb.update([{ name: 'line1/expected', value: 1, modelVersion: '1', inputTime: clock - 3 * HOUR }]);
  assert.equal(read('Line1.EnergySetpoint'), fresh);
  assert.equal(read('Line1.EnergyQuality'), QUALITY.stale);
  assert.deepEqual(errors, []);

  // A node that does not exist is a clear error for the sink, reported and not thrown at the scheduler.
  const badSink = new OpcuaWriteBack({ endpoint: `opc.tcp://127.0.0.1:${port}`, pkiDir: join(pki, 'client'), nodes: { x: { value: `ns=${ns};s=NoSuchNode` } } });
  await assert.rejects(badSink.send([{ name: 'x', value: 1, quality: 0, qualityName: 'good', modelVersion: '1', ts: clock, heartbeat: 1 }]), (e: unknown) => e instanceof MillwrightError && /NoSuchNode/.test(e.message));
  await badSink.close();
  assert.throws(() => new OpcuaWriteBack({ endpoint: 'http://x', pkiDir: pki, nodes: { a: { value: 'ns=1;s=a' } } }), /opc\.tcp/);
});

test('MQTT write-back against mosquitto: retained JSON per tag and Sparkplug B metrics with quality, model version and heartbeat', async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.close());
  const sub = connect(broker.url, { reconnectPeriod: 0 });
  t.after(() => sub.endAsync());
  await new Promise<void>((resolve, reject) => { sub.once('connect', () => resolve()); sub.once('error', reject); });
  const got: { topic: string; payload: Buffer }[] = [];
  sub.on('message', (topic, payload) => got.push({ topic, payload }));
  await sub.subscribeAsync(['spBv1.0/#', 'millwright/#'], { qos: 1 });
  const waitFor = async (pred: () => boolean, what: string) => {
    for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(pred(), `timed out waiting for ${what}`);
  };

  let clock = Date.UTC(2026, 2, 1, 8);
  const json = new MqttWriteBack({ url: broker.url, topic: 'millwright/plant-a' });
  const spark = new MqttWriteBack({ url: broker.url, format: 'sparkplug', groupId: 'plant-a', edgeNode: 'millwright', device: 'line1' });
  const wb = new WriteBack({ sinks: [json, spark], maxInputAge: HOUR, heartbeatMs: 0, now: () => clock });
  t.after(() => wb.close());

  await wb.update([{ name: 'line1/expected', value: 612.5, modelVersion: '3', target: clock + HOUR, inputTime: clock - 60_000 }, { name: 'press1/alarm', value: 'unacknowledged active', modelVersion: 'rules-2' }]);
  await waitFor(() => got.filter((m) => m.topic.startsWith('millwright/')).length >= 2 && got.some((m) => m.topic.includes('DBIRTH')), 'first messages');
  const j = JSON.parse(got.find((m) => m.topic === 'millwright/plant-a/line1/expected')!.payload.toString()) as WriteBackMessage;
  assert.deepEqual([j.value, j.quality, j.qualityName, j.modelVersion, j.target], [612.5, QUALITY.good, 'good', '3', clock + HOUR]);
  const alarm = JSON.parse(got.find((m) => m.topic === 'millwright/plant-a/press1/alarm')!.payload.toString()) as WriteBackMessage;
  assert.equal(alarm.value, 'unacknowledged active');
  const birth = spB.decodePayload(got.find((m) => m.topic === 'spBv1.0/plant-a/DBIRTH/millwright/line1')!.payload);
  const metric = birth.metrics!.find((m) => m.name === 'line1/expected')!;
  assert.equal(metric.value, 612.5);
  assert.equal(metric.properties!.Quality!.value, 192);
  assert.equal(metric.properties!.ModelVersion!.value, '3');
  assert.ok(got.some((m) => m.topic === 'spBv1.0/plant-a/NBIRTH/millwright'));

  // The model fails: value held, quality uncertain (Sparkplug 64), heartbeat advanced.
  clock += HOUR;
  got.length = 0;
  await wb.update([{ name: 'line1/expected', modelVersion: '3', error: new Error('timeout') }]);
  await waitFor(() => got.some((m) => m.topic.endsWith('/line1/expected')) && got.some((m) => m.topic.includes('DDATA')), 'held value');
  const held = JSON.parse(got.find((m) => m.topic.endsWith('/line1/expected'))!.payload.toString()) as WriteBackMessage;
  assert.deepEqual([held.value, held.quality, held.goodAt], [612.5, QUALITY.uncertain, clock - HOUR]);
  assert.ok(held.heartbeat > j.heartbeat);
  const data = spB.decodePayload(got.find((m) => m.topic === 'spBv1.0/plant-a/DDATA/millwright/line1')!.payload);
  assert.deepEqual([data.metrics![0]!.value, data.metrics![0]!.properties!.Quality!.value], [612.5, 64]);

  // A heartbeat re-sends the state with the next counter; a stale input says stale (Sparkplug 500).
  got.length = 0;
  await wb.beat();
  await waitFor(() => got.some((m) => m.topic.endsWith('/line1/expected')), 'heartbeat');
  assert.equal((JSON.parse(got.find((m) => m.topic.endsWith('/line1/expected'))!.payload.toString()) as WriteBackMessage).heartbeat, held.heartbeat + 1);
  got.length = 0;
  await wb.update([{ name: 'line1/expected', value: 700, modelVersion: '3', inputTime: clock - 2 * HOUR }]);
  await waitFor(() => got.some((m) => m.topic.includes('DDATA')), 'stale');
  const stale = spB.decodePayload(got.find((m) => m.topic.includes('DDATA'))!.payload).metrics![0]!;
  assert.deepEqual([stale.value, stale.properties!.Quality!.value], [612.5, 500]);

  // A subscriber that connects later gets the retained JSON state at once.
  const late = connect(broker.url, { reconnectPeriod: 0 });
  t.after(() => late.endAsync());
  const retained: string[] = [];
  late.on('message', (_t, p) => retained.push(p.toString()));
  await new Promise<void>((resolve) => late.once('connect', () => resolve()));
  await late.subscribeAsync('millwright/plant-a/line1/expected');
  await waitFor(() => retained.length > 0, 'retained');
  assert.equal((JSON.parse(retained[0]!) as WriteBackMessage).qualityName, 'stale');
  assert.throws(() => new MqttWriteBack({ url: broker.url, format: 'sparkplug', groupId: 'a/b', edgeNode: 'x' }), /groupId/);
});
