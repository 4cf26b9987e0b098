import { compileJsonPath, type JsonPath } from '../json-path.ts';
import { compileTemplate, compileTopicPattern, type TopicPattern } from '../topic-pattern.ts';
import { QUALITY, type QualityCode, type SourceEvent, type SourceReading } from '../source.ts';
import { compileFlatKeys, scanFlatJson, type FlatKeys } from './flat-json.ts';

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

/** Where the fast path finds a field: an index into the scanned keys, the payload itself, or nowhere (not configured, or a topic template). */
const ROOT = -1;
const NONE = -2;

/**
 * The plan of the byte-level fast path ({@link scanFlatJson}) for an entry whose paths are all
 * `$` or `$.key`, without `items`: which keys to pick out and which field each one feeds.
 */
interface FlatPlan {
  keys: FlatKeys;
  asset: number;
  signal: number;
  value: number;
  ts: number;
  quality: number;
}

/** A topic entry compiled once at start-up. */
export interface CompiledTopic {
  config: MqttTopicConfig;
  pattern: TopicPattern;
  asset: NameFn;
  signal: NameFn;
  /** The asset and signal templates over the topic (undefined for a JSON path name). */
  assetTemplate?: (captures: string[]) => string;
  signalTemplate?: (captures: string[]) => string;
  value: JsonPath;
  ts?: JsonPath;
  tsScale: number;
  quality?: JsonPath;
  items?: JsonPath;
  /** Set when the payload can be read by the fast path (still falling back per message). */
  flat?: FlatPlan;
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

/** The fast path's plan, or undefined when a path has more than one step (or `items` is set). */
function flatPlan(config: MqttTopicConfig, paths: { asset?: JsonPath; signal?: JsonPath; value: JsonPath; ts?: JsonPath; quality?: JsonPath; items?: JsonPath }): FlatPlan | undefined {
  if (config.format !== 'json' || paths.items) return undefined;
  const keys: string[] = [];
  const slot = (p: JsonPath | undefined): number | undefined => {
    if (!p) return NONE;
    if (p.steps.length === 0) return ROOT;
    const step = p.steps[0];
    if (p.steps.length !== 1 || typeof step !== 'string') return undefined;
    const at = keys.indexOf(step);
    if (at >= 0) return at;
    keys.push(step);
    return keys.length - 1;
  };
  const asset = slot(paths.asset);
  const signal = slot(paths.signal);
  const value = slot(paths.value);
  const ts = slot(paths.ts);
  const quality = slot(paths.quality);
  if (asset === undefined || signal === undefined || value === undefined || ts === undefined || quality === undefined) return undefined;
  const flat = compileFlatKeys(keys);
  return flat ? { keys: flat, asset, signal, value, ts, quality } : undefined;
}

/**
 * Compiles a topic entry (topic filter, templates, JSON paths). Throws BAD_INPUT naming the key.
 */
export function compileTopic(config: MqttTopicConfig): CompiledTopic {
  const pattern = compileTopicPattern(config.topic);
  const assetPath = config.asset.startsWith('$') ? compileJsonPath(config.asset) : undefined;
  const signalPath = config.signal.startsWith('$') ? compileJsonPath(config.signal) : undefined;
  const value = compileJsonPath(config.value);
  const ts = config.ts === undefined ? undefined : compileJsonPath(config.ts);
  const quality = config.quality === undefined ? undefined : compileJsonPath(config.quality);
  const items = config.items === undefined ? undefined : compileJsonPath(config.items, { allowAll: true });
  return {
    config,
    pattern,
    asset: nameFn(config.asset, pattern, 'asset'),
    signal: nameFn(config.signal, pattern, 'signal'),
    assetTemplate: assetPath ? undefined : compileTemplate(config.asset, pattern, 'asset'),
    signalTemplate: signalPath ? undefined : compileTemplate(config.signal, pattern, 'signal'),
    value,
    ts,
    tsScale: TS_SCALE[config.tsUnit],
    quality,
    items,
    flat: flatPlan(config, { asset: assetPath, signal: signalPath, value, ts, quality, items }),
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

/** The raw fields of one item, as found in the payload (or rendered from the topic). */
interface RawFields {
  asset: unknown;
  signal: unknown;
  value: unknown;
  ts: unknown;
  quality: unknown;
}

/** Maps one JSON item to a reading, or returns why it cannot be one. */
function itemReading(m: TopicMatch, item: unknown, receivedAt: number): SourceReading | string {
  const t = m.t;
  const asset = t.assetTemplate ? m.asset : t.asset(m.captures, item);
  const signal = t.signalTemplate ? m.signal : t.signal(m.captures, item);
  return fieldsReading(t, { asset, signal, value: t.value.get(item), ts: t.ts?.get(item), quality: t.quality?.get(item) }, receivedAt);
}

/** Maps an item's raw fields to a reading, or returns why it cannot be one (the one set of rules of both paths). */
function fieldsReading(t: CompiledTopic, f: RawFields, receivedAt: number): SourceReading | string {
  const asset = nameOf(f.asset);
  if (asset === undefined) return `asset ${t.config.asset} is ${describe(f.asset)} (expected a non-empty string)`;
  const signal = nameOf(f.signal);
  if (signal === undefined) return `signal ${t.config.signal} is ${describe(f.signal)} (expected a non-empty string)`;
  const raw = f.value;
  const value = numberOf(raw);
  if (value === undefined) return `value ${t.value.source} is ${describe(raw)} (expected a finite number or a boolean)`;
  let ts = receivedAt;
  if (t.ts) {
    const rawTs = f.ts;
    const n = typeof rawTs === 'number' ? rawTs * t.tsScale : typeof rawTs === 'string' ? Date.parse(rawTs) : NaN;
    if (!Number.isFinite(n)) return `ts ${t.ts.source} is ${describe(rawTs)} (expected epoch ${t.config.tsUnit} or an ISO-8601 time)`;
    ts = n;
  }
  let quality: QualityCode = QUALITY.good;
  if (t.quality) {
    const rawQ = f.quality;
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

/** A topic matched to its entry: the wildcard captures and the names its templates render to. */
interface TopicMatch {
  t: CompiledTopic;
  captures: string[];
  /** The rendered asset and signal templates (undefined for JSON path names). */
  asset: string | undefined;
  signal: string | undefined;
}

function matchTopic(topics: CompiledTopic[], topic: string): TopicMatch | undefined {
  for (const t of topics) {
    const captures = t.pattern.match(topic);
    if (captures) return { t, captures, asset: t.assetTemplate?.(captures), signal: t.signalTemplate?.(captures) };
  }
  return undefined;
}

function unmatched(topics: CompiledTopic[], topic: string, receivedAt: number): Decoded {
  return { readings: [], events: [reject(topic, receivedAt, `no topics[] entry matches (subscribed: ${topics.map((c) => c.pattern.filter).join(', ')})`)] };
}

function decodeText(m: TopicMatch, topic: string, text: string, receivedAt: number): Decoded {
  const t = m.t;
  const value = numberOf(text.trim());
  if (value === undefined) return { readings: [], events: [reject(topic, receivedAt, `payload ${describe(text)} is not a number (format: text)`)] };
  const asset = nameOf(t.asset(m.captures, undefined));
  const signal = nameOf(t.signal(m.captures, undefined));
  if (asset === undefined || signal === undefined) return { readings: [], events: [reject(topic, receivedAt, 'format text needs asset and signal templates over the topic (not JSON paths)')] };
  return { readings: [{ ts: receivedAt, asset, signal, value, quality: QUALITY.good }], events: [] };
}

/** The general path: the payload decoded as UTF-8 and parsed with JSON.parse. */
function decodeParsed(m: TopicMatch, topic: string, payload: Buffer, receivedAt: number): Decoded {
  const t = m.t;
  const text = payload.toString('utf8');
  if (t.config.format === 'text') return decodeText(m, topic, text, receivedAt);
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
    const r = itemReading(m, items[i], receivedAt);
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

/** Shared by the fast path's results that have no events (never written to). */
const NO_EVENTS: SourceEvent[] = Object.freeze([]) as unknown as SourceEvent[];

/** A field the fast path found at `slot` (see {@link FlatPlan}); GIVE_UP when it needs the general path. */
const GIVE_UP = Symbol('give up');

function flatField(slot: number, kind: 'object' | 'scalar', values: unknown[], scalar: unknown): unknown {
  if (slot >= 0) return kind === 'object' ? values[slot] : undefined;
  if (slot === ROOT) return kind === 'scalar' ? scalar : GIVE_UP; // `$` of an object: the general path describes it
  return undefined;
}

/**
 * Maps one message to readings. Never throws: malformed JSON, a missing path, a non-numeric
 * value or an unknown topic becomes a `reject` event naming the topic and the reason (for a
 * batched payload, one event per message listing the first bad items), so a bad publisher can
 * never stop the gateway, and the message is still acknowledged once the event is durable.
 * This is the general path on its own (no cache, no fast path); the source uses {@link MqttDecoder}.
 */
export function decodeMessage(topics: CompiledTopic[], topic: string, payload: Buffer, receivedAt: number): Decoded {
  const m = matchTopic(topics, topic);
  return m ? decodeParsed(m, topic, payload, receivedAt) : unmatched(topics, topic, receivedAt);
}

/** Topics remembered by one decoder; past this the memory is cleared and refilled (a plant has far fewer). */
const MAX_CACHED_TOPICS = 10_000;

/**
 * The MQTT source's decoder: {@link decodeMessage}'s results, faster. A received topic is matched
 * and its templates rendered once, then remembered (a plant publishes the same topics over and
 * over); a payload whose paths are all `$.key` (or `$`) is read from its bytes by
 * {@link scanFlatJson} when it is a flat object or a bare value, and parsed with JSON.parse
 * otherwise. Both paths give the same readings and the same rejects (tested side by side).
 */
export class MqttDecoder {
  private readonly cache = new Map<string, TopicMatch>();
  private readonly values: unknown[] = [];
  private readonly fields: RawFields = { asset: undefined, signal: undefined, value: undefined, ts: undefined, quality: undefined };

  constructor(
    private readonly topics: CompiledTopic[],
    private readonly options: { fastJson?: boolean } = {},
  ) {}

  decode(topic: string, payload: Buffer, receivedAt: number): Decoded {
    let m = this.cache.get(topic);
    if (m === undefined) {
      m = matchTopic(this.topics, topic);
      if (!m) return unmatched(this.topics, topic, receivedAt);
      if (this.cache.size >= MAX_CACHED_TOPICS) this.cache.clear();
      this.cache.set(topic, m);
    }
    const plan = m.t.flat;
    if (plan && this.options.fastJson !== false) {
      const scan = scanFlatJson(payload, plan.keys, this.values);
      if (scan) {
        const values = scan.kind === 'object' ? scan.values : this.values;
        const scalar = scan.kind === 'scalar' ? scan.value : undefined;
        const f = this.fields;
        f.asset = m.t.assetTemplate ? m.asset : flatField(plan.asset, scan.kind, values, scalar);
        f.signal = m.t.signalTemplate ? m.signal : flatField(plan.signal, scan.kind, values, scalar);
        f.value = flatField(plan.value, scan.kind, values, scalar);
        f.ts = flatField(plan.ts, scan.kind, values, scalar);
        f.quality = flatField(plan.quality, scan.kind, values, scalar);
        if (f.asset !== GIVE_UP && f.signal !== GIVE_UP && f.value !== GIVE_UP && f.ts !== GIVE_UP && f.quality !== GIVE_UP) {
          const r = fieldsReading(m.t, f, receivedAt);
          return typeof r === 'string' ? { readings: [], events: [reject(topic, receivedAt, r)] } : { readings: [r], events: NO_EVENTS };
        }
      }
    }
    return decodeParsed(m, topic, payload, receivedAt);
  }
}
