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

export function invoke(base: string, body: string | Uint8Array, contentType: string | undefined, accept?: string): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (contentType !== undefined) headers['content-type'] = contentType;
  if (accept !== undefined) headers.accept = accept;
  return http(`${base}/invocations`, { method: 'POST', body, headers });
}

/** Rows as headerless CSV. */
export function csv(rows: number[][]): string {
  return `${rows.map((r) => r.join(',')).join('\n')}\n`;
}
