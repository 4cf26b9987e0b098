import { compileJsonPath, type JsonPath } from '../json-path.ts';
import { compileTemplate, compileTopicPattern, type TopicPattern } from '../topic-pattern.ts';
import { QUALITY, type QualityCode, type SourceEvent, type SourceReading } from '../source.ts';

/** One `topics[]` entry of an MQTT source: which topics, and where asset, signal, value and time are. */
export interface MqttTopicConfig {
  /** Topic filter, also the subscription: `plant/+/+`, `site/#`. */
  topic: string;
  /** `json` (an object, an array of objects, or `items` inside an object) or `text` (the payload is a number). */
  format: 'json' | 'text';
  /** Template over the wildcards (`{1}`, `line-{2}`, `press1`) or a JSON path into the payload (`$.asset`). */
  asset: string;
  signal: string;
  unit?: string;
  /** JSON path of the value (default `$`, the payload itself). */
  value: string;
  /** JSON path of the time stamp (epoch number in `tsUnit`, or an ISO-8601 string); absent: receive time. */
  ts?: string;
  tsUnit: 'ms' | 's' | 'us' | 'ns';
  /** JSON path of a quality: a code 0..5 or a name (`good`, `bad`, `stale`, ...). */
  quality?: string;
  /** JSON path of an array of readings in the payload (`$.readings[*]`); value/ts/quality/asset/signal paths are then relative to each element. */
  items?: string;
}

type NameFn = (captures: string[], item: unknown) => unknown;

/** A topic entry compiled once at start-up. */
export interface CompiledTopic {
  config: MqttTopicConfig;
  pattern: TopicPattern;
  asset: NameFn;
  signal: NameFn;
  value: JsonPath;
  ts?: JsonPath;
  tsScale: number;
  quality?: JsonPath;
  items?: JsonPath;
}

const TS_SCALE = { ms: 1, s: 1000, us: 1e-3, ns: 1e-6 } as const;
const QUALITY_CODES = new Set<number>(Object.values(QUALITY));
const QUALITY_NAMES = new Map<string, QualityCode>(Object.entries(QUALITY).map(([k, v]) => [k.toLowerCase(), v]));

function nameFn(template: string, pattern: TopicPattern, key: string): NameFn {
  if (template.startsWith('$')) {
    const path = compileJsonPath(template);
    return (_captures, item) => path.get(item);
  }
  const render = compileTemplate(template, pattern, key);
  return (captures) => render(captures);
}

/**
 * Compiles a topic entry (topic filter, templates, JSON paths). Throws BAD_INPUT naming the key.
 */
export function compileTopic(config: MqttTopicConfig): CompiledTopic {
  const pattern = compileTopicPattern(config.topic);
  return {
    config,
    pattern,
    asset: nameFn(config.asset, pattern, 'asset'),
    signal: nameFn(config.signal, pattern, 'signal'),
    value: compileJsonPath(config.value),
    ts: config.ts === undefined ? undefined : compileJsonPath(config.ts),
    tsScale: TS_SCALE[config.tsUnit],
    quality: config.quality === undefined ? undefined : compileJsonPath(config.quality),
    items: config.items === undefined ? undefined : compileJsonPath(config.items, { allowAll: true }),
  };
}

/** Asset names a topic entry names literally (no `{n}`, no JSON path), for the start-up check. */
export function staticAssets(config: MqttTopicConfig): string[] {
  return config.asset.startsWith('$') || /\{\d+\}/.test(config.asset) ? [] : [config.asset];
}

/** What one MQTT message turned into. */
export interface Decoded {
  readings: SourceReading[];
  /** Reject (and other) events to record durably before the message is acknowledged. */
  events: SourceEvent[];
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

function numberOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  // Many PLC bridges send numbers as strings; "NaN", "" and "12abc" are not numbers.
  if (typeof v === 'string' && v.trim() !== '' && /^[\s+\-0-9.eE]+$/.test(v)) {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function qualityOf(v: unknown): QualityCode | undefined {
  if (typeof v === 'number') return QUALITY_CODES.has(v) ? (v as QualityCode) : undefined;
  if (typeof v === 'string') return QUALITY_NAMES.get(v.toLowerCase());
  return undefined;
}

function nameOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** Maps one JSON item to a reading, or returns why it cannot be one. */
function itemReading(t: CompiledTopic, captures: string[], item: unknown, receivedAt: number): SourceReading | string {
  const asset = nameOf(t.asset(captures, item));
  if (asset === undefined) return `asset ${t.config.asset} is ${describe(t.asset(captures, item))} (expected a non-empty string)`;
  const signal = nameOf(t.signal(captures, item));
  if (signal === undefined) return `signal ${t.config.signal} is ${describe(t.signal(captures, item))} (expected a non-empty string)`;
  const raw = t.value.get(item);
  const value = numberOf(raw);
  if (value === undefined) return `value ${t.value.source} is ${describe(raw)} (expected a finite number or a boolean)`;
  let ts = receivedAt;
  if (t.ts) {
    const rawTs = t.ts.get(item);
    const n = typeof rawTs === 'number' ? rawTs * t.tsScale : typeof rawTs === 'string' ? Date.parse(rawTs) : NaN;
    if (!Number.isFinite(n)) return `ts ${t.ts.source} is ${describe(rawTs)} (expected epoch ${t.config.tsUnit} or an ISO-8601 time)`;
    ts = n;
  }
  let quality: QualityCode = QUALITY.good;
  if (t.quality) {
    const rawQ = t.quality.get(item);
    // A payload without a quality field is a good reading; a quality that is there must be valid.
    if (rawQ !== undefined) {
      const q = qualityOf(rawQ);
      if (q === undefined) return `quality ${t.quality.source} is ${describe(rawQ)} (expected 0..5 or one of ${[...QUALITY_NAMES.keys()].join(', ')})`;
      quality = q;
    }
  }
  return { ts, asset, signal, value, quality };
}

function reject(topic: string, receivedAt: number, message: string): SourceEvent {
  return { ts: receivedAt, kind: 'reject', message: `topic ${topic}: ${message}` };
}

function itemsOf(t: CompiledTopic, doc: unknown): unknown[] | string {
  if (t.items) {
    const arr = t.items.get(doc);
    return Array.isArray(arr) ? arr : `items ${t.items.source} is ${describe(arr)} (expected an array of readings)`;
  }
  // A payload that is itself an array is a batch of readings mapped one by one.
  return Array.isArray(doc) ? doc : [doc];
}

/**
 * Maps one message to readings. Never throws: malformed JSON, a missing path, a non-numeric
 * value or an unknown topic becomes a `reject` event naming the topic and the reason (for a
 * batched payload, one event per message listing the first bad items), so a bad publisher can
 * never stop the gateway, and the message is still acknowledged once the event is durable.
 */
function matchTopic(topics: CompiledTopic[], topic: string): { t: CompiledTopic; captures: string[] } | undefined {
  for (const t of topics) {
    const captures = t.pattern.match(topic);
    if (captures) return { t, captures };
  }
  return undefined;
}

function decodeText(t: CompiledTopic, captures: string[], topic: string, text: string, receivedAt: number): Decoded {
  const value = numberOf(text.trim());
  if (value === undefined) return { readings: [], events: [reject(topic, receivedAt, `payload ${describe(text)} is not a number (format: text)`)] };
  const asset = nameOf(t.asset(captures, undefined));
  const signal = nameOf(t.signal(captures, undefined));
  if (asset === undefined || signal === undefined) return { readings: [], events: [reject(topic, receivedAt, 'format text needs asset and signal templates over the topic (not JSON paths)')] };
  return { readings: [{ ts: receivedAt, asset, signal, value, quality: QUALITY.good }], events: [] };
}

export function decodeMessage(topics: CompiledTopic[], topic: string, payload: Buffer, receivedAt: number): Decoded {
  const found = matchTopic(topics, topic);
  if (!found) return { readings: [], events: [reject(topic, receivedAt, `no topics[] entry matches (subscribed: ${topics.map((c) => c.pattern.filter).join(', ')})`)] };
  const { t, captures } = found;
  const text = payload.toString('utf8');
  if (t.config.format === 'text') return decodeText(t, captures, topic, text, receivedAt);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { readings: [], events: [reject(topic, receivedAt, `malformed JSON (${(err as Error).message}): ${describe(text.slice(0, 60))}`)] };
  }
  const items = itemsOf(t, doc);
  if (typeof items === 'string') return { readings: [], events: [reject(topic, receivedAt, items)] };
  const readings: SourceReading[] = [];
  const bad: string[] = [];
  let badCount = 0;
  for (let i = 0; i < items.length; i++) {
    const r = itemReading(t, captures, items[i], receivedAt);
    if (typeof r === 'string') {
      badCount++;
      if (bad.length < 3) bad.push(items.length === 1 && !Array.isArray(doc) && !t.items ? r : `item ${i}: ${r}`);
    } else {
      readings.push(r);
    }
  }
  const events: SourceEvent[] = [];
  if (badCount > 0) {
    const head = items.length === 1 && !Array.isArray(doc) && !t.items ? '' : `${badCount} of ${items.length} readings rejected: `;
    events.push(reject(topic, receivedAt, `${head}${bad.join('; ')}${badCount > bad.length ? '; ...' : ''}`));
  }
  return { readings, events };
}
