import type { MqttClient } from 'mqtt';
import type { Duplex, Writable } from 'node:stream';

/**
 * Takes the PUBLISH packets (QoS 0 and 1) off an mqtt.js client's socket before mqtt.js parses
 * them, and hands them to the MQTT source directly; every other packet (CONNACK, SUBACK, PINGRESP,
 * PUBACK of our own publishes, DISCONNECT, AUTH) goes on to mqtt.js unchanged, which keeps
 * connecting, subscribing, keepalive and reconnecting.
 *
 * Why: at 100,000+ messages/s the gateway was CPU-bound in mqtt.js's receive path, which for each
 * message builds a packet object through a buffer list, logs through `debug`, emits events and
 * handles packets one per `process.nextTick`; a PUBLISH is a few header fields in front of the
 * payload, read here in place. The framing is MQTT's fixed header (type and flags, then a
 * variable byte integer of at most 4 bytes for the remaining length).
 *
 * Whatever the tap does not read exactly (a QoS 2 PUBLISH, a topic alias, an unknown property,
 * a packet whose lengths do not add up, a remaining length over 4 bytes) switches the rest of the
 * connection to pass-through: from that packet on mqtt.js parses everything, as it did before the
 * tap, so arrival order is kept and mqtt.js reports the protocol error if there is one.
 */

/** Gets one PUBLISH; returns true to yield to the event loop before the next packet. */
export type PublishHandler = (topic: string, qos: 0 | 1, messageId: number | undefined, payload: Buffer) => boolean;

/** MQTT 5 PUBLISH properties the tap skips (3.3.2.3), by the width of their value. */
const SKIP_FIXED = new Map<number, number>([
  [0x01, 1], // payload format indicator
  [0x02, 4], // message expiry interval
]);
const SKIP_BINARY = new Set<number>([0x03, 0x08, 0x09]); // content type, response topic, correlation data (u16 length + bytes)
const USER_PROPERTY = 0x26; // two strings
const SUBSCRIPTION_ID = 0x0b; // variable byte integer

/** A variable byte integer at `at`: [value, bytes], [-1, 0] when incomplete, [-2, 0] when malformed. */
function varInt(b: Buffer, at: number, end: number): [number, number] {
  let value = 0;
  let mul = 1;
  for (let k = 0; k < 4; k++) {
    if (at + k >= end) return [-1, 0];
    const c = b[at + k];
    value += (c & 0x7f) * mul;
    if ((c & 0x80) === 0) return [value, k + 1];
    mul *= 128;
  }
  return [-2, 0];
}

/** Skips the properties in [at, end); false for one the tap does not skip (topic alias, unknown). */
function skipProperties(b: Buffer, at: number, end: number): boolean {
  let p = at;
  while (p < end) {
    const id = b[p++];
    const fixed = SKIP_FIXED.get(id);
    if (fixed !== undefined) p += fixed;
    else if (SKIP_BINARY.has(id)) p += 2 + (p + 2 <= end ? b.readUInt16BE(p) : 0);
    else if (id === USER_PROPERTY) {
      for (let s = 0; s < 2; s++) p += 2 + (p + 2 <= end ? b.readUInt16BE(p) : 0);
    } else if (id === SUBSCRIPTION_ID) {
      const [v, n] = varInt(b, p, end);
      if (v < 0) return false;
      p += n;
    } else return false;
  }
  return p === end;
}

/**
 * Reads a PUBLISH's variable header in [body, end): topic (u16 length + UTF-8), packet id (QoS 1),
 * properties (MQTT 5). Undefined when the lengths do not add up or a property is not skippable.
 */
function readPublish(b: Buffer, body: number, end: number, qos: number): { topicEnd: number; messageId: number | undefined; payloadAt: number } | undefined {
  if (body + 2 > end) return undefined;
  const topicEnd = body + 2 + b.readUInt16BE(body);
  let p = topicEnd;
  let messageId: number | undefined;
  if (qos === 1) {
    if (p + 2 > end) return undefined;
    messageId = b.readUInt16BE(p);
    p += 2;
  }
  if (p > end) return undefined;
  const [propLen, propBytes] = varInt(b, p, end);
  if (propLen < 0) return undefined;
  const propsAt = p + propBytes;
  if (propsAt + propLen > end || (propLen > 0 && !skipProperties(b, propsAt, propsAt + propLen))) return undefined;
  return { topicEnd, messageId, payloadAt: propsAt + propLen };
}

/** Topic names kept per connection; past this the memory is cleared and refilled. */
const MAX_TOPICS = 10_000;

/**
 * Topic strings by their bytes: a plant publishes the same few thousand topics over and over, so
 * the UTF-8 decoding (and a new string per message) is done once per topic, and the decoder's
 * own per-topic map then looks up the same string instance (its hash already computed).
 */
class TopicNames {
  private readonly byHash = new Map<number, { bytes: Buffer; name: string }[]>();
  private size = 0;

  get(b: Buffer, from: number, to: number): string {
    let h = 0x811c9dc5; // FNV-1a
    for (let i = from; i < to; i++) h = Math.imul(h ^ b[i], 0x01000193);
    const list = this.byHash.get(h);
    if (list) {
      outer: for (const e of list) {
        if (e.bytes.length !== to - from) continue;
        for (let i = 0; i < e.bytes.length; i++) if (e.bytes[i] !== b[from + i]) continue outer;
        return e.name;
      }
    }
    const name = b.toString('utf8', from, to);
    if (this.size >= MAX_TOPICS) {
      this.byHash.clear();
      this.size = 0;
    }
    const entry = { bytes: Buffer.from(b.subarray(from, to)), name };
    if (list && this.byHash.has(h)) list.push(entry);
    else this.byHash.set(h, [entry]);
    this.size++;
    return name;
  }
}

class PublishTap {
  private readonly topics = new TopicNames();
  /**
   * Bytes not processed yet: a packet cut by a chunk boundary, or what came during a yield. Kept
   * as chunks until the packet is complete (`need` bytes, when its header is in), so a large
   * payload arriving in many chunks is copied together once, not once per chunk.
   */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private need = 0;
  private yielding = false;
  private passthrough = false;
  private ended = false;

  constructor(
    private readonly socket: Duplex,
    private readonly dest: Writable,
    private readonly onPublish: PublishHandler,
  ) {}

  feed(chunk: Buffer): void {
    if (this.socket.destroyed) return;
    this.hold(chunk);
    if (this.yielding || this.heldBytes < this.need) return;
    this.process(this.take());
  }

  private hold(bytes: Buffer): void {
    this.held.push(bytes);
    this.heldBytes += bytes.length;
  }

  private take(): Buffer {
    const buf = this.held.length === 1 ? this.held[0] : Buffer.concat(this.held, this.heldBytes);
    this.held = [];
    this.heldBytes = 0;
    this.need = 0;
    return buf;
  }

  end(): void {
    this.ended = true;
    if (!this.yielding) this.finish();
  }

  private finish(): void {
    if (this.heldBytes > 0) this.forward(this.take());
    this.dest.end();
  }

  private forward(bytes: Buffer): void {
    if (!this.dest.write(bytes)) {
      this.socket.pause();
      this.dest.once('drain', () => {
        if (!this.yielding) this.socket.resume();
      });
    }
  }

  private process(buf: Buffer): void {
    const n = buf.length;
    let off = 0;
    let run = -1; // start of a run of packets for mqtt.js
    let need = 0; // bytes of the cut packet at `off`, when its header is complete
    while (off < n) {
      if (this.passthrough) break;
      const [len, lenBytes] = varInt(buf, off + 1, n);
      if (len === -1) break;
      if (len === -2) {
        this.passthrough = true;
        break;
      }
      const body = off + 1 + lenBytes;
      const end = body + len;
      if (end > n) {
        need = end - off;
        break;
      }
      const head = buf[off];
      const qos = (head >> 1) & 3;
      if (head >> 4 !== 3 || qos === 2) {
        if (head >> 4 === 3) {
          this.passthrough = true;
          break;
        }
        if (run < 0) run = off;
        off = end;
        continue;
      }
      const pub = readPublish(buf, body, end, qos);
      if (!pub) {
        this.passthrough = true;
        break;
      }
      if (run >= 0) {
        this.forward(buf.subarray(run, off));
        run = -1;
      }
      const pause = this.onPublish(this.topics.get(buf, body + 2, pub.topicEnd), qos as 0 | 1, pub.messageId, buf.subarray(pub.payloadAt, end));
      off = end;
      if (pause && off < n) {
        this.yieldThenGoOn(buf.subarray(off));
        return;
      }
    }
    if (run >= 0) this.forward(buf.subarray(run, off));
    if (this.passthrough) {
      if (off < n) this.forward(buf.subarray(off));
      return;
    }
    if (off < n) {
      this.hold(buf.subarray(off));
      this.need = need;
    }
  }

  /**
   * Lets I/O callbacks run (the spool's fsync completing, so PUBACKs go out while a backlog is
   * still being read) before the rest of the chunk: the socket is paused meanwhile.
   */
  private yieldThenGoOn(remaining: Buffer): void {
    this.yielding = true;
    this.hold(remaining);
    this.socket.pause();
    setImmediate(() => {
      this.yielding = false;
      const r = this.heldBytes > 0 ? this.take() : undefined;
      // A connection closed meanwhile: its un-acknowledged messages come again on the next one, and
      // taking them now would queue them as messages of the new connection (whose packet ids differ).
      if (this.socket.destroyed) {
        if (this.ended) this.dest.end();
        return;
      }
      if (r) this.process(r);
      if (this.yielding) return;
      if (this.ended) this.finish();
      else this.socket.resume();
    });
  }
}

/**
 * Makes every connection of `client` (made from now on) go through a {@link PublishTap}. Call
 * before `client.connect()` (with `manualConnect: true`). mqtt.js pipes its socket into its
 * parser right after building it; the tap takes the place of that pipe. Returns false (and
 * changes nothing) when the client has no stream builder to wrap (another mqtt.js version).
 */
export function tapPublishes(client: MqttClient, onPublish: PublishHandler): boolean {
  const c = client as unknown as { streamBuilder: (client: MqttClient) => Duplex };
  const build = c.streamBuilder;
  if (typeof build !== 'function') return false; // another mqtt version: mqtt.js parses everything, as before
  c.streamBuilder = (cl) => {
    const socket = build(cl);
    socket.pipe = <T extends NodeJS.WritableStream>(dest: T): T => {
      const tap = new PublishTap(socket, dest as unknown as Writable, onPublish);
      socket.on('data', (chunk: Buffer) => tap.feed(chunk));
      socket.on('end', () => tap.end());
      return dest;
    };
    return socket;
  };
  return true;
}
