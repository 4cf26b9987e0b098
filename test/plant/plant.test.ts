// Onboarding plants from a template: twenty plants with per-plant overrides, each config valid
// and read back by the commands; bad configs refused with the key that is wrong; one plant
// retrained end to end from its config on store data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/io.ts';
import { loadPlant, plantRetrainConfig, listVersions, readLineage } from '../../lib/index.ts';
import { sql, writeReadings } from '../../lib/store/index.ts';
import { isErrorCode } from '../../lib/errors/index.ts';

let dir: string;
const ZONES = ['Europe/Lisbon', 'Europe/Berlin', 'America/Chicago', 'Asia/Seoul'];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mw-plants-'));
});
after(async () => rm(dir, { recursive: true, force: true }));

const cli = (args: string[]) => runCli(args, dir, { MILLWRIGHT_PLANTS: join(dir, 'plants'), MILLWRIGHT_REGISTRY: join(dir, 'registry'), MILLWRIGHT_STORE: join(dir, 'store') });

test('twenty plants onboarded from one template, each with its own overrides', async () => {
  for (let i = 1; i <= 20; i++) {
    const name = `plant-${String(i).padStart(2, '0')}`;
    const sets = ['--set', `timezone=${ZONES[i % 4]}`, '--set', `signals.energy=kwh_meter_${i}`];
    if (i % 5 === 0) sets.push('--set', 'signals.production=tonnes', '--set', 'serve.stage=TEST', '--set', `notifications=[{type: email, to: ops-${i}@plant.example}]`);
    const r = await cli(['plant', 'new', name, '--template', 'energy', '--site', `site-${i}`, ...sets]);
    assert.equal(r.code, 0, r.err);
  }
  const list = await cli(['plant', 'list']);
  assert.equal(list.out.trim().split('\n').length, 20);
  for (let i = 1; i <= 20; i++) {
    const p = await loadPlant(`plant-${String(i).padStart(2, '0')}`, { dir: join(dir, 'plants') });
    assert.equal(p.site, `site-${i}`);
    assert.equal(p.timezone, ZONES[i % 4]);
    assert.equal(p.signals.energy, `kwh_meter_${i}`);
    assert.equal(p.signals.temperature, 'ambient_temp_c', 'the template default stays');
    assert.equal(p.model.group, p.name);
    assert.equal(p.serve.stage, i % 5 === 0 ? 'TEST' : 'PROD');
    assert.deepEqual(p.notifications, i % 5 === 0 ? [{ type: 'email', to: `ops-${i}@plant.example` }] : []);
    const rc = plantRetrainConfig(p);
    assert.match(rc.channels.train!, new RegExp(`signal = 'kwh_meter_${i}'\\) AS energy`));
    assert.match(rc.channels.train!, new RegExp(`site = 'site-${i}'`));
    assert.equal((rc.hyperparameters as { timezone: string }).timezone, ZONES[i % 4]);
    assert.deepEqual((rc.hyperparameters as { drivers: string[] }).drivers, ['production', 'temperature']);
  }
  const again = await cli(['plant', 'new', 'plant-01', '--template', 'energy']);
  assert.equal(again.code, 1);
  assert.match(again.err, /plant plant-01 already exists/);
});

test('bad plant configs: the wrong key and what was expected', async () => {
  const cases: [string[], RegExp][] = [
    [['--template', 'chemistry'], /unknown template "chemistry": expected one of energy, pdm/],
    [['--template', 'energy', '--set', 'timezone=Mars/Olympus'], /timezone: expected an IANA time zone such as Europe\/Berlin/],
    [['--template', 'energy', '--set', 'model.window=soon'], /model\.window: expected a duration such as 1h, 90d/],
    [['--template', 'energy', '--set', "signals.energy=kwh'; DROP TABLE readings"], /signals\.energy: expected a signal name/],
    [['--template', 'energy', '--set', 'serve.stage=QA'], /serve\.stage: Invalid option: expected one of "DEV"\|"TEST"\|"PROD"/],
    [['--template', 'energy', '--set', 'colour=blue'], /Unrecognized key: "colour"/],
    [['--template', 'energy', '--set', 'notifications=[{type: pager, to: x}]'], /notifications\[0\]\.type/],
  ];
  for (const [args, why] of cases) {
    const r = await cli(['plant', 'new', 'bad-plant', ...args]);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.out}`);
    assert.match(r.err, why);
  }
  await assert.rejects(loadPlant('bad-plant', { dir: join(dir, 'plants') }), (e) => isErrorCode(e, 'NOT_FOUND'), 'nothing was written for a refused plant');
  await writeFile(join(dir, 'broken.yaml'), 'name: x\nsite: x\ntemplate: energy\n');
  await assert.rejects(loadPlant(join(dir, 'broken.yaml'), { dir }), (e) => isErrorCode(e, 'BAD_INPUT') && /broken\.yaml: timezone: .*signals: .*model: /.test(e.message));
});

test('retrain --plant: the plant config gives the group, the store query and the package', async () => {
  const r = await cli(['plant', 'new', 'plant-x', '--template', 'energy', '--set', 'model.window=30d', '--set', 'model.hyperparameters.n_estimators=20']);
  assert.equal(r.code, 0, r.err);
  const day0 = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 20 * 86_400_000;
  const ts: number[] = [], signal: string[] = [], value: number[] = [];
  let s = 5;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  for (let h = 0; h < 20 * 24; h++) {
    const units = h % 24 >= 6 && h % 24 < 22 ? 80 + 40 * rand() : 5 * rand();
    const temp = 10 + 6 * Math.sin((h / 24) * 2 * Math.PI);
    for (const [sig, v] of [['production_units', units], ['ambient_temp_c', temp], ['energy_kwh', 40 + 2.5 * units + 1.5 * temp + 4 * rand()]] as const) {
      ts.push(day0 + h * 3_600_000);
      signal.push(sig);
      value.push(v);
    }
  }
  await writeReadings(join(dir, 'store'), { ts: Float64Array.from(ts), site: ts.map(() => 'plant-x'), asset: ts.map(() => 'main-meter'), signal, value: Float64Array.from(value) });
  const trained = await cli(['retrain', '--plant', 'plant-x', '--once']);
  assert.equal(trained.code, 0, trained.err);
  assert.match(trained.out, /registered plant-x version 1 \(PendingManualApproval\)/);
  const [v] = await listVersions('plant-x', { registry: join(dir, 'registry') });
  assert.equal(v!.algorithm, 'energy-load-curve');
  const lineage = await readLineage('plant-x', 1, { registry: join(dir, 'registry') });
  assert.match(JSON.stringify(lineage.steps[0]!.inputs), /signal = 'energy_kwh'/);
  const show = await cli(['plant', 'show', 'plant-x', '--retrain']);
  assert.match(show.out, /package: energy-load-curve/);
  const both = await cli(['retrain', '--plant', 'plant-x', '--group', 'g', '--once']);
  assert.equal(both.code, 2);
  assert.match(both.err, /--plant gives the group and the config/);
  assert.ok((await readFile(join(dir, 'plants', 'plant-x', 'plant.yaml'), 'utf8')).startsWith('# onboarded from the energy template'));
});

test('alarms run --plant: the plant config gives the site and the alarm rule file', async () => {
  const r = await cli(['plant', 'new', 'plant-al', '--template', 'pdm', '--site', 'al-site', '--set', 'alarms=rules.yaml']);
  assert.equal(r.code, 0, r.err);
  await writeFile(join(dir, 'plants', 'plant-al', 'rules.yaml'), 'rules:\n  - { name: hot, kind: limit, signals: bearing_temp_c, hi: 80, severity: warning }\n');
  const t0 = Date.UTC(2026, 10, 2);
  const ts = Array.from({ length: 120 }, (_, i) => t0 + i * 60_000);
  await writeReadings(join(dir, 'store'), { ts: Float64Array.from(ts), site: ts.map(() => 'al-site'), asset: ts.map(() => 'pump-3'), signal: ts.map(() => 'bearing_temp_c'), value: Float64Array.from(ts, (_, i) => (i >= 60 && i < 90 ? 85 : 60)) });
  const run = await cli(['alarms', 'run', '--plant', 'plant-al', '--state', 'alarm-state']);
  assert.equal(run.code, 0, run.err);
  assert.match(run.out, /^al-site /);
  const { rows } = await sql("SELECT asset, message FROM events WHERE kind = 'alarm' AND source = 'hot' ORDER BY ts", { root: join(dir, 'store') });
  assert.ok(rows.length >= 2 && rows.every((x) => x.asset === 'pump-3'), `alarm rows: ${JSON.stringify(rows)}`);
  assert.equal(JSON.parse(String(rows[0]!.message)).state, 'unack-active');
  const none = await cli(['alarms', 'run', '--plant', 'plant-x']);
  assert.equal(none.code, 2);
  assert.match(none.err, /plant plant-x has no "alarms" rule file/);
});
