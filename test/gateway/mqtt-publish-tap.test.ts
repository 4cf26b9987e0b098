/**
 * The PUBLISH tap in front of mqtt.js: on a byte stream cut at every possible place, it hands over
 * each PUBLISH (QoS 0/1, with or without skippable MQTT 5 properties) in order with the right
 * topic, packet id and payload, passes every other packet to mqtt.js byte for byte, and from the
 * first packet it does not read exactly (topic alias, QoS 2, bad lengths) passes everything.
 */
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { connect, type MqttClient } from 'mqtt';
import { tapPublishes } from '../../lib/gateway/sources/mqtt-publish-tap.ts';

function varInt(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function packet(head: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([head, ...varInt(body.length)]), body]);
}

function u16(n: number): Buffer {
  return Buffer.from([n >> 8, n & 0xff]);
}

function str(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([u16(b.length), b]);
}

/** An MQTT 5 PUBLISH. */
function publish(topic: string, qos: 0 | 1 | 2, id: number, payload: Buffer | string, props: Buffer = Buffer.alloc(0)): Buffer {
  const parts = [str(topic)];
  if (qos > 0) parts.push(u16(id));
  parts.push(Buffer.from(varInt(props.length)), props, Buffer.from(payload));
  return packet(0x30 | (qos << 1), Buffer.concat(parts));
}

interface Seen {
  topic: string;
  qos: number;
  id: number | undefined;
  payload: string;
}

/** Runs bytes through a tap in the given chunks; returns what it handed over and what it forwarded. */
async function run(chunks: Buffer[], yieldEvery = 0): Promise<{ seen: Seen[]; forwarded: Buffer }> {
  // Ended but not destroyed (a half-closed socket): what was received before the end is still read.
  const socket = new PassThrough({ autoDestroy: false });
  const fake = { streamBuilder: () => socket } as unknown as MqttClient;
  const seen: Seen[] = [];
  tapPublishes(fake, (topic, qos, id, payload) => {
    seen.push({ topic, qos, id, payload: payload.toString('latin1') });
    return yieldEvery > 0 && seen.length % yieldEvery === 0;
  });
  const built = (fake as unknown as { streamBuilder: () => PassThrough }).streamBuilder();
  const got: Buffer[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      got.push(chunk);
      cb();
    },
  });
  const finished = new Promise<void>((resolve) => dest.on('finish', () => resolve()));
  built.pipe(dest);
  for (const c of chunks) socket.write(c);
  socket.end();
  await finished;
  return { seen, forwarded: Buffer.concat(got) };
}

/** Every way to cut `bytes` in two, plus one byte at a time. */
function cuts(bytes: Buffer): Buffer[][] {
  const out: Buffer[][] = [[bytes]];
  for (let i = 1; i < bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)]);
  out.push([...bytes].map((b) => Buffer.from([b])));
  return out;
}

const connack = packet(0x20, Buffer.from([0x00, 0x00, 0x00]));
const suback = packet(0x90, Buffer.concat([u16(1), Buffer.from([0x00, 0x01])]));
const pingresp = Buffer.from([0xd0, 0x00]);
const props = Buffer.concat([
  Buffer.from([0x01, 0x01]), // payload format indicator
  Buffer.from([0x02, 0, 0, 0, 60]), // message expiry
  Buffer.from([0x03]), str('application/json'), // content type
  Buffer.from([0x26]), str('k'), str('v'), // user property
  Buffer.from([0x0b, 0x81, 0x01]), // subscription identifier 129
]);

describe('mqtt publish tap', () => {
  test('hands over each PUBLISH in order and forwards the other packets byte for byte, however the stream is cut', async () => {
    const big = 'x'.repeat(300); // a two-byte remaining length
    const stream = Buffer.concat([
      connack, suback,
      publish('plant/p1/t', 1, 7, '{"v":1}'),
      publish('plant/p2/t', 0, 0, '2'),
      pingresp,
      publish('plant/ü/t', 1, 65535, big, props),
      publish('a', 1, 1, ''),
      suback,
    ]);
    const want: Seen[] = [
      { topic: 'plant/p1/t', qos: 1, id: 7, payload: '{"v":1}' },
      { topic: 'plant/p2/t', qos: 0, id: undefined, payload: '2' },
      { topic: 'plant/ü/t', qos: 1, id: 65535, payload: big },
      { topic: 'a', qos: 1, id: 1, payload: '' },
    ];
    for (const chunks of cuts(stream)) {
      for (const y of [0, 1]) {
        const { seen, forwarded } = await run(chunks, y);
        assert.deepStrictEqual(seen, want, `cut into ${chunks.map((c) => c.length).join('+')}, yield ${y}`);
        assert.deepStrictEqual(forwarded, Buffer.concat([connack, suback, pingresp, suback]));
      }
    }
  });

  test('from a packet it does not read exactly (topic alias, QoS 2, bad lengths) on, mqtt.js gets everything', async () => {
    const first = publish('t/1', 1, 1, 'a');
    const after = Buffer.concat([publish('t/3', 1, 3, 'c'), pingresp]);
    const cases: [string, Buffer][] = [
      ['topic alias', publish('t/2', 1, 2, 'b', Buffer.from([0x23, 0x00, 0x01]))],
      ['unknown property', publish('t/2', 1, 2, 'b', Buffer.from([0x7f, 0x00]))],
      ['QoS 2', publish('t/2', 2, 2, 'b')],
      ['topic longer than the packet', packet(0x32, Buffer.concat([u16(50), Buffer.from('t/2')]))],
      ['properties longer than the packet', packet(0x32, Buffer.concat([str('t/2'), u16(2), Buffer.from([0x09])]))],
      ['remaining length over 4 bytes', Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ];
    for (const [why, odd] of cases) {
      for (const chunks of [[Buffer.concat([first, odd, after])], [first, odd, after]]) {
        const { seen, forwarded } = await run(chunks);
        assert.deepStrictEqual(seen, [{ topic: 't/1', qos: 1, id: 1, payload: 'a' }], why);
        assert.deepStrictEqual(forwarded, Buffer.concat([odd, after]), why);
      }
    }
  });

  test('after a yield, nothing more is taken from a connection that closed meanwhile', async () => {
    const socket = new PassThrough();
    const fake = { streamBuilder: () => socket } as unknown as MqttClient;
    const seen: string[] = [];
    tapPublishes(fake, (topic) => {
      seen.push(topic);
      socket.destroy(); // the connection drops while the first message is being taken
      return true; // and the tap yields before the next packet
    });
    const built = (fake as unknown as { streamBuilder: () => PassThrough }).streamBuilder();
    built.pipe(new Writable({ write: (_c, _e, cb) => cb() }));
    socket.write(Buffer.concat([publish('t/1', 1, 1, 'a'), publish('t/2', 1, 2, 'b'), publish('t/3', 1, 3, 'c')]));
    await new Promise((r) => setTimeout(r, 50));
    assert.deepStrictEqual(seen, ['t/1']);
  });

  test('the installed mqtt.js has the stream builder the tap wraps (else every message takes the slow path)', () => {
    // manualConnect: never connected, so nothing to end (mqtt.js's end() needs a stream).
    const client = connect('mqtt://127.0.0.1:1', { manualConnect: true, protocolVersion: 5 });
    assert.equal(tapPublishes(client, () => false), true);
  });
});
