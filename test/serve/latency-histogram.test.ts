import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { LatencyHistogram } from '../../serve/latency-histogram.ts';
import { LATENCY_BUCKETS } from '../../serve/metrics.ts';

const opts = { name: 'x_request_duration_seconds', help: 'Time from request start to response end, by route' };

/** The same observations into prom-client's Histogram and ours, each on its own registry. */
function both(observations: [string, number][]): Promise<[string, string]> {
  const a = new Registry();
  const b = new Registry();
  const ref = new Histogram({ ...opts, labelNames: ['route'], buckets: [...LATENCY_BUCKETS], registers: [a] });
  const ours = new LatencyHistogram({ ...opts, labelName: 'route', buckets: LATENCY_BUCKETS, registers: [b] });
  const refChildren = new Map<string, { observe(v: number): void }>();
  for (const [route, v] of observations) {
    let c = refChildren.get(route);
    if (!c) refChildren.set(route, (c = ref.labels({ route })));
    c.observe(v);
    ours.labels({ route }).observe(v);
  }
  return Promise.all([a.metrics(), b.metrics()]);
}

test('the /metrics text is prom-client Histogram byte for byte: empty, bounds, between bounds, above the last, several routes', async () => {
  const [emptyRef, emptyOurs] = await both([]);
  assert.equal(emptyOurs, emptyRef);
  const obs: [string, number][] = [];
  for (const b of LATENCY_BUCKETS) obs.push(['/invocations', b], ['/invocations', b * 0.7]);
  obs.push(['/invocations', 0], ['/invocations', 11], ['/ping', 0.0003], ['other', 3.2], ['/ping', 0.02]);
  const [ref, ours] = await both(obs);
  assert.equal(ours, ref);
  assert.match(ours, /x_request_duration_seconds_bucket\{le="0.0005",route="\/invocations"\} 3\n/);
  assert.match(ours, /x_request_duration_seconds_count\{route="\/ping"\} 2\n/);
});

test('a child keeps counting after it is looked up again; reset empties; bad values and labels are refused', async () => {
  const r = new Registry();
  const h = new LatencyHistogram({ ...opts, labelName: 'route', buckets: [0.1, 1], registers: [r] });
  h.labels({ route: 'a' }).observe(0.05);
  h.labels({ route: 'a' }).observe(2);
  const text = await r.metrics();
  assert.match(text, /_bucket\{le="0.1",route="a"\} 1\n.*_bucket\{le="1",route="a"\} 1\n.*_bucket\{le="\+Inf",route="a"\} 2\n.*_sum\{route="a"\} 2.05\n.*_count\{route="a"\} 2/s);
  assert.throws(() => h.labels({ route: 'a' }).observe(Number.NaN), TypeError);
  assert.throws(() => h.labels({ path: 'a' }), /exactly the label "route"/);
  h.reset();
  assert.doesNotMatch(await r.metrics(), /route="a"/);
});
