import { MillwrightError } from '../errors/index.ts';
import type { EventRow } from '../store/index.ts';
import { nextState, type AlarmRecord } from './alarm-state.ts';
import { vibrationZone, VIBRATION_ZONES } from './iso-20816.ts';
import type { AlarmRules, CompiledRule } from './load-rules.ts';
import { velocityRms } from './velocity-rms.ts';

/** Readings in columns (a {@link ReadingBatch} without the site, or a store query's columns). */
export interface ReadingColumns {
  ts: ArrayLike<number>;
  asset: ArrayLike<string>;
  signal: ArrayLike<string>;
  value: ArrayLike<number>;
  /** Non-zero quality readings do not drive rules (a bad value is no value). */
  quality?: ArrayLike<number>;
}

/**
 * Readings in columns with asset and signal as codes into name lists (a dictionary-encoded scan):
 * the evaluator resolves each (asset, signal) code pair once per batch instead of per reading.
 */
export interface CodedReadingColumns {
  ts: ArrayLike<number>;
  assetCode: ArrayLike<number>;
  signalCode: ArrayLike<number>;
  assets: readonly string[];
  signals: readonly string[];
  value: ArrayLike<number>;
  quality?: ArrayLike<number>;
}

/**
 * Readings as runs of one series each (see {@link AlarmEvaluator.processSeries}): run k is the
 * series (`assets[asset[k]]`, `signals[signal[k]]`) and its rows are `order[p]` (or `p` without
 * `order`) for p in [lo[k], hi[k]), in (ts, stored) order. At most one run per series.
 */
export interface SeriesRuns {
  ts: ArrayLike<number>;
  value: ArrayLike<number>;
  quality?: ArrayLike<number>;
  assets: readonly string[];
  signals: readonly string[];
  order?: ArrayLike<number>;
  lo: ArrayLike<number>;
  hi: ArrayLike<number>;
  asset: ArrayLike<number>;
  signal: ArrayLike<number>;
  /**
   * The readings' clock after these runs when they are not all the readings of the batch (e.g.
   * a scan of the rules' signals only): the latest good reading's time over all signals.
   */
  clock?: number;
}

/** A row emitted while runs are evaluated, kept to be put in time order (see processSeries). */
interface Pending {
  row: EventRow;
  /** Time and series rank of the reading being evaluated when the row was emitted. */
  ts: number;
  rank: number;
  /** An activation at this time to count for flood protection once in order (NaN: none). */
  flood: number;
}

/** Per (rule, asset, signal) evaluation state; plain JSON so it survives restarts. */
interface Stream {
  alarm: AlarmRecord;
  lastTs: number;
  lastValue: number;
  /** Condition after the deadband, and since when it holds. */
  cond: boolean;
  condSince: number;
  /** stuck: reference value, readings and first time at it. */
  ref?: number;
  count?: number;
  since?: number;
  /** vibration (acceleration): the window being filled. */
  buf?: number[];
  bufStart?: number;
}

/** Everything an evaluator needs to continue where it stopped. */
export interface EvaluatorSnapshot {
  version: 1;
  /** Largest reading time seen (the readings' clock). */
  clock: number;
  streams: Record<string, Stream>;
  /** Threshold operating state per `ruleIndex\0asset` (or line): the state and the time of the reading that set it. */
  opStates: Record<string, [string, number]>;
  /** Alarm activations per flood window start, and windows already summarised. */
  flood: Record<string, number>;
  flooded: number[];
  /** Readings ignored because they were older than their stream's last reading. */
  late: number;
}

/** Figures of an evaluator so far. */
export interface EvaluatorCounts {
  readings: number;
  late: number;
  rows: number;
  floods: number;
}

/**
 * One stream with what its rule needs at each reading, resolved once (not persisted): the rule,
 * the threshold bands of the stream by operating state, its operating-state key, the deadband.
 */
interface Item {
  s: Stream;
  r: CompiledRule;
  /** threshold: bands of this asset/signal by state, and the operating-state key. */
  bands?: Map<string, [number, number]>;
  opKey?: string;
  maxAge: number;
  /** Deadband: an absolute amount, or a fraction (of the band width for threshold, of the limit otherwise). */
  dbAbs: number;
  dbPct: number;
}

/** What the readings of one (asset, signal) drive: resolved on first sight, reused for every reading. */
interface Route {
  asset: string;
  signal: string;
  /** Threshold rules whose operating state this signal sets (null: none). */
  stateRules: CompiledRule[] | null;
  /** Streams of this pair: undefined until the first good reading makes them, null when no rule takes it. */
  items: Item[] | null | undefined;
  /** Position of (asset, signal) in string order among the routes known: the batch sort key after ts. */
  rank: number;
}

/**
 * Evaluates alarm rules over readings incrementally, in time order, and returns the alarm rows
 * (the `events` table's `kind: 'alarm'`, one per ISA-18.2 state change) each call produced. The
 * gateway feeds it every batch the spool acknowledged and `millwright alarms run` feeds it a store
 * range in (ts, asset, signal) order, so the same readings give the same rows. Readings older
 * than their stream's last one are counted as late and ignored.
 *
 * @example
 * import { AlarmEvaluator, loadAlarmRules } from 'millwright';
 * const ev = new AlarmEvaluator(await loadAlarmRules('rules.yaml'), { site: 'plant-a' });
 * const rows = ev.process({ ts: [t0], asset: ['press1'], signal: ['temperature'], value: [93] });
 */
export class AlarmEvaluator {
  private snap: EvaluatorSnapshot;
  private readonly routes = new Map<string, Map<string, Route>>();
  private readonly routeList: Route[] = [];
  private ranksStale = false;
  /** Per-reading route of the batch being processed (reused between batches). */
  private routeBuf: Route[] = [];
  /** The evaluation of the current reading (fields, not an object per reading). */
  private eExcess = 0;
  private eValue = 0;
  private eLimit = 0;
  private eZone: string | undefined;
  /** threshold: the width of the band of the current reading (NaN: no band). */
  private eBandWidth = NaN;
  /** Rules whose operating state a signal sets: signal -> threshold rules with that state signal. */
  private readonly stateRules = new Map<string, CompiledRule[]>();
  private rows: EventRow[] = [];
  /** While runs are evaluated (processSeries): rows held back to be put in time order, and the current reading. */
  private pending: Pending[] | null = null;
  private pTs = 0;
  private pRank = 0;
  readonly counts: EvaluatorCounts = { readings: 0, late: 0, rows: 0, floods: 0 };
  private readonly ruleByName = new Map<string, CompiledRule>();

  constructor(private readonly rules: AlarmRules, private readonly opts: { site: string; snapshot?: EvaluatorSnapshot }) {
    this.snap = opts.snapshot ?? { version: 1, clock: -Infinity, streams: {}, opStates: {}, flood: {}, flooded: [], late: 0 };
    if (this.snap.version !== 1) throw new MillwrightError('BAD_INPUT', `alarm state version ${String(this.snap.version)} is not supported (expected 1)`);
    // JSON has no infinities or NaN: a saved snapshot comes back with them missing
    this.snap.clock ??= -Infinity;
    for (const s of Object.values(this.snap.streams)) {
      s.lastTs ??= -Infinity;
      s.condSince ??= -Infinity;
      s.lastValue ??= NaN;
      s.alarm.value ??= NaN;
      s.alarm.limit ??= NaN;
      s.alarm.changedAt ??= -Infinity;
    }
    for (const r of rules.rules) this.ruleByName.set(r.spec.name, r);
    for (const r of rules.rules) {
      if (r.spec.kind !== 'threshold' || !r.spec.state) continue;
      const list = this.stateRules.get(r.spec.state.signal) ?? [];
      list.push(r);
      this.stateRules.set(r.spec.state.signal, list);
    }
  }

  /** The state to persist (see {@link AlarmStateDir}). */
  snapshot(): EvaluatorSnapshot {
    return this.snap;
  }

  /** Every alarm seen so far. */
  alarms(): AlarmRecord[] {
    return Object.values(this.snap.streams).map((s) => s.alarm);
  }

  /** The readings' clock: the largest time stamp processed. */
  get clock(): number {
    return this.snap.clock;
  }

  /** The route of (asset, signal), made on first sight (streams come later, with the first good reading). */
  private routeOf(asset: string, signal: string): Route {
    let bySignal = this.routes.get(asset);
    if (!bySignal) this.routes.set(asset, (bySignal = new Map()));
    let route = bySignal.get(signal);
    if (route === undefined) {
      route = { asset, signal, stateRules: this.stateRules.get(signal) ?? null, items: undefined, rank: 0 };
      bySignal.set(signal, route);
      this.routeList.push(route);
      this.ranksStale = true;
    }
    return route;
  }

  /** Ranks of every route in (asset, signal) string order, as the batch order compares them. */
  private rerank(): void {
    this.ranksStale = false;
    const list = this.routeList;
    list.sort((x, y) => (x.asset !== y.asset ? (x.asset < y.asset ? -1 : 1) : x.signal === y.signal ? 0 : x.signal < y.signal ? -1 : 1));
    for (let i = 0; i < list.length; i++) list[i]!.rank = i;
  }

  private itemsOf(route: Route): Item[] | null {
    const { asset, signal } = route;
    const made: Item[] = [];
    for (const r of this.rules.rules) {
      if (!r.matchAsset(asset) || !r.matchSignal(signal)) continue;
      if (r.spec.kind === 'vibration' && !r.zoneLimits?.has(asset)) continue;
      if (r.spec.kind === 'threshold' && r.spec.state?.signal === signal) continue;
      if (r.spec.kind === 'threshold' && !this.hasBand(r, asset, signal)) continue;
      const id = `${r.spec.name}/${asset}/${signal}`;
      let s = this.snap.streams[id];
      if (!s) {
        s = {
          alarm: { id, rule: r.spec.name, asset, signal, severity: r.spec.severity, state: 'normal', active: false, value: NaN, limit: NaN, changedAt: -Infinity },
          lastTs: -Infinity, lastValue: NaN, cond: false, condSince: -Infinity,
        };
        this.snap.streams[id] = s;
      }
      made.push(this.item(r, s));
    }
    route.items = made.length > 0 ? made : null;
    return route.items;
  }

  private item(r: CompiledRule, s: Stream): Item {
    const d = r.spec.deadband;
    const it: Item = {
      s, r, maxAge: r.spec.kind === 'threshold' ? (r.spec.state?.maxAge ?? Infinity) : Infinity,
      dbAbs: typeof d === 'number' ? d : 0, dbPct: typeof d === 'string' ? Number(d.slice(0, -1)) / 100 : NaN,
    };
    if (r.spec.kind === 'threshold') {
      const prefix = `${r.perAsset ? s.alarm.asset : 'all'}\u0000${s.alarm.signal}\u0000`;
      it.bands = new Map();
      for (const [k, b] of r.bands!) if (k.startsWith(prefix)) it.bands.set(k.slice(prefix.length), b);
      it.opKey = opKey(r, s.alarm.asset);
    }
    return it;
  }

  private hasBand(r: CompiledRule, asset: string, signal: string): boolean {
    const a = r.perAsset ? asset : 'all';
    for (const k of r.bands!.keys()) if (k.startsWith(`${a}\u0000${signal}\u0000`)) return true;
    return false;
  }

  /**
   * Processes readings (sorted here by ts, asset, signal when they are not already) and returns
   * the rows of the state changes they caused, then checks no-data rules and shelve expiry
   * against the readings' clock.
   */
  process(batch: ReadingColumns | CodedReadingColumns): EventRow[] {
    this.rows = [];
    const n = batch.ts.length;
    const { ts: tsCol, value: valueCol, quality } = batch;
    if (this.routeBuf.length < n) this.routeBuf = new Array<Route>(n);
    const routes = this.routeBuf;
    if ('assetCode' in batch) {
      const { assetCode, signalCode, assets, signals } = batch;
      const width = signals.length;
      const byCode = new Array<Route | undefined>(assets.length * width);
      for (let i = 0; i < n; i++) {
        const a = assetCode[i]!;
        const s = signalCode[i]!;
        routes[i] = byCode[a * width + s] ??= this.routeOf(assets[a]!, signals[s]!);
      }
    } else {
      const { asset: assetCol, signal: signalCol } = batch;
      for (let i = 0; i < n; i++) routes[i] = this.routeOf(assetCol[i]!, signalCol[i]!);
    }
    if (this.ranksStale) this.rerank();
    const order = sortedOrder(tsCol, routes, n);
    for (let k = 0; k < n; k++) {
      const i = order ? order[k]! : k;
      if (quality && quality[i] !== 0) continue;
      const ts = tsCol[i]!;
      const value = valueCol[i]!;
      const route = routes[i]!;
      if (ts > this.snap.clock) this.snap.clock = ts;
      if (route.stateRules !== null) this.updateOpState(route.stateRules, route.asset, value, ts);
      const items = route.items === undefined ? this.itemsOf(route) : route.items;
      if (items === null) continue;
      this.counts.readings++;
      for (let j = 0; j < items.length; j++) this.step(items[j]!, ts, value);
    }
    routes.fill(undefined as unknown as Route, 0, n); // hold no routes past the batch
    this.tick();
    this.counts.rows += this.rows.length;
    return this.rows;
  }

  /** Whether every rule's streams are independent of other series' readings (no threshold rule with an operating state): what {@link processSeries} needs. */
  get seriesIndependent(): boolean {
    return this.stateRules.size === 0;
  }

  /**
   * Like {@link process}, on readings as runs of one series each in time order (a store scan in
   * stored order needs no sort into global time order then): every stream depends on its own
   * series only, so each run is evaluated whole, then the rows are put in the order `process`
   * gives on the same readings in (ts, asset, signal) order, flood protection counts them in that
   * order, and streams are made in the order of their first good reading, so rows and snapshot
   * are the same as `process` gives. Needs {@link seriesIndependent}.
   */
  processSeries(b: SeriesRuns): EventRow[] {
    if (!this.seriesIndependent) throw new MillwrightError('BAD_INPUT', 'alarm rules with an operating state (threshold state.signal) need readings in time order: use process(), not processSeries()');
    this.rows = [];
    const { routes, clock } = this.runRoutes(b);
    const { ts: tsCol, value: valueCol, quality, order } = b;
    const pending: Pending[] = (this.pending = []);
    try {
      for (let k = 0; k < routes.length; k++) {
        const items = routes[k]!.items;
        if (!items) continue;
        this.pRank = routes[k]!.rank;
        for (let p = b.lo[k]!; p < b.hi[k]!; p++) {
          const i = order ? order[p]! : p;
          if (quality && quality[i] !== 0) continue;
          const ts = tsCol[i]!;
          const value = valueCol[i]!;
          this.pTs = ts;
          this.counts.readings++;
          for (let j = 0; j < items.length; j++) this.step(items[j]!, ts, value);
        }
      }
    } finally {
      this.pending = null;
    }
    // Rows of one reading (one series) were pushed in their order: a stable sort by (ts, series) gives process()'s order.
    pending.sort((x, y) => x.ts - y.ts || x.rank - y.rank);
    for (const p of pending) {
      this.rows.push(p.row);
      if (!Number.isNaN(p.flood)) this.countFlood(p.flood);
    }
    this.snap.clock = clock;
    this.tick();
    this.counts.rows += this.rows.length;
    return this.rows;
  }

  /**
   * The route of each run, with the streams of new routes made in the order of their first good
   * reading in (ts, asset, signal) order, as process() makes them; and the clock after the runs.
   */
  private runRoutes(b: SeriesRuns): { routes: Route[]; clock: number } {
    const runs = b.lo.length;
    const { ts: tsCol, quality, order } = b;
    const routes = new Array<Route>(runs);
    const fresh: { k: number; ts: number }[] = [];
    const seen = new Set<Route>();
    let clock = Math.max(this.snap.clock, b.clock ?? -Infinity);
    for (let k = 0; k < runs; k++) {
      const route = (routes[k] = this.routeOf(b.assets[b.asset[k]!]!, b.signals[b.signal[k]!]!));
      if (seen.size === seen.add(route).size) throw new MillwrightError('BAD_INPUT', `processSeries: two runs of ${route.asset}/${route.signal} in one batch`);
      // the run's first and last good reading (runs are in time order)
      let first = NaN;
      let last = NaN;
      for (let p = b.lo[k]!; p < b.hi[k]!; p++) {
        const i = order ? order[p]! : p;
        if (quality && quality[i] !== 0) continue;
        first = tsCol[i]!;
        break;
      }
      for (let p = b.hi[k]! - 1; p >= b.lo[k]!; p--) {
        const i = order ? order[p]! : p;
        if (quality && quality[i] !== 0) continue;
        last = tsCol[i]!;
        break;
      }
      if (last > clock) clock = last;
      if (route.items === undefined && !Number.isNaN(first)) fresh.push({ k, ts: first });
    }
    if (this.ranksStale) this.rerank();
    fresh.sort((x, y) => x.ts - y.ts || routes[x.k]!.rank - routes[y.k]!.rank);
    for (const f of fresh) this.itemsOf(routes[f.k]!);
    return { routes, clock };
  }

  private updateOpState(rules: CompiledRule[], asset: string, value: number, ts: number): void {
    for (const r of rules) {
      const st = r.spec.kind === 'threshold' ? r.spec.state : undefined;
      if (!st || (st.scope === 'asset' && !r.matchAsset(asset)) || !r.stateAsset!(asset)) continue;
      const key = opKey(r, asset);
      const was = this.snap.opStates[key]?.[0];
      const running = was === st.running ? value >= (st.off ?? st.on) : value >= st.on;
      this.snap.opStates[key] = [running ? st.running : st.idle, ts];
    }
  }

  /** The band of a threshold stream at `ts` (undefined when the state is unknown or stale). */
  private band(it: Item, ts: number): [number, number] | undefined {
    if (!it.r.perState) return it.bands!.get('all');
    const st = this.snap.opStates[it.opKey!];
    return st && ts - st[1] <= it.maxAge ? it.bands!.get(st[0]) : undefined;
  }

  private noLimit(): void {
    this.eExcess = -Infinity;
    this.eValue = NaN;
    this.eLimit = NaN;
  }

  /** Sets the evaluation of a two-sided limit: the side the value is further beyond. */
  private twoSided(value: number, lo: number, hi: number, loLimit: number, hiLimit: number): void {
    this.eValue = value;
    if (hi >= lo) {
      this.eExcess = hi;
      this.eLimit = hiLimit;
    } else {
      this.eExcess = lo;
      this.eLimit = loLimit;
    }
  }

  private step(it: Item, ts: number, value: number): void {
    const s = it.s;
    if (ts < s.lastTs) {
      this.counts.late++;
      this.snap.late++;
      return;
    }
    const r = it.r;
    if (s.alarm.shelvedUntil !== undefined && ts >= s.alarm.shelvedUntil) this.unshelve(s, s.alarm.shelvedUntil);
    if (ts < r.from || ts >= r.to) {
      s.lastTs = ts;
      s.lastValue = value;
      return;
    }
    this.eZone = undefined;
    this.eBandWidth = NaN;
    const spec = r.spec;
    switch (spec.kind) {
      case 'limit':
        this.twoSided(value, spec.lo === undefined ? -Infinity : spec.lo - value, spec.hi === undefined ? -Infinity : value - spec.hi, spec.lo!, spec.hi!);
        break;
      case 'model-output':
        this.eExcess = value - spec.above;
        this.eValue = value;
        this.eLimit = spec.above;
        break;
      case 'threshold': {
        const band = this.band(it, ts);
        if (!band) {
          this.noLimit();
          break;
        }
        this.eBandWidth = band[1] - band[0];
        this.twoSided(value, band[0] - value, value - band[1], band[0], band[1]);
        break;
      }
      case 'rate': {
        if (!(ts > s.lastTs) || Number.isNaN(s.lastValue)) {
          this.noLimit();
          break;
        }
        const perMin = ((value - s.lastValue) * 60_000) / (ts - s.lastTs);
        this.eExcess = Math.abs(perMin) - spec.perMinute;
        this.eValue = perMin;
        this.eLimit = spec.perMinute;
        break;
      }
      case 'stuck': {
        if (s.ref === undefined || Math.abs(value - s.ref) > spec.tolerance) {
          s.ref = value;
          s.count = 1;
          s.since = ts;
        } else s.count!++;
        const stuck = (spec.readings === undefined || s.count! >= spec.readings) && (spec.for === undefined || ts - s.since! >= spec.for);
        this.eExcess = stuck ? 1 : -Infinity;
        this.eValue = s.count!;
        this.eLimit = spec.readings ?? spec.for!;
        break;
      }
      case 'no-data': {
        const d = spec.for + (spec.minDuration ?? 0);
        if (s.lastTs > -Infinity && ts - s.lastTs > d && !s.alarm.active) this.transition(s, 'activate', s.lastTs + d, ts - s.lastTs, spec.for);
        if (s.alarm.active) this.transition(s, 'clear', ts, ts - s.lastTs, spec.for);
        s.lastTs = ts;
        s.lastValue = value;
        return;
      }
      case 'vibration': {
        const bounds = r.zoneLimits!.get(s.alarm.asset)!;
        const limit = bounds[VIBRATION_ZONES.indexOf(spec.zone) - 1] ?? 0;
        let v = value;
        if (spec.input === 'acceleration') {
          s.buf ??= [];
          if (s.buf.length === 0) s.bufStart = ts;
          s.buf.push(value);
          if (s.buf.length < spec.window) {
            s.lastTs = ts;
            s.lastValue = value;
            return;
          }
          const span = ts - s.bufStart!;
          const rate = span > 0 ? ((s.buf.length - 1) * 1000) / span : NaN;
          v = Number.isFinite(rate) ? velocityRms(s.buf, rate) : NaN;
          s.buf = [];
          if (!Number.isFinite(v)) {
            s.lastTs = ts;
            return;
          }
        }
        this.eExcess = v - limit;
        this.eValue = v;
        this.eLimit = limit;
        this.eZone = vibrationZone(v, bounds);
        break;
      }
    }
    s.lastTs = ts;
    s.lastValue = value;
    this.decide(it, ts);
  }

  /** The deadband of the current evaluation: absolute, or a percentage of the band width (threshold) or of the limit. */
  private deadband(it: Item): number {
    if (it.r.spec.deadband === undefined) return 0;
    if (Number.isNaN(it.dbPct)) return it.dbAbs;
    if (it.r.spec.kind === 'threshold') return Number.isNaN(this.eBandWidth) ? 0 : it.dbPct * this.eBandWidth;
    return it.dbPct * Math.abs(this.eLimit);
  }

  private decide(it: Item, ts: number): void {
    const s = it.s;
    const excess = this.eExcess;
    if (!s.cond) {
      if (excess > 0) {
        s.cond = true;
        s.condSince = ts;
      }
    } else if (excess <= -this.deadband(it)) s.cond = false;
    const value = this.eValue;
    if (Number.isFinite(value)) {
      s.alarm.value = value;
      s.alarm.limit = this.eLimit;
    }
    const want = s.cond && ts - s.condSince >= (it.r.spec.minDuration ?? 0);
    if (want && !s.alarm.active) this.transition(s, 'activate', ts, value, this.eLimit, this.eZone);
    else if (!s.cond && s.alarm.active) this.transition(s, 'clear', ts, value, this.eLimit, this.eZone);
  }

  private transition(s: Stream, event: 'activate' | 'clear', ts: number, value: number, limit: number, zone?: string): void {
    const a = s.alarm;
    a.active = event === 'activate';
    if (event === 'activate') {
      a.activeSince = ts;
      a.clearedAt = undefined;
    } else a.clearedAt = ts;
    a.value = value;
    a.limit = limit;
    if (a.shelvedUntil !== undefined) return;
    const to = nextState(a.state, event);
    if (to === a.state) return;
    a.state = to;
    a.changedAt = ts;
    this.emit(a, ts, zone);
    if (event === 'activate') this.activated(ts);
  }

  private emit(a: AlarmRecord, ts: number, zone?: string, extra: Record<string, unknown> = {}): void {
    const msg: Record<string, unknown> = { state: a.state, value: a.value, limit: a.limit, rule: a.rule, ...(zone ? { zone } : {}), ...extra };
    const row: EventRow = {
      ts, site: this.opts.site, source: a.rule, kind: 'alarm', asset: a.asset, signal: a.signal,
      from: a.activeSince, to: a.active ? undefined : a.clearedAt, severity: a.severity,
      message: JSON.stringify(msg, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)),
      id: `alarm:${a.id}:${ts}:${a.state}${extra.shelved !== undefined ? ':shelve' : ''}`,
    };
    if (this.pending) this.pending.push({ row, ts: this.pTs, rank: this.pRank, flood: NaN });
    else this.rows.push(row);
  }

  /** An alarm became unack-active at `ts`: flood counting (held back with the row while runs are evaluated). */
  private activated(ts: number): void {
    if (this.pending) this.pending[this.pending.length - 1]!.flood = ts;
    else this.countFlood(ts);
  }

  private countFlood(ts: number): void {
    const f = this.rules.flood;
    if (!f) return;
    const start = Math.floor(ts / f.window) * f.window;
    const key = String(start);
    const n = (this.snap.flood[key] ?? 0) + 1;
    this.snap.flood[key] = n;
    if (n === f.max + 1 && !this.snap.flooded.includes(start)) {
      this.snap.flooded.push(start);
      this.counts.floods++;
      this.rows.push({
        ts: start, site: this.opts.site, source: 'alarms', kind: 'alarm-flood', from: start, to: start + f.window, severity: 'error',
        message: JSON.stringify({ count: n, max: f.max, window: f.window }), id: `alarm-flood:${start}`,
      });
    }
    // keep the last windows only: counts of long-past windows cannot change any more
    const keys = Object.keys(this.snap.flood);
    if (keys.length > 256) for (const k of keys.map(Number).sort((x, y) => x - y).slice(0, keys.length - 128)) delete this.snap.flood[String(k)];
    if (this.snap.flooded.length > 256) this.snap.flooded = this.snap.flooded.slice(-128);
  }

  /** No-data rules and shelve expiry against the readings' clock. */
  private tick(): void {
    const clock = this.snap.clock;
    for (const s of Object.values(this.snap.streams)) {
      const a = s.alarm;
      if (a.shelvedUntil !== undefined && clock >= a.shelvedUntil) this.unshelve(s, a.shelvedUntil);
      const r = this.ruleByName.get(a.rule);
      if (r?.spec.kind !== 'no-data' || a.active || s.lastTs === -Infinity) continue;
      const d = r.spec.for + (r.spec.minDuration ?? 0);
      if (clock - s.lastTs > d && s.lastTs + d < r.to) this.transition(s, 'activate', s.lastTs + d, clock - s.lastTs, r.spec.for);
    }
  }

  private unshelve(s: Stream, at: number): void {
    const a = s.alarm;
    a.shelvedUntil = undefined;
    a.note = undefined;
    if (a.active && a.state === 'normal') {
      a.state = 'unack-active';
      a.activeSince = Math.max(a.activeSince ?? at, at);
      a.changedAt = at;
      this.emit(a, at, undefined, { unshelved: true });
      this.activated(at);
    }
  }

  private find(id: string): Stream {
    const s = this.snap.streams[id];
    if (!s) {
      const known = Object.keys(this.snap.streams);
      throw new MillwrightError('NOT_FOUND', `no alarm ${JSON.stringify(id)} (expected rule/asset/signal, one of: ${known.slice(0, 10).join(', ') || 'none yet'}${known.length > 10 ? ', ...' : ''})`);
    }
    return s;
  }

  /** Operator acknowledges an alarm at `ts`: unack-active -> ack-active, cleared-unack -> normal. Returns the row (none when nothing changed). */
  ack(id: string, ts: number, note?: string): EventRow[] {
    this.rows = [];
    const s = this.find(id);
    const to = nextState(s.alarm.state, 'ack');
    if (to !== s.alarm.state) {
      s.alarm.state = to;
      s.alarm.changedAt = ts;
      this.emit(s.alarm, ts, undefined, note ? { note } : {});
    }
    this.counts.rows += this.rows.length;
    return this.rows;
  }

  /**
   * Operator shelves an alarm until `until` (readings' clock): it returns to normal and writes no
   * rows until then; at expiry an alarm whose condition still holds becomes unack-active again.
   */
  shelve(id: string, ts: number, until: number, note?: string): EventRow[] {
    this.rows = [];
    if (!(until > ts)) throw new MillwrightError('BAD_INPUT', `shelve ${id}: until ${new Date(until).toISOString()} is not after ${new Date(ts).toISOString()}`);
    const s = this.find(id);
    s.alarm.shelvedUntil = until;
    s.alarm.note = note;
    s.alarm.state = 'normal';
    s.alarm.changedAt = ts;
    this.emit(s.alarm, ts, undefined, { shelved: until, ...(note ? { note } : {}) });
    this.counts.rows += this.rows.length;
    return this.rows;
  }
}

/** Key of an operating state: per asset, or per line with `state.scope: line`. */
function opKey(r: CompiledRule, asset: string): string {
  return `${r.index}\u0000${r.lineOf?.get(asset) ?? asset}`;
}

/**
 * The order that sorts a batch by (ts, asset, signal), or undefined when it already is; (asset,
 * signal) compare by their routes' ranks (string order), so no string is compared per reading.
 * Batches in time order with readings of one instant in another order (a poll of many tags) sort
 * run by run; only a batch out of time order sorts whole. Ties keep their batch order.
 */
function sortedOrder(ts: ArrayLike<number>, routes: Route[], n: number): Uint32Array | undefined {
  let timeSorted = true;
  let sorted = true;
  for (let i = 1; i < n; i++) {
    const d = ts[i]! - ts[i - 1]!;
    if (d < 0) {
      timeSorted = false;
      sorted = false;
      break;
    }
    if (d === 0 && routes[i]!.rank < routes[i - 1]!.rank) sorted = false;
  }
  if (sorted) return undefined;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const byRank = (i: number, j: number): number => routes[i]!.rank - routes[j]!.rank || i - j;
  if (!timeSorted) return order.sort((i, j) => ts[i]! - ts[j]! || byRank(i, j));
  // A poll delivers the same tags in the same order at every instant: a run whose routes are the
  // previous unsorted run's, one for one, takes that run's permutation instead of sorting again.
  let prevLo = -1;
  let prevLen = 0;
  for (let lo = 0; lo < n; ) {
    let hi = lo + 1;
    let runSorted = true;
    while (hi < n && ts[hi] === ts[lo]) {
      if (routes[hi]!.rank < routes[hi - 1]!.rank) runSorted = false;
      hi++;
    }
    if (!runSorted) {
      const len = hi - lo;
      let same = len === prevLen;
      for (let k = 0; same && k < len; k++) same = routes[lo + k] === routes[prevLo + k];
      if (same) for (let k = 0; k < len; k++) order[lo + k] = order[prevLo + k]! - prevLo + lo;
      else {
        order.subarray(lo, hi).sort(byRank);
        prevLo = lo;
        prevLen = len;
      }
    }
    lo = hi;
  }
  return order;
}
