import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/data.ts';

/** The loader the server uses by default: lib/model's checksum-verifying loadModel. */
export const REAL_LOADER = join(repoRoot, 'lib/model/index.ts');
/** Test-only loader for hand-built linear artifacts (slow / broken models). */
export const LINEAR_LOADER = join(repoRoot, 'test/serve/fixtures/linear-model.ts');

export async function scratch(prefix = 'mw-serve-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/** POST (or any method) through real HTTP; returns status, headers and text. */
export async function http(url: string, init: { method?: string; body?: string | Uint8Array; headers?: Record<string, string> } = {}): Promise<Reply> {
  const r = await fetch(url, { method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), body: init.body, headers: init.headers });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, json: <T>() => JSON.parse(text) as T };
}

/**
 * POST /invocations. `accept` defaults to JSON: without an Accept header (fetch sends `*\/*`) the
 * server answers in the request's own format (CSV in, CSV out), which test/serve/sagemaker.test.ts covers.
 */
export function invoke(base: string, body: string | Uint8Array, contentType: string | undefined, accept: string | null = 'application/json'): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (contentType !== undefined) headers['content-type'] = contentType;
  if (accept !== null) headers.accept = accept;
  return http(`${base}/invocations`, { method: 'POST', body, headers });
}

/** Rows as headerless CSV. */
export function csv(rows: number[][]): string {
  return `${rows.map((r) => r.join(',')).join('\n')}\n`;
}

/**
 * Polls GET /ping until 200 (the listener is up before the model is loaded); bounded to ~60 s.
 * `stderr` (the server process's, so far) goes into the failure: a rejected model says why there.
 */
export async function waitReady(base: string, stderr?: () => string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const status = await fetch(`${base}/ping`).then((r) => r.status, () => 0);
    if (status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${base}/ping never answered 200${stderr ? `; server stderr: ${stderr().slice(-2000)}` : ''}`);
}

/**
 * A classification table in SageMaker's built-in CSV convention: no header, the label (a class
 * name) in the first column, then four numeric measurements whose means differ by class.
 */
export function labelFirstRows(n: number, seed = 11): { label: string; x: number[] }[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const classes = ['setosa', 'versicolor', 'virginica'];
  const out: { label: string; x: number[] }[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % 3;
    out.push({ label: classes[k]!, x: [5 + k * 0.9 + rnd() * 0.8, 3.4 - k * 0.3 + rnd() * 0.6, 1.5 + k * 2 + rnd() * 0.9, 0.2 + k * 0.8 + rnd() * 0.4].map((v) => Math.round(v * 10) / 10) });
  }
  return out;
}
