import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadGatewayConfig, parseGatewayConfig, SOURCE_TYPES } from '../../lib/gateway/index.ts';
import type { MillwrightError } from '../../lib/errors/index.ts';
import { isErrorCode } from '../../lib/errors/index.ts';
import { tempDir } from './helpers.ts';

async function issuesOf(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (err) {
    assert.ok(isErrorCode(err, 'BAD_INPUT'), `expected BAD_INPUT, got ${(err as Error).message}`);
    return (err as MillwrightError).details?.issues as string[];
  }
  assert.fail('expected the config to be refused');
}

const base = { site: 'plant-a', spool: { dir: 'spool', maxBytes: '20gb' }, store: 'store' };
const wp = { name: 'plc7', type: 'window-poll', host: 'oven-plc', port: 7000, window: '10m', poll: '4m', tags: [{ id: 3, asset: 'oven1', signal: 'temperature' }] };


test('a valid YAML config: defaults, sizes and durations parsed, relative paths against the file folder', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const file = join(dir, 'gateway.yaml');
    await writeFile(file, `site: plant-a
spool: { dir: spool, maxBytes: 20gb }
store: /var/lib/millwright/store
http: { port: 9100 }
forward: { s3: { endpoint: "http://127.0.0.1:8080", bucket: raw, prefix: plant-a/ } }
sources:
  - { name: plc7, type: window-poll, host: oven-plc, port: 7000, window: 10m, poll: 4m,
      tags: [ { id: 3, asset: oven1, signal: temperature } ] }
`);
    const c = await loadGatewayConfig(file);
    assert.equal(c.spool.dir, join(dir, 'spool'));
    assert.equal(c.spool.maxBytes, 20 * 1024 ** 3);
    assert.equal(c.store, '/var/lib/millwright/store');
    assert.deepEqual(c.http, { port: 9100, host: '127.0.0.1' });
    assert.equal(c.forward?.s3.bucket, 'raw');
    assert.equal(c.heartbeat, 10_000);
    assert.equal(c.maxFutureSkew, 300_000);
    const s = c.sources[0] as unknown as { window: number; poll: number };
    assert.equal(s.window, 600_000);
    assert.equal(s.poll, 240_000);
    // JSON too, by extension.
    const json = join(dir, 'gw.json');
    await writeFile(json, JSON.stringify({ ...base, sources: [wp] }));
    assert.equal((await loadGatewayConfig(json)).sources[0].name, 'plc7');
  } finally {
    await cleanup();
  }
});

test('every path in the config resolves against the config file, not the working directory: spool, store, assets, alarms, certificates, watched folders', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const conf = join(dir, 'etc', 'millwright');
    await mkdir(conf, { recursive: true });
    await writeFile(join(conf, 'assets.yaml'), 'areas:\n  - name: a\n    lines:\n      - name: l\n        assets: [ { name: press1 }, { name: oven1 } ]\n');
    await writeFile(join(conf, 'rules.yaml'), 'rules:\n  - { name: hot, kind: limit, signals: temperature, hi: 80 }\n');
    const file = join(conf, 'gateway.yaml');
    await writeFile(file, `site: plant-a
spool: { dir: ../../var/spool, maxBytes: 1gb }
store: store
assets: assets.yaml
alarms: rules.yaml
sources:
  - { name: press, type: opcua, endpoint: "opc.tcp://127.0.0.1:4840",
      security: { mode: SignAndEncrypt, policy: Basic256Sha256, certificate: pki/client.pem, privateKey: pki/own/private/key.pem },
      tags: [ { node: "ns=2;s=Press1.Temperature", asset: press1, signal: temperature } ] }
  - { name: exports, type: files, dir: inbox, format: csv }
  - { name: abs, type: files, dir: /srv/exports, format: csv }
`);
    assert.notEqual(process.cwd(), conf);
    const c = await loadGatewayConfig(file);
    assert.equal(c.spool.dir, join(dir, 'var', 'spool'));
    assert.equal(c.store, join(conf, 'store'));
    assert.equal(c.assets, join(conf, 'assets.yaml'));
    assert.equal(c.alarms, join(conf, 'rules.yaml'));
    const [opcua, files, abs] = c.sources as unknown as [{ security: { certificate: string; privateKey: string } }, { dir: string }, { dir: string }];
    assert.equal(opcua.security.certificate, join(conf, 'pki', 'client.pem'));
    assert.equal(opcua.security.privateKey, join(conf, 'pki', 'own', 'private', 'key.pem'));
    assert.equal(files.dir, join(conf, 'inbox'));
    assert.equal(abs.dir, '/srv/exports');
  } finally {
    await cleanup();
  }
});

test('every problem is listed as path: message, with the register type example word for word', async () => {
  // The real Modbus module's schema gives the issue's register-type message.
  const types = SOURCE_TYPES;
  const issues = await issuesOf(
    parseGatewayConfig(
      {
        ...base, spool: { dir: 'spool', maxBytes: 'lots' }, colour: 'red', http: { port: '9100' },
        sources: [
          wp,
          { ...wp, name: 'plc8', poll: '6m', port: 70000, tags: [{ id: 3, asset: 'oven1', signal: 'temperature', scale: 2 }] },
          { name: 'pump', type: 'modbus', host: 'pump-plc', port: 502, poll: '1s', registers: [{ kind: 'holding', address: 0, type: 'float', asset: 'pump1', signal: 'pressure' }] },
          { name: 'x', type: 'opcua-typo' },
          { name: 'plc7', type: 'window-poll', host: 'h', port: 1, window: '10m', poll: '1m', tags: [{ id: 1, asset: 'a', signal: 's' }] },
        ],
      },
      '/tmp',
      'gateway config',
      types,
    ),
  );
  assert.deepEqual(issues.sort(), [
    'colour: unknown key (expected one of site, spool, store, forward, assets, alarms, notify, http, heartbeat, maxFutureSkew, sources)',
    'http.port: expected number, got the string "9100"',
    'sources[1].poll: expected at most half the window (300000 ms for a window of 600000 ms), so every reading is polled at least twice; got 360000 ms',
    'sources[1].port: expected a number <= 65535, got the number 70000',
    'sources[1].tags[0].scale: unknown key (expected one of id, asset, signal, unit)',
    'sources[2].registers[0].type: expected one of int16, uint16, int32, uint32, float32, float64',
    'sources[3].type: expected one of files, modbus, opcua, window-poll, mqtt, sparkplug',
    'spool.maxBytes: expected a size such as 512mb or 20gb (got "lots")',
  ].sort());
});

test('duplicate source names, missing keys and a bad site are refused', async () => {
  assert.deepEqual(await issuesOf(parseGatewayConfig({ ...base, sources: [wp, { ...wp }] }, '/tmp')), ['sources[1].name: duplicate source name "plc7" (also sources[0])']);
  assert.deepEqual((await issuesOf(parseGatewayConfig({ site: 'a/b', spool: { dir: 's' }, sources: [{ ...wp, host: undefined }] }, '/tmp'))).sort(), [
    'site: invalid site "a/b": it contains "/" (expected a non-empty name without "/", "\\", "..", "=", "%" or control characters)',
    'sources[0].host: missing (expected string)',
    'spool.maxBytes: missing (expected string or number)',
    'store: missing (expected string)',
  ].sort());
  assert.deepEqual(await issuesOf(parseGatewayConfig({ ...base, sources: [] }, '/tmp')), ['sources: expected at least 1 item']);
});

test('an asset model: tag mapped to an unknown asset is refused with the closest match; model errors have paths', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await writeFile(join(dir, 'assets.yaml'), `site: plant-a
areas:
  - name: pressing
    lines:
      - name: line1
        assets:
          - { name: press1, type: press, attributes: { ratedPower: 250, runningSpeed: 1480, machineGroup: 2, mounting: "accelerometer on the drive-end bearing" } }
          - { name: oven1, type: oven }
`);
    const ok = await parseGatewayConfig({ ...base, assets: 'assets.yaml', sources: [wp] }, dir);
    assert.equal(ok.assetModel?.areas[0].lines[0].assets.length, 2);
    const issues = await issuesOf(parseGatewayConfig({ ...base, assets: 'assets.yaml', sources: [{ ...wp, tags: [{ id: 1, asset: 'pres1', signal: 'force' }, { id: 2, asset: 'kiln9', signal: 't' }] }] }, dir));
    assert.deepEqual(issues, [
      `sources[0]: unknown asset "pres1" (not in the asset model ${join(dir, 'assets.yaml')}; did you mean press1?)`,
      `sources[0]: unknown asset "kiln9" (not in the asset model ${join(dir, 'assets.yaml')})`,
    ]);
    await writeFile(join(dir, 'bad.yaml'), 'areas:\n  - name: a\n    lines:\n      - name: l\n        assets: [ { name: m1, kind: x }, { name: m1 } ]\n');
    await assert.rejects(parseGatewayConfig({ ...base, assets: 'bad.yaml', sources: [wp] }, dir), (err: MillwrightError) => {
      assert.deepEqual(err.details?.issues, ['areas[0].lines[0].assets[0].kind: unknown key (expected one of name, type, attributes)']);
      return true;
    });
    await writeFile(join(dir, 'dup.yaml'), 'areas:\n  - name: a\n    lines:\n      - name: l\n        assets: [ { name: m1 }, { name: m1 } ]\n');
    await assert.rejects(parseGatewayConfig({ ...base, assets: 'dup.yaml', sources: [wp] }, dir), /areas\[0\]\.lines\[0\]\.assets\[1\]\.name: asset "m1" is already defined at areas\[0\]\.lines\[0\]\.assets\[0\]/);
  } finally {
    await cleanup();
  }
});

test('unreadable and unparsable files say which file and why', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await assert.rejects(loadGatewayConfig(join(dir, 'nope.yaml')), (err) => isErrorCode(err, 'NOT_FOUND') && /nope\.yaml/.test((err as Error).message));
    await writeFile(join(dir, 'broken.json'), '{"site": ');
    await assert.rejects(loadGatewayConfig(join(dir, 'broken.json')), (err) => isErrorCode(err, 'BAD_INPUT') && /broken\.json is not valid JSON/.test((err as Error).message));
    await writeFile(join(dir, 'broken.yaml'), 'site: [unclosed\n');
    await assert.rejects(loadGatewayConfig(join(dir, 'broken.yaml')), /broken\.yaml is not valid YAML/);
  } finally {
    await cleanup();
  }
});
