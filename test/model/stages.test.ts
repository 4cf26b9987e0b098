// Registry stages on real trained forests: DEV -> TEST -> PROD with the functional check served
// over real HTTP (outputs within tolerance, latency), promotion refused for a wrong output shape,
// an out-of-tolerance value and a too-slow answer, PROD gated on approval, rollback to the
// previous stable version while a server that follows the stage keeps answering every request.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { approveVersion, loadModel, promoteVersion, readStages, registerModel, rejectVersion, rollbackStage, setTestPayloads, stageVersion, getVersion, type TestPayload } from '../../lib/model/index.ts';
import { httpFunctionalCheck, startServer } from '../../serve/index.ts';
import { registrySource } from '../../serve/registry-source.ts';
import { isErrorCode } from '../../lib/errors/index.ts';
import * as aq from 'arquero';
import { trainEnergyForest, RF_FEATURES } from '../serve/fixtures/rf-model.ts';
import { csv, invoke, scratch } from '../serve/helpers.ts';
import { runCli } from '../helpers/io.ts';

let dir: string;
let cleanup: () => Promise<void>;
let registry: string;
const group = 'plant-7';
let rows: number[][];
let expectedV1: number[];
before(async () => {
  const s = await scratch('mw-stages-');
  dir = s.dir;
  cleanup = s.cleanup;
  registry = join(dir, 'registry');
  const one = await trainEnergyForest(join(dir, 'ml1'), { trees: 5, maxDepth: 4, rows: 1500, version: 'small' });
  const two = await trainEnergyForest(join(dir, 'ml2'), { trees: 12, maxDepth: 6, rows: 2500, version: 'large' });
  rows = one.data.slice(0, 3).map((r) => r.slice(0, RF_FEATURES.length));
  for (const m of [one, two]) await registerModel(m.modelDir, { group, registry });
  // The expected answers come from loading v1 in-process, the way a model author records them.
  const model = await loadModel((await getVersion(group, 1, { registry })).dir);
  const table = aq.table(Object.fromEntries(RF_FEATURES.map((f, j) => [f, rows.map((r) => r[j]!)])));
  expectedV1 = (await model.predict(table)) as number[];
});
after(async () => cleanup?.());

const payload = (over: Partial<TestPayload> = {}): TestPayload => ({ name: 'three rows', contentType: 'text/csv', body: csv(rows), expected: expectedV1, tolerance: { rel: 1e-9 }, maxLatencyMs: 2000, ...over });

test('promotion: DEV takes any version; TEST runs the functional check over HTTP; PROD needs approval and a passed TEST', async () => {
  await setTestPayloads(group, [payload()], { registry });
  const check = httpFunctionalCheck({ repeats: 3 });
  await promoteVersion(group, 1, { to: 'DEV', registry });
  const { assignment } = await promoteVersion(group, 1, { to: 'TEST', registry, check });
  assert.equal(assignment.check?.passed, true);
  assert.equal(assignment.check?.cases[0]?.passed, true);
  await assert.rejects(promoteVersion(group, 1, { to: 'PROD', registry, check }), (e) => isErrorCode(e, 'CONFLICT') && /needs a manual approval/.test(e.message));
  await approveVersion(group, 1, { registry });
  await promoteVersion(group, 1, { to: 'PROD', registry, check });
  assert.equal(await stageVersion(group, 'PROD', { registry }), 1);
  // v2 answers differently: the recorded payloads (v1's answers) refuse it, and nothing is recorded.
  await assert.rejects(promoteVersion(group, 2, { to: 'TEST', registry, check }), (e) => isErrorCode(e, 'CHECK_FAILED') && /prediction 0: expected .*, got .*\(tolerance/.test(e.message));
  await assert.rejects(promoteVersion(group, 2, { to: 'PROD', registry, check }), (e) => isErrorCode(e, 'CONFLICT'));
  assert.deepEqual((await readStages(group, { registry })).stages.TEST.map((a) => a.version), [1]);
});

test('the functional check refuses a wrong output shape, an out-of-tolerance value and a slow answer', async () => {
  const check = httpFunctionalCheck({ repeats: 2 });
  const cases: [Partial<TestPayload>, RegExp][] = [
    [{ expected: expectedV1.slice(0, 2) }, /expected 2 prediction\(s\), got 3 \(wrong output shape\)/],
    [{ expected: expectedV1.map((v, i) => (i === 1 ? v * 1.01 : v)), tolerance: { rel: 1e-3 } }, /prediction 1: expected/],
    [{ maxLatencyMs: 0.001 }, /exceeds 0.001 ms \(too slow\)/],
  ];
  for (const [over, why] of cases) {
    await setTestPayloads(group, [payload(over)], { registry });
    await assert.rejects(promoteVersion(group, 1, { to: 'TEST', registry, check }), (e) => isErrorCode(e, 'CHECK_FAILED') && why.test(e.message), String(why));
  }
  await assert.rejects(setTestPayloads(group, [{ name: 'x', contentType: 'text/plain', body: '1', expected: [] }], { registry }), (e) => isErrorCode(e, 'BAD_INPUT') && /\[0\]\.contentType: .*\[0\]\.expected/.test(e.message));
  await setTestPayloads(group, [payload()], { registry });
});

test('rollback returns PROD to the previous stable version; a server following PROD swaps with no failed request', async () => {
  const check = httpFunctionalCheck({ repeats: 2 });
  // v2 with payloads recorded from its own answers (a new model, new expectations).
  const model2 = await loadModel((await getVersion(group, 2, { registry })).dir);
  const table = aq.table(Object.fromEntries(RF_FEATURES.map((f, j) => [f, rows.map((r) => r[j]!)])));
  const expectedV2 = (await model2.predict(table)) as number[];
  await setTestPayloads(group, [payload({ expected: expectedV2 })], { registry });
  await promoteVersion(group, 2, { to: 'TEST', registry, check });
  await approveVersion(group, 2, { registry });
  await promoteVersion(group, 2, { to: 'PROD', registry, check });

  const srv = await startServer({ source: registrySource(registry, group, 100, 'PROD'), port: 0, workers: 1, log: () => {} });
  const served = () => srv.model()?.version;
  try {
    assert.equal(served(), 'large');
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const load = (async () => {
      while (!stop) {
        const r = await invoke(srv.url, csv(rows), 'text/csv');
        if (r.status === 200) ok++;
        else failures.push(`${r.status} ${r.text}`);
      }
    })();
    const r = await rollbackStage(group, 'PROD', { registry, note: 'v2 over-predicts the night shift' });
    assert.deepEqual(r, { from: 2, to: 1 });
    for (let i = 0; i < 200 && served() !== 'small'; i++) await new Promise((res) => setTimeout(res, 50));
    await new Promise((res) => setTimeout(res, 300));
    stop = true;
    await load;
    assert.equal(served(), 'small', 'the server follows PROD back to v1');
    assert.deepEqual(failures, [], 'no failed request during the swap');
    assert.ok(ok > 10, `requests answered during the swap: ${ok}`);
    const back = await invoke(srv.url, csv(rows), 'text/csv', 'application/json');
    assert.deepEqual((JSON.parse(back.text) as { predictions: number[] }).predictions, expectedV1);
  } finally {
    await srv.close();
  }
  // Once v2 is rejected nothing earlier than v1 is left to roll back to.
  await rejectVersion(group, 2, { registry });
  await assert.rejects(rollbackStage(group, 'PROD', { registry }), (e) => isErrorCode(e, 'CONFLICT') && /no earlier stable version/.test(e.message));
  assert.deepEqual((await readStages(group, { registry })).stages.PROD.map((a) => `${a.kind}:${a.version}`), ['promote:1', 'promote:2', 'rollback:1']);
});

test('millwright registry stages, rollback usage, board', async () => {
  const env = { MILLWRIGHT_REGISTRY: registry };
  const st = await runCli(['registry', 'stages', group], dir, env);
  assert.equal(st.code, 0, st.err);
  assert.match(st.out, /PROD v1 {2}\(history: v1 v2 rollback->v1\)/);
  const bad = await runCli(['registry', 'rollback', group], dir, env);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /rollback needs --stage DEV\|TEST\|PROD/);
  const unknown = await runCli(['registry', 'promote', group, '1', '--to', 'QA'], dir, env);
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /unknown stage "QA": expected one of DEV, TEST, PROD/);
  const board = await runCli(['registry', 'board', '--out', 'board.html'], dir, env);
  assert.equal(board.code, 0, board.err);
  const html = await readFile(join(dir, 'board.html'), 'utf8');
  assert.match(html, /<b>plant-7<\/b><\/td><td>v1<\/td><td>v2<\/td><td>v1<\/td>/);
});
