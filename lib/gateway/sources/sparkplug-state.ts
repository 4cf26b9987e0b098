import { createRequire } from 'node:module';
import type * as SparkplugPayload from 'sparkplug-payload';
import { QUALITY, type QualityCode, type SourceEvent, type SourceReading } from '../source.ts';
import type { Decoded } from './mqtt-mapping.ts';

type SparkplugPayloadModule = NonNullable<ReturnType<typeof SparkplugPayload.get>>;
type UPayload = ReturnType<SparkplugPayloadModule['decodePayload']>;
type UMetric = NonNullable<UPayload['metrics']>[number];

const require = createRequire(import.meta.url);
/** The Sparkplug B protobuf codec (sparkplug-payload is CommonJS). */
export const spB: SparkplugPayloadModule = (require('sparkplug-payload') as { get(ns: string): SparkplugPayloadModule }).get('spBv1.0');

/** How Sparkplug metrics become assets and signals (see docs/gateway.md#sparkplug-b). */
export type AssetFrom = 'device' | 'node' | 'metric-prefix';

const NUMERIC = new Set(['Int8', 'Int16', 'Int32', 'Int64', 'UInt8', 'UInt16', 'UInt32', 'UInt64', 'Float', 'Double', 'Boolean', 'DateTime']);

interface MetricDef {
  name: string;
  type: string;
  last?: number;
}

/** One edge node or device: its metrics by name and the aliases its BIRTH defined. */
interface Edge {
  born: boolean;
  metrics: Map<string, MetricDef>;
  aliases: Map<number, string>;
}

interface NodeState {
  bdSeq?: number;
  seq?: number;
  lastTs?: number;
  edge: Edge;
  devices: Map<string, Edge>;
  lastRebirth?: number;
}

/** A birth-certificate snapshot, saved so a restarted gateway still resolves aliases. */
export interface SavedState {
  version: 1;
  nodes: Record<string, { bdSeq?: number; born: boolean; metrics: [number | null, string, string][]; devices: Record<string, { born: boolean; metrics: [number | null, string, string][] }> }>;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v !== null && typeof v === 'object' && typeof (v as { toNumber?: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  return undefined;
}

/** Ignition-style OPC quality in a metric's `Quality` property: 192 good, 64 uncertain, 0 bad, 500 stale. */
function qualityOf(metric: UMetric): QualityCode {
  const q = num(metric.properties?.Quality?.value);
  if (q === undefined) return QUALITY.good;
  if (q === 500) return QUALITY.stale;
  if (q >= 192) return QUALITY.good;
  if (q >= 64) return QUALITY.uncertain;
  return QUALITY.bad;
}

const isControl = (name: string): boolean => name === 'bdSeq' || name.startsWith('Node Control/') || name.startsWith('Device Control/') || name.startsWith('Properties/');

/** A DATA metric's definition by name or alias; else what to call it in the reject ('' for a control metric). */
function resolve(edge: Edge, m: UMetric): MetricDef | string {
  const alias = num(m.alias);
  const name = typeof m.name === 'string' && m.name !== '' ? m.name : alias === undefined ? undefined : edge.aliases.get(alias);
  const def = name === undefined ? undefined : edge.metrics.get(name);
  if (def) return def;
  if (name !== undefined && isControl(name)) return '';
  return name ?? `alias ${alias ?? '?'}`;
}

/**
 * The Sparkplug B host-side state machine: BIRTH certificates define metrics and aliases, DATA
 * resolves them, DEATH restates every known metric as stale. Turns each message into readings
 * and events; asks for a rebirth (through `rebirth`) when a DATA cannot be resolved.
 */
export class SparkplugState {
  private readonly nodes = new Map<string, NodeState>();
  /** True when a BIRTH or DEATH changed what {@link snapshot} would save. */
  dirty = false;

  constructor(
    private readonly group: string,
    private readonly assetFrom: AssetFrom,
    private readonly nodeFilter: Set<string> | undefined,
    private readonly rebirth: (node: string) => void,
    private readonly rebirthIntervalMs = 2000,
  ) {}

  private name(node: string, device: string | undefined, metric: string): { asset: string; signal: string } {
    if (this.assetFrom === 'node') return { asset: node, signal: device === undefined ? metric : `${device}/${metric}` };
    if (this.assetFrom === 'metric-prefix') {
      const cut = metric.lastIndexOf('/');
      if (cut > 0 && cut < metric.length - 1) return { asset: metric.slice(0, cut), signal: metric.slice(cut + 1) };
    }
    return { asset: device ?? node, signal: metric };
  }

  /** Decodes one message of this group. Never throws. */
  decode(topic: string, payload: Buffer, receivedAt: number): Decoded {
    const parts = topic.split('/');
    const reject = (message: string, asset?: string): Decoded => ({ readings: [], events: [{ ts: receivedAt, kind: 'reject', asset, message: `topic ${topic}: ${message}` }] });
    if (parts[0] !== 'spBv1.0' || parts[1] === 'STATE') return { readings: [], events: [] };
    const [, group, type, node, device] = parts;
    if (group !== this.group || node === undefined || node === '') return reject('not a Sparkplug B node topic (expected spBv1.0/<group>/<type>/<node>[/<device>])');
    // Commands (our own rebirth requests included) are not data.
    if (type === 'NCMD' || type === 'DCMD') return { readings: [], events: [] };
    if (this.nodeFilter && !this.nodeFilter.has(node)) return { readings: [], events: [] };
    const isDevice = type.startsWith('D');
    if (isDevice !== (device !== undefined) || parts.length > 5) return reject(`${type} needs ${isDevice ? 'a device' : 'no device'} level in the topic`);
    let msg: UPayload;
    try {
      msg = spB.decodePayload(payload);
    } catch (err) {
      return reject(`malformed Sparkplug B payload (protobuf: ${(err as Error).message})`, device ?? node);
    }
    switch (type) {
      case 'NBIRTH':
        return this.nbirth(node, msg, receivedAt);
      case 'DBIRTH':
        return this.dbirth(topic, node, device!, msg, receivedAt);
      case 'NDATA':
      case 'DDATA':
        return this.data(topic, node, device, msg, receivedAt);
      case 'NDEATH':
        return this.ndeath(node, msg, receivedAt);
      case 'DDEATH':
        return this.ddeath(topic, node, device!, msg, receivedAt);
      default:
        return reject(`unknown Sparkplug message type ${type} (expected NBIRTH, DBIRTH, NDATA, DDATA, NDEATH, DDEATH)`, node);
    }
  }

  private requestRebirth(node: string, receivedAt: number): void {
    const st = this.nodes.get(node);
    // One request per node per interval: a burst of unresolvable DATA must not flood the node.
    if (st?.lastRebirth !== undefined && receivedAt - st.lastRebirth < this.rebirthIntervalMs) return;
    if (st) st.lastRebirth = receivedAt;
    else this.nodes.set(node, { edge: { born: false, metrics: new Map(), aliases: new Map() }, devices: new Map(), lastRebirth: receivedAt });
    this.rebirth(node);
  }

  /** seq runs 0..255 per node across NBIRTH, DBIRTH, NDATA, DDATA, DDEATH: a jump is a gap. */
  private checkSeq(node: string, st: NodeState, msg: UPayload, ts: number, events: SourceEvent[]): void {
    const seq = num(msg.seq);
    if (seq === undefined) return;
    if (st.seq !== undefined) {
      const expected = (st.seq + 1) % 256;
      if (seq !== expected) {
        const missing = (seq - expected + 256) % 256;
        events.push({ ts, kind: 'gap', asset: node, from: st.lastTs, to: ts, message: `Sparkplug seq ${seq} after ${st.seq}: ${missing} message${missing === 1 ? '' : 's'} of node ${node} missing (or out of order)` });
      }
    }
    st.seq = seq;
    st.lastTs = ts;
  }

  /** Defines an edge's metrics from a BIRTH and emits the values it carries. */
  private birth(edge: Edge, node: string, device: string | undefined, msg: UPayload, receivedAt: number, out: Decoded): void {
    edge.born = true;
    edge.metrics.clear();
    edge.aliases.clear();
    const skipped: string[] = [];
    const ts0 = num(msg.timestamp) ?? receivedAt;
    for (const m of msg.metrics ?? []) {
      if (typeof m.name !== 'string' || isControl(m.name)) continue;
      const def: MetricDef = { name: m.name, type: m.type };
      edge.metrics.set(m.name, def);
      const alias = num(m.alias);
      if (alias !== undefined) edge.aliases.set(alias, m.name);
      if (!NUMERIC.has(m.type)) {
        skipped.push(`${m.name} (${m.type})`);
        continue;
      }
      const value = m.isNull ? undefined : num(m.value);
      if (value === undefined) continue;
      def.last = value;
      out.readings.push({ ts: num(m.timestamp) ?? ts0, ...this.name(node, device, m.name), value, quality: qualityOf(m) });
    }
    if (skipped.length > 0) out.events.push({ ts: receivedAt, kind: 'reject', asset: device ?? node, message: `${device === undefined ? 'NBIRTH' : 'DBIRTH'} of ${device ?? node}: metrics not stored (not numeric): ${skipped.join(', ')}` });
    this.dirty = true;
  }

  private nbirth(node: string, msg: UPayload, receivedAt: number): Decoded {
    const out: Decoded = { readings: [], events: [] };
    const bd = (msg.metrics ?? []).find((m) => m.name === 'bdSeq');
    const prev = this.nodes.get(node);
    // A new NBIRTH invalidates every device of the node: each must send its DBIRTH again.
    const st: NodeState = { bdSeq: bd ? num(bd.value) : undefined, edge: { born: false, metrics: new Map(), aliases: new Map() }, devices: new Map(), lastRebirth: prev?.lastRebirth };
    this.nodes.set(node, st);
    st.seq = num(msg.seq);
    st.lastTs = num(msg.timestamp) ?? receivedAt;
    this.birth(st.edge, node, undefined, msg, receivedAt, out);
    out.events.push({ ts: receivedAt, kind: 'connected', asset: node, message: `Sparkplug NBIRTH of ${this.group}/${node} (bdSeq ${st.bdSeq ?? 'none'}, ${st.edge.metrics.size} metrics)` });
    return out;
  }

  private dbirth(topic: string, node: string, device: string, msg: UPayload, receivedAt: number): Decoded {
    const st = this.nodes.get(node);
    if (!st?.edge.born) {
      this.requestRebirth(node, receivedAt);
      return { readings: [], events: [{ ts: receivedAt, kind: 'reject', asset: device, message: `topic ${topic}: DBIRTH before the NBIRTH of node ${node}; rebirth requested` }] };
    }
    const out: Decoded = { readings: [], events: [] };
    this.checkSeq(node, st, msg, num(msg.timestamp) ?? receivedAt, out.events);
    const edge: Edge = { born: false, metrics: new Map(), aliases: new Map() };
    st.devices.set(device, edge);
    this.birth(edge, node, device, msg, receivedAt, out);
    out.events.push({ ts: receivedAt, kind: 'connected', asset: device, message: `Sparkplug DBIRTH of ${this.group}/${node}/${device} (${edge.metrics.size} metrics)` });
    return out;
  }

  private data(topic: string, node: string, device: string | undefined, msg: UPayload, receivedAt: number): Decoded {
    const st = this.nodes.get(node);
    const edge = device === undefined ? st?.edge : st?.devices.get(device);
    const kind = device === undefined ? 'NDATA' : 'DDATA';
    if (!st?.edge.born || !edge?.born) {
      this.requestRebirth(node, receivedAt);
      const what = !st?.edge.born ? `the NBIRTH of node ${node}` : `the DBIRTH of device ${device}`;
      return { readings: [], events: [{ ts: receivedAt, kind: 'reject', asset: device ?? node, message: `topic ${topic}: ${kind} before ${what} (${(msg.metrics ?? []).length} metrics not resolved); rebirth requested` }] };
    }
    const out: Decoded = { readings: [], events: [] };
    const ts0 = num(msg.timestamp) ?? receivedAt;
    this.checkSeq(node, st, msg, ts0, out.events);
    const unknown: string[] = [];
    for (const m of msg.metrics ?? []) {
      const def = resolve(edge, m);
      if (typeof def === 'string') {
        if (def !== '') unknown.push(def);
        continue;
      }
      if (!NUMERIC.has(def.type)) continue;
      const value = m.isNull ? undefined : num(m.value);
      if (value === undefined) continue;
      def.last = value;
      out.readings.push({ ts: num(m.timestamp) ?? ts0, ...this.name(node, device, def.name), value, quality: qualityOf(m) });
    }
    if (unknown.length > 0) {
      this.requestRebirth(node, receivedAt);
      out.events.push({ ts: receivedAt, kind: 'reject', asset: device ?? node, message: `topic ${topic}: ${kind} has metrics its BIRTH did not define: ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ', ...' : ''}; rebirth requested` });
    }
    return out;
  }

  /** Every known metric of an edge re-stated with its last value and quality stale. */
  private stale(edge: Edge, node: string, device: string | undefined, ts: number, out: SourceReading[]): void {
    for (const def of edge.metrics.values()) {
      if (def.last !== undefined) out.push({ ts, ...this.name(node, device, def.name), value: def.last, quality: QUALITY.stale });
    }
    edge.born = false;
  }

  private ndeath(node: string, msg: UPayload, receivedAt: number): Decoded {
    const st = this.nodes.get(node);
    const bd = num((msg.metrics ?? []).find((m) => m.name === 'bdSeq')?.value);
    if (!st?.edge.born) return { readings: [], events: [] };
    // The NDEATH of an older session (the broker delivers the will late) must not kill the new one.
    if (bd !== undefined && st.bdSeq !== undefined && bd !== st.bdSeq) return { readings: [], events: [] };
    const out: Decoded = { readings: [], events: [] };
    this.stale(st.edge, node, undefined, receivedAt, out.readings);
    for (const [device, edge] of st.devices) if (edge.born) this.stale(edge, node, device, receivedAt, out.readings);
    st.seq = undefined;
    this.dirty = true;
    out.events.push({ ts: receivedAt, kind: 'disconnected', asset: node, message: `Sparkplug NDEATH of ${this.group}/${node} (bdSeq ${bd ?? 'none'}): ${out.readings.length} metrics now stale` });
    return out;
  }

  private ddeath(topic: string, node: string, device: string, msg: UPayload, receivedAt: number): Decoded {
    const st = this.nodes.get(node);
    const edge = st?.devices.get(device);
    if (!st || !edge?.born) return { readings: [], events: [] };
    const out: Decoded = { readings: [], events: [] };
    this.checkSeq(node, st, msg, num(msg.timestamp) ?? receivedAt, out.events);
    this.stale(edge, node, device, receivedAt, out.readings);
    this.dirty = true;
    out.events.push({ ts: receivedAt, kind: 'disconnected', asset: device, message: `Sparkplug DDEATH of ${this.group}/${node}/${device}: ${out.readings.length} metrics now stale (${topic})` });
    return out;
  }

  /** The birth definitions (not the values) as JSON-able state. */
  snapshot(): SavedState {
    const dump = (e: Edge): [number | null, string, string][] => {
      const byName = new Map<string, number>();
      for (const [alias, name] of e.aliases) byName.set(name, alias);
      return [...e.metrics.values()].map((d) => [byName.get(d.name) ?? null, d.name, d.type]);
    };
    const nodes: SavedState['nodes'] = {};
    for (const [node, st] of this.nodes) {
      const devices: SavedState['nodes'][string]['devices'] = {};
      for (const [device, e] of st.devices) devices[device] = { born: e.born, metrics: dump(e) };
      nodes[node] = { bdSeq: st.bdSeq, born: st.edge.born, metrics: dump(st.edge), devices };
    }
    this.dirty = false;
    return { version: 1, nodes };
  }

  /** Restores what {@link snapshot} saved (seq restarts: the first message after a restart is not checked). */
  restore(saved: SavedState): void {
    const load = (born: boolean, metrics: [number | null, string, string][]): Edge => {
      const e: Edge = { born, metrics: new Map(), aliases: new Map() };
      for (const [alias, name, type] of metrics) {
        e.metrics.set(name, { name, type });
        if (alias !== null) e.aliases.set(alias, name);
      }
      return e;
    };
    for (const [node, s] of Object.entries(saved.nodes)) {
      const devices = new Map<string, Edge>();
      for (const [device, d] of Object.entries(s.devices)) devices.set(device, load(d.born, d.metrics));
      this.nodes.set(node, { bdSeq: s.bdSeq, edge: load(s.born, s.metrics), devices });
    }
  }
}
