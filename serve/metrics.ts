import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { MonitoringRow } from '../lib/store/write-monitoring.ts';
import { LatencyHistogram } from './latency-histogram.ts';

/** The last monitoring run's results as gauges (set by `setMonitoringGauges`). */
export interface MonitoringGauges {
  driftScore: Gauge<'feature' | 'test'>;
  drifted: Gauge<'feature'>;
  violations: Gauge;
  violationsByCheck: Gauge<'check'>;
  attribution: Gauge<'feature' | 'label'>;
  attributionRank: Gauge<'feature' | 'label'>;
  attributionNdcg: Gauge<'label'>;
  estimatedPerformance: Gauge<'metric'>;
  estimatedPerformanceAlert: Gauge<'metric'>;
  modelQuality: Gauge<'metric'>;
  groundTruthPairs: Gauge;
  lastRun: Gauge;
}

/** The server's Prometheus metrics, on their own registry so several servers can share a process (tests). */
export interface ServeMetrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  /** Request duration by route (serve/latency-histogram.ts: prom-client's histogram format, cheaper to observe). */
  latency: LatencyHistogram;
  rows: Counter;
  modelInfo: Gauge<'name' | 'version' | 'algorithm'>;
  reloads: Counter<'result'>;
  captured: Counter;
  inFlight: Gauge;
  labels: Counter<'source'>;
  monitoring: MonitoringGauges;
  /** Invocations answered on the HTTP thread (serve/inline-model.ts) rather than by a worker. */
  inline: Counter;
}

/** Bounds (seconds) of the request duration histogram. */
export const LATENCY_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Creates the metric set (prefix `millwright_`), including Node process metrics. */
export function createMetrics(): ServeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'millwright_' });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({ name: 'millwright_http_requests_total', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'], registers }),
    latency: new LatencyHistogram({
      name: 'millwright_http_request_duration_seconds',
      help: 'Time from request start to response end, by route',
      labelName: 'route',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    rows: new Counter({ name: 'millwright_predictions_total', help: 'Rows predicted', registers }),
    modelInfo: new Gauge({ name: 'millwright_model_info', help: 'The model version being served (value 1)', labelNames: ['name', 'version', 'algorithm'], registers }),
    reloads: new Counter({ name: 'millwright_model_reloads_total', help: 'Model reload attempts by result (swapped, rejected)', labelNames: ['result'], registers }),
    captured: new Counter({ name: 'millwright_capture_events_total', help: 'Requests written to data capture', registers }),
    inFlight: new Gauge({ name: 'millwright_invocations_in_flight', help: 'Invocations queued or running', registers }),
    inline: new Counter({ name: 'millwright_invocations_inline_total', help: 'Invocations answered on the HTTP thread (small body, cheap model) instead of a worker', registers }),
    labels: new Counter({ name: 'millwright_ground_truth_labels_total', help: 'Labels stored, by source (http, folder)', labelNames: ['source'], registers }),
    monitoring: {
      driftScore: new Gauge({ name: 'millwright_drift_score', help: 'Last monitoring run: the drift test value per feature (a p-value for ks/chisquare, a distance otherwise; +Inf when infinite)', labelNames: ['feature', 'test'], registers }),
      drifted: new Gauge({ name: 'millwright_drift_detected', help: 'Last monitoring run: 1 when the feature drifted', labelNames: ['feature'], registers }),
      violations: new Gauge({ name: 'millwright_violations', help: 'Last monitoring run: constraint and attribution violations', registers }),
      violationsByCheck: new Gauge({ name: 'millwright_violations_by_check', help: 'Last monitoring run: violations by constraint check type', labelNames: ['check'], registers }),
      attribution: new Gauge({ name: 'millwright_attribution', help: 'Last monitoring run: global attribution (mean abs TreeSHAP) per feature and label', labelNames: ['feature', 'label'], registers }),
      attributionRank: new Gauge({ name: 'millwright_attribution_rank', help: 'Last monitoring run: attribution rank per feature and label (1 = largest)', labelNames: ['feature', 'label'], registers }),
      attributionNdcg: new Gauge({ name: 'millwright_attribution_ndcg', help: 'Last monitoring run: nDCG of the attribution ranking against the baseline (violation below 0.9)', labelNames: ['label'], registers }),
      estimatedPerformance: new Gauge({ name: 'millwright_estimated_performance', help: 'Last monitoring run: estimated performance (DLE / CBPE) of the latest chunk', labelNames: ['metric'], registers }),
      estimatedPerformanceAlert: new Gauge({ name: 'millwright_estimated_performance_alert', help: 'Last monitoring run: 1 when the latest chunk estimate is outside the reference band', labelNames: ['metric'], registers }),
      modelQuality: new Gauge({ name: 'millwright_model_quality', help: 'Last monitoring run: model quality from merged ground truth', labelNames: ['metric'], registers }),
      groundTruthPairs: new Gauge({ name: 'millwright_ground_truth_pairs', help: 'Last monitoring run: captured rows with a label', registers }),
      lastRun: new Gauge({ name: 'millwright_monitoring_last_run_timestamp_seconds', help: 'When the last monitoring run finished (Unix seconds)', registers }),
    },
  };
}

/**
 * Replaces the monitoring gauges with one run's rows: what /metrics shows is always the last
 * run, never a mix (a feature that no longer drifts, or a violation that went away, disappears).
 */
export function setMonitoringGauges(g: MonitoringGauges, rows: MonitoringRow[], extra: { pairs?: number; at?: number } = {}): void {
  for (const gauge of Object.values(g) as Gauge<string>[]) gauge.reset();
  const value = (v: number | null, detail?: string) => (v === null ? (detail === 'infinite' ? Infinity : NaN) : v);
  let violations = 0;
  const byCheck = new Map<string, number>();
  // Estimated performance: the latest analysis chunk per metric.
  const latest = new Map<string, MonitoringRow>();
  for (const r of rows) {
    if (r.kind === 'drift' && r.feature !== undefined) {
      g.driftScore.set({ feature: r.feature, test: r.metric }, value(r.value, r.detail));
      g.drifted.set({ feature: r.feature }, r.alert ? 1 : 0);
    } else if (r.kind === 'violation') {
      violations++;
      byCheck.set(r.metric, (byCheck.get(r.metric) ?? 0) + 1);
    } else if (r.kind === 'attribution') {
      const [what, label = ''] = r.metric.split(/:(.*)/s) as [string, string?];
      if (what === 'ndcg') g.attributionNdcg.set({ label }, value(r.value));
      else if (what === 'rank' && r.feature !== undefined) {
        if (r.rank !== undefined) g.attributionRank.set({ feature: r.feature, label }, r.rank);
        if (r.value !== null) g.attribution.set({ feature: r.feature, label }, r.value);
      }
    } else if (r.kind === 'estimated_performance') {
      const prev = latest.get(r.metric);
      if (r.value !== null && (!prev || (r.from ?? 0) > (prev.from ?? 0))) latest.set(r.metric, r);
    } else if (r.kind === 'model_quality' && r.value !== null) {
      g.modelQuality.set({ metric: r.metric }, r.value);
    }
  }
  g.violations.set(violations);
  for (const [check, n] of byCheck) g.violationsByCheck.set({ check }, n);
  for (const [metric, r] of latest) {
    g.estimatedPerformance.set({ metric }, r.value!);
    g.estimatedPerformanceAlert.set({ metric }, r.alert ? 1 : 0);
  }
  if (extra.pairs !== undefined) g.groundTruthPairs.set(extra.pairs);
  g.lastRun.set((extra.at ?? Date.now()) / 1000);
}

// The labelled children are cached per metric set, looked up by route, then method, then status
// (few of each) without building a key string per request: a request's metrics were ~1.5 µs of
// its cost on the HTTP thread with a `${route} ${method} ${status}` key, ~0.7 µs this way (what is
// left is prom-client's own label check and hash in inc/observe).
interface RouteMetrics {
  histogram: { observe(v: number): void };
  byMethod: Map<string, Map<number, { inc(): void }>>;
}
const routeMetrics = new WeakMap<ServeMetrics, Map<string, RouteMetrics>>();

/** One request in the request counter (route, method, status) and the latency histogram (route). */
export function countRequest(metrics: ServeMetrics, route: string, method: string, status: number, seconds: number): void {
  let routes = routeMetrics.get(metrics);
  if (!routes) routeMetrics.set(metrics, (routes = new Map()));
  let r = routes.get(route);
  if (!r) routes.set(route, (r = { histogram: metrics.latency.labels({ route }), byMethod: new Map() }));
  let statuses = r.byMethod.get(method);
  if (!statuses) r.byMethod.set(method, (statuses = new Map()));
  let counter = statuses.get(status);
  if (!counter) statuses.set(status, (counter = metrics.requests.labels({ route, method, status: String(status) })));
  counter.inc();
  r.histogram.observe(seconds);
}
