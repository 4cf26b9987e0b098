import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The server's Prometheus metrics, on their own registry so several servers can share a process (tests). */
export interface ServeMetrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  latency: Histogram<'route'>;
  rows: Counter;
  modelInfo: Gauge<'name' | 'version' | 'algorithm'>;
  reloads: Counter<'result'>;
  captured: Counter;
  inFlight: Gauge;
  /** Invocations answered on the HTTP thread (serve/inline-model.ts) rather than by a worker. */
  inline: Counter;
}

/** Creates the metric set (prefix `millwright_`), including Node process metrics. */
export function createMetrics(): ServeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'millwright_' });
  return {
    registry,
    requests: new Counter({ name: 'millwright_http_requests_total', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'], registers: [registry] }),
    latency: new Histogram({
      name: 'millwright_http_request_duration_seconds',
      help: 'Time from request start to response end, by route',
      labelNames: ['route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    rows: new Counter({ name: 'millwright_predictions_total', help: 'Rows predicted', registers: [registry] }),
    modelInfo: new Gauge({ name: 'millwright_model_info', help: 'The model version being served (value 1)', labelNames: ['name', 'version', 'algorithm'], registers: [registry] }),
    reloads: new Counter({ name: 'millwright_model_reloads_total', help: 'Model reload attempts by result (swapped, rejected)', labelNames: ['result'], registers: [registry] }),
    captured: new Counter({ name: 'millwright_capture_events_total', help: 'Requests written to data capture', registers: [registry] }),
    inFlight: new Gauge({ name: 'millwright_invocations_in_flight', help: 'Invocations queued or running', registers: [registry] }),
    inline: new Counter({ name: 'millwright_invocations_inline_total', help: 'Invocations answered on the HTTP thread (small body, cheap model) instead of a worker', registers: [registry] }),
  };
}

// prom-client hashes the label object on every inc/observe; the labelled children are cached
// per metric set instead (routes, methods and statuses are few).
const requestCounters = new WeakMap<ServeMetrics, Map<string, { inc(): void }>>();
const latencyHistograms = new WeakMap<ServeMetrics, Map<string, { observe(v: number): void }>>();

/** One request in the request counter (route, method, status) and the latency histogram (route). */
export function countRequest(metrics: ServeMetrics, route: string, method: string, status: number, seconds: number): void {
  let counters = requestCounters.get(metrics);
  if (!counters) requestCounters.set(metrics, (counters = new Map()));
  const key = `${route} ${method} ${status}`;
  let counter = counters.get(key);
  if (!counter) counters.set(key, (counter = metrics.requests.labels({ route, method, status: String(status) })));
  counter.inc();
  let histograms = latencyHistograms.get(metrics);
  if (!histograms) latencyHistograms.set(metrics, (histograms = new Map()));
  let histogram = histograms.get(route);
  if (!histogram) histograms.set(route, (histogram = metrics.latency.labels({ route })));
  histogram.observe(seconds);
}
