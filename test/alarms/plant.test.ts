import assert from 'node:assert/strict';
import test from 'node:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { stringify } from 'yaml';
import { loadAlarmRules, runAlarms } from '../../lib/alarms/index.ts';
import { assetRows, loadAssetModel, parseGatewayConfig, startGateway, type Source, type SourceType } from '../../lib/gateway/index.ts';
import { scanTable, sql, type EventRow } from '../../lib/store/index.ts';
import { DAY, plantFixture, plantRules, type PlantFixture } from './plant-fixture.ts';

const H = 3_600_000;
let fx: PlantFixture;
let rulesFile: string;

test.before(async () => {
  fx = await plantFixture(21, 3);
  rulesFile = join(fx.dir, 'rules.yaml');
  await writeFile(rulesFile, stringify(plantRules(fx)));
});
test.after(() => fx?.cleanup());

const loadAssets = async (p: string) => assetRows(await loadAssetModel(p), 'sorting-centre-1');
const raised = (rows: EventRow[]) => rows.filter((r) => r.kind === 'alarm' && JSON.parse(r.message!).state === 'unack-active');

test('synthetic plant, 21 days: threshold bands fire before the failure, stuck rule on the planted stuck sensor, healthy assets silent', async () => {
  const rules = await loadAlarmRules(rulesFile, { loadAssets });
  const r = await runAlarms(rules, { store: fx.store });
  assert.equal(r.readings, fx.truth.readings);
  const [failure] = fx.truth.failures;
  assert.ok(failure && fx.truth.failures.length === 1);
  const bands = raised(r.rows).filter((x) => x.source === 'bands');
  const onFailed = bands.filter((x) => x.asset === failure.asset);
  assert.ok(onFailed.length >= 3, `bands raised ${onFailed.length} alarms on ${failure.asset}`);
  const first = Math.min(...onFailed.map((x) => x.from!));
  const leadH = (failure.failure - first) / H;
  assert.ok(leadH > 24, `lead time ${leadH.toFixed(1)} h before the failure (measured 54.7 h)`);
  for (const x of onFailed) assert.ok(x.ts >= failure.degradationStart && x.ts <= failure.failure + H, `alarm at ${new Date(x.ts).toISOString()} outside degradation`);
  // healthy machine assets over the same 21 days: not one threshold alarm
  const healthy = bands.filter((x) => x.asset !== failure.asset);
  assert.deepEqual(healthy.map((x) => `${x.asset}/${x.signal}`), []);
  const stuck = raised(r.rows).filter((x) => x.source === 'stuck');
  const planted = fx.truth.faults.filter((f) => f.kind === 'stuck');
  assert.equal(stuck.length, planted.length);
  for (const f of planted) {
    const hit = stuck.find((x) => x.asset === f.asset && f.signals.includes(x.signal!));
    assert.ok(hit, `stuck ${f.asset}/${f.signals.join(',')} not raised`);
    assert.ok(hit.ts > f.start && hit.ts < f.end);
    assert.ok(hit.ts - f.start <= 61 * 60_000, 'raised after 60 unchanged readings');
  }
  // written as rows of the events view
  const { rows } = await sql("SELECT count(*) AS n FROM events WHERE kind = 'alarm'", { root: fx.store });
  assert.equal(Number(rows[0]!.n), r.rows.filter((x) => x.kind === 'alarm').length);
  // these rules read the motors' speed (time-ordered path): scans of 3 days at most give the same rows
  const threeDays = await runAlarms(rules, { store: fx.store, write: false, spanRows: Math.ceil((3 * fx.truth.readings) / 21) });
  assert.deepEqual(threeDays.rows, r.rows);
});

test('the gateway path (alarms: key, batches as they arrive) writes the same alarm rows as alarms run on the same readings', async () => {
  const from = fx.truth.options.from;
  const to = from + 3 * DAY;
  const t = await scanTable({ root: fx.store, from, to, columns: ['ts', 'asset', 'signal', 'value'] });
  const all = (t.orderby('ts', 'asset', 'signal').objects() as { ts: number; asset: string; signal: string; value: number }[]).map((r) => ({ ...r, quality: 0 as const }));
  const replayType: SourceType = {
    type: 'replay',
    schema: z.strictObject({ name: z.string(), type: z.literal('replay') }),
    assets: () => [],
    create: (c: { name: string }): Source => {
      let n = 0;
      return {
        name: c.name, type: 'replay',
        async start(ctx) {
          // hourly batches, as a poll would deliver them
          for (let i = 0; i < all.length; ) {
            const end = all.findIndex((r, k) => k > i && r.ts >= all[i]!.ts + H);
            const j = end < 0 ? all.length : end;
            await ctx.emit(all.slice(i, j));
            n += j - i;
            i = j;
          }
        },
        async stop() {},
        status: () => ({ name: c.name, type: 'replay', state: 'connected', since: 0, readings: n }),
      };
    },
  };
  const gwStore = join(fx.dir, 'gw-store');
  const config = await parseGatewayConfig(
    { site: 'sorting-centre-1', spool: { dir: 'gw-spool', maxBytes: '512mb', flushEvery: '1h' }, store: 'gw-store', assets: 'assets.yaml', alarms: 'rules.yaml', sources: [{ name: 'replay', type: 'replay' }] },
    fx.dir, 'test gateway config', [replayType],
  );
  const gw = await startGateway(config, { types: [replayType] });
  await gw.stop();
  const { rows } = await sql("SELECT epoch_ms(ts) AS ts, source, asset, signal, epoch_ms(from_ts) AS f, epoch_ms(to_ts) AS t, severity, message FROM events WHERE kind = 'alarm' ORDER BY ts, source, asset, signal, message", { root: gwStore });
  const rules = await loadAlarmRules(rulesFile, { loadAssets });
  const r = await runAlarms(rules, { store: fx.store, from, to, write: false });
  const key = (x: Record<string, unknown>) => `${Number(x.ts)} ${String(x.source)} ${String(x.asset)} ${String(x.signal)} ${String(x.message)}`;
  const viaRun = r.rows.filter((x) => x.kind === 'alarm').map((x) => key({ ...x })).sort();
  const viaGateway = rows.map(key).sort();
  assert.ok(viaRun.length >= 2, `alarm rows in 3 days: ${viaRun.length}`);
  assert.deepEqual(viaGateway, viaRun);
});

test('a rule file naming an unknown asset refuses the gateway config, with the key path', async () => {
  const bad = join(fx.dir, 'bad-rules.yaml');
  await writeFile(bad, stringify({ assets: fx.assetsFile, rules: [{ name: 'x', kind: 'limit', assets: ['line09-motor'], hi: 1 }] }));
  await assert.rejects(
    parseGatewayConfig({ site: 'sorting-centre-1', spool: { dir: 'sp', maxBytes: '1mb' }, store: 'st', alarms: 'bad-rules.yaml', sources: [{ name: 'f', type: 'files', dir: 'in' }] }, fx.dir),
    /alarms: alarm rules .*bad-rules\.yaml has 1 problem:\n.*rules\[0\]\.assets: unknown asset "line09-motor"/s,
  );
});
