/**
 * The MQTT source's decoder: the byte-level fast path for flat JSON payloads and the per-topic
 * cache must give exactly the readings and rejects of the general path (JSON.parse, no cache),
 * on every kind of payload; and the fast path must really be taken for the common payloads.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileFlatKeys, scanFlatJson } from '../../lib/gateway/sources/flat-json.ts';
import { compileTopic, decodeMessage, MqttDecoder, type MqttTopicConfig } from '../../lib/gateway/sources/mqtt-mapping.ts';

const base = { format: 'json', tsUnit: 'ms' } as const;
const configs: MqttTopicConfig[] = [
  { ...base, topic: 'plant/+/+', asset: '{1}', signal: '{2}', value: '$.v', ts: '$.t' },
  { ...base, topic: 'q/+/+', asset: 'line-{1}', signal: '{2}', value: '$.v', ts: '$.t', quality: '$.q', tsUnit: 's' },
  { ...base, topic: 'named/#', asset: '$.a', signal: '$.s', value: '$.v' },
  { ...base, topic: 'bare/+', asset: '{1}', signal: 'value', value: '$' },
  { ...base, topic: 'quoted/+', asset: '{1}', signal: 's', value: "$['a value']", ts: '$.t' },
  { ...base, topic: 'deep/+', asset: '{1}', signal: 's', value: '$.r.v', ts: '$.t' },
  { ...base, topic: 'unicode/+', asset: '{1}', signal: 's', value: '$.värde' },
  { ...base, topic: 'text/+', format: 'text', asset: '{1}', signal: 's', value: '$' },
];
const topics = configs.map(compileTopic);
const topicNames = ['plant/press1/temperature', 'q/l1/p', 'named/x/y', 'bare/m1', 'quoted/m2', 'deep/m3', 'unicode/m4', 'text/m5', 'nowhere/a'];

const values = [
  '21.5', '0', '-0', '-0.0', '1e3', '1E-3', '-2.5e+2', '12345678901234567890', '0.1', '3.141592653589793', '123456789012345', '1234567890123456', '5.2530113739622024', '31893915248020052',
  '1e400', '-1e400', '5e-324', '0.000000000000000000000001', '1767571200000', '1767571200.5', '"21.5"', '" 7 "', '"NaN"', '""', '"12abc"',
  '"2026-01-05T00:00:00Z"', '"good"', '"Stale"', '"bad\\"quote"', '"tab\\t"', '"\\u00e9t\\u00e9"', '"été"', '"日本"', 'true', 'false', 'null',
  '{"x":1}', '[1,2]', '[]', '{}', '01', '1.', '.5', '+1', '-', '1e', 'tru', 'nul', 'NaN', 'Infinity', '0x10', '1_000', '2', '4', '9', '"press9"',
];
const good = ['21.5', '0', '-0', '1767571200000', '1767571200', '1.5e9', '"2026-01-05T00:00:00Z"', '2', 'true', '"3.25"', '12345678901234567890'];
const keys = ['v', 't', 'q', 'a', 's', 'a value', 'r', 'värde', 'x'];

/** A small deterministic PRNG, so a failure names a reproducible case. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function payloads(): string[] {
  const out = [
    '{"v":21.5,"t":1767571200000}', ' {"t":1767571200000 , "v" : -0.25 }\n', '{"v":21.5,"t":1767571200000,"v":22}', '{"v":1,"t":2,}',
    '{"v":1,"t":2}x', '{"v":1 "t":2}', '{"v":1,"t":2', '{', '}', '', '   ', '\ufeff{"v":1,"t":2}', '{"v":1,"t":2}\u0000', '[{"v":1,"t":2}]',
    '{"v":1,"t":2,"extra":{"deep":[1,{"x":null}]}}', '{"v\\u0000":1}', '{"\\u0076":1,"t":2}', '{"a":"p1","s":"temp","v":3}', '{"a":7,"s":"x","v":3}',
    '{"a":"","s":"x","v":3}', '{"a value":4,"t":5}', '{"r":{"v":6},"t":7}', '{"värde":8}', '{"v":1,"t":1767571200,"q":2}', '{"v":1,"t":1767571200,"q":"bad"}',
    '{"v":1,"t":1767571200,"q":9}', '{"v":1,"t":1767571200,"q":null}', '{"__proto__":1,"v":2,"t":3}', '{"v":1,"t":2}\r\n\t ', '{"v":\t1,\n"t":2}',
    '"just a string"', 'null', 'true', '-1.5e2', '  42  ', '42 43', '{"v":1,"t":"2026-01-05T00:00:00.000Z"}', '{"v":"1e3","t":"yesterday"}',
  ];
  const rand = rng(10);
  const pick = <T>(a: T[]): T => a[Math.floor(rand() * a.length)];
  for (let i = 0; i < 3000; i++) {
    const n = Math.floor(rand() * 4);
    const parts: string[] = [];
    for (let k = 0; k < n; k++) parts.push(`${rand() < 0.1 ? ' ' : ''}${JSON.stringify(pick(keys))}${rand() < 0.1 ? ' ' : ''}:${rand() < 0.1 ? '\n' : ''}${pick(values)}`);
    // Half the objects carry a good value and time stamp (in random order with the rest), so
    // both readings and rejects are compared in quantity.
    if (rand() < 0.5) {
      parts.splice(Math.floor(rand() * (parts.length + 1)), 0, `"v":${pick(good)}`, `"t":${pick(good)}`, `"a":"${pick(['p1', 'p2'])}"`, `"s":"${pick(['temp', 'rpm'])}"`);
    }
    let p = rand() < 0.1 ? pick(values) : `{${parts.join(',')}}`;
    if (rand() < 0.05) p = p.slice(0, Math.floor(rand() * p.length));
    out.push(p);
  }
  return out;
}

describe('mqtt decoder', () => {
  test('fast path and topic cache give the same readings and rejects as the general path', () => {
    const fast = new MqttDecoder(topics);
    const cachedOnly = new MqttDecoder(topics, { fastJson: false });
    let cases = 0;
    let readings = 0;
    let rejects = 0;
    for (const p of payloads()) {
      for (const topic of topicNames) {
        for (const bytes of [Buffer.from(p, 'utf8'), Buffer.concat([Buffer.from(p, 'utf8'), Buffer.from([0xc3])])]) {
          const want = decodeMessage(topics, topic, bytes, 1_700_000_000_000);
          assert.deepStrictEqual(fast.decode(topic, bytes, 1_700_000_000_000), want, `fast path, topic ${topic}, payload ${JSON.stringify(bytes.toString('latin1'))}`);
          assert.deepStrictEqual(cachedOnly.decode(topic, bytes, 1_700_000_000_000), want, `cache, topic ${topic}, payload ${JSON.stringify(bytes.toString('latin1'))}`);
          cases++;
          readings += want.readings.length;
          rejects += want.events.length;
        }
      }
    }
    // The cases must exercise both outcomes, or the comparison proves little.
    assert.ok(readings > 2000 && rejects > 20_000, `${cases} cases: ${readings} readings, ${rejects} rejects`);
  });

  test('the fast path reads flat objects and bare values, and gives up on what it cannot read exactly', () => {
    const k = compileFlatKeys(['v', 't'])!;
    const vals: unknown[] = [];
    assert.deepStrictEqual(scanFlatJson(Buffer.from('{"v":21.5,"t":1767571200000}'), k, vals), { kind: 'object', values: [21.5, 1767571200000] });
    assert.deepStrictEqual(scanFlatJson(Buffer.from('{"t":"x","s":true,"v":null}'), k, vals), { kind: 'object', values: [null, 'x'] });
    assert.deepStrictEqual(scanFlatJson(Buffer.from('{"v":1,"v":-2e1}'), k, vals), { kind: 'object', values: [-20, undefined] });
    assert.deepStrictEqual(scanFlatJson(Buffer.from(' -0 '), k, vals), { kind: 'scalar', value: -0 });
    for (const p of ['{"v":{"a":1}}', '{"v":[1]}', '{"v":"a\\"b"}', '{"v":"é"}', '{"é":1}', '{"v":01}', '{"v":1,}', '{"v":1}x', '[1]', '', '{"v":1.}', '{"v":"\t"}']) {
      assert.equal(scanFlatJson(Buffer.from(p), k, vals), undefined, p);
    }
    assert.equal(compileFlatKeys(['värde']), undefined);
  });

  test('a topic entry with one-key paths gets the fast path; deeper paths and items do not', () => {
    assert.ok(topics[0].flat && topics[1].flat && topics[2].flat && topics[3].flat && topics[4].flat);
    assert.equal(topics[5].flat, undefined);
    assert.equal(topics[6].flat, undefined);
    assert.equal(topics[7].flat, undefined);
    assert.equal(compileTopic({ ...base, topic: 'b/+', asset: '{1}', signal: '$.s', value: '$.v', items: '$.r[*]' }).flat, undefined);
  });
});
