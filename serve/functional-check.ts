/**
 * The functional check behind `millwright registry promote`: the version is started the way it
 * will be served (this server, its workers, real HTTP on 127.0.0.1), each recorded payload is
 * POSTed to `/invocations` several times, and the answers and median latency are judged.
 */
import { compareOutputs, type CheckCase, type FunctionalCheck, type TestPayload } from '../lib/model/index.ts';
import { startServer } from './server.ts';

/** Options of {@link httpFunctionalCheck}. */
export interface HttpCheckOptions {
  /** Requests per payload; the median latency is judged (default 5). */
  repeats?: number;
  /** Worker threads of the server under test (default 1). */
  workers?: number;
  /** Default latency limit when a payload sets none, ms (default 1000). */
  maxLatencyMs?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function runCase(url: string, p: TestPayload, repeats: number, defaultLimit: number): Promise<CheckCase> {
  const body = typeof p.body === 'string' ? p.body : JSON.stringify(p.body);
  const latencies: number[] = [];
  let predictions: unknown[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    const res = await fetch(`${url}/invocations`, { method: 'POST', headers: { 'content-type': p.contentType, accept: 'application/json' }, body });
    const text = await res.text();
    latencies.push(performance.now() - t0);
    if (res.status !== 200) return { name: p.name, passed: false, reason: `HTTP ${res.status}: ${text.slice(0, 200)}`, latencyMs: median(latencies) };
    const parsed = JSON.parse(text) as { predictions?: unknown };
    if (!Array.isArray(parsed.predictions)) return { name: p.name, passed: false, reason: 'the answer has no predictions array (wrong output shape)', latencyMs: median(latencies) };
    predictions = parsed.predictions;
  }
  const latencyMs = median(latencies);
  const mismatch = compareOutputs(p.expected, predictions, p.tolerance);
  if (mismatch) return { name: p.name, passed: false, reason: mismatch, latencyMs };
  const limit = p.maxLatencyMs ?? defaultLimit;
  if (latencyMs > limit) return { name: p.name, passed: false, reason: `median latency ${latencyMs.toFixed(1)} ms over ${repeats} requests exceeds ${limit} ms (too slow)`, latencyMs };
  return { name: p.name, passed: true, reason: `${predictions.length} prediction(s) as expected, median ${latencyMs.toFixed(1)} ms`, latencyMs };
}

/**
 * A functional check that serves the version on a free 127.0.0.1 port for the duration of the check.
 *
 * @example
 * import { promoteVersion } from 'millwright';
 * import { httpFunctionalCheck } from 'millwright/serve';
 * await promoteVersion('plant-a', 4, { to: 'TEST', check: httpFunctionalCheck({ repeats: 10 }) });
 */
export function httpFunctionalCheck(options: HttpCheckOptions = {}): FunctionalCheck {
  const repeats = Math.max(1, options.repeats ?? 5);
  return async (model, payloads) => {
    const srv = await startServer({ modelDir: model.dir, port: 0, host: '127.0.0.1', workers: options.workers ?? 1, log: () => {} });
    try {
      const cases: CheckCase[] = [];
      for (const p of payloads) cases.push(await runCase(srv.url, p, repeats, options.maxLatencyMs ?? 1000));
      return { passed: cases.every((c) => c.passed), at: new Date().toISOString(), cases };
    } finally {
      await srv.close();
    }
  };
}
