import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadingBatch } from '../../lib/readings/index.ts';

/** Deterministic PRNG (mulberry32), the forests' own, so test data is the same on every machine. */
import { mulberry32 as rng } from '../../lib/algorithms/forest/rng.ts';
export { rng };

export interface PlantOptions {
  sites?: string[];
  assets?: string[];
  signals?: string[];
  start?: number;
  /** Sampling period per series, ms. */
  periodMs?: number;
  /** Samples per series. */
  samples?: number;
  /** [from, to) epoch ms where every series is silent (a gap). */
  gap?: [number, number];
  seed?: number;
  /** Deliver in time-major order (as a gateway does) instead of series-major. */
  timeMajor?: boolean;
}

/**
 * A small, realistic plant: per (site, asset, signal) a random-walk signal (temperature drifts,
 * current follows shifts, vibration noisy), sampled every `periodMs`, crossing UTC midnight.
 */
export function plantBatch(o: PlantOptions = {}): ReadingBatch {
  const sites = o.sites ?? ['plant-1', 'plant-2'];
  const assets = o.assets ?? ['conveyor-1', 'motor-2', 'gearbox-3'];
  const signals = o.signals ?? ['current', 'temperature', 'vibration_x'];
  const start = o.start ?? Date.UTC(2024, 2, 1, 22, 0, 0);
  const period = o.periodMs ?? 10_000;
  const samples = o.samples ?? 1000;
  const rand = rng(o.seed ?? 42);
  const series: { site: string; asset: string; signal: string; level: number }[] = [];
  for (const site of sites) for (const asset of assets) for (const signal of signals) series.push({ site, asset, signal, level: 20 + rand() * 40 });
  const ts: number[] = [];
  const out = { site: [] as string[], asset: [] as string[], signal: [] as string[], value: [] as number[] };
  const emit = (s: (typeof series)[number], t: number) => {
    if (o.gap && t >= o.gap[0] && t < o.gap[1]) return;
    s.level += (rand() - 0.5) * (s.signal === 'vibration_x' ? 2 : 0.3);
    ts.push(t);
    out.site.push(s.site);
    out.asset.push(s.asset);
    out.signal.push(s.signal);
    out.value.push(Math.round(s.level * 1000) / 1000);
  };
  if (o.timeMajor) for (let k = 0; k < samples; k++) for (const s of series) emit(s, start + k * period);
  else for (const s of series) for (let k = 0; k < samples; k++) emit(s, start + k * period);
  return { ts: Float64Array.from(ts), site: out.site, asset: out.asset, signal: out.signal, value: Float64Array.from(out.value) };
}

/** Concatenates batches. */
export function concatBatches(...batches: ReadingBatch[]): ReadingBatch {
  const q = batches.some((b) => b.quality);
  return {
    ts: Float64Array.from(batches.flatMap((b) => [...b.ts])),
    site: batches.flatMap((b) => b.site),
    asset: batches.flatMap((b) => b.asset),
    signal: batches.flatMap((b) => b.signal),
    value: Float64Array.from(batches.flatMap((b) => [...b.value])),
    quality: q ? Uint8Array.from(batches.flatMap((b) => [...(b.quality ?? new Uint8Array(b.ts.length))])) : undefined,
  };
}

/** Rows of a batch as objects (reference computations). */
export function batchRows(b: ReadingBatch): { ts: number; site: string; asset: string; signal: string; value: number; quality: number }[] {
  return Array.from(b.ts, (ts, i) => ({ ts, site: b.site[i], asset: b.asset[i], signal: b.signal[i], value: b.value[i], quality: b.quality?.[i] ?? 0 }));
}

/** A fresh temp directory, removed by the returned cleanup. */
export async function tempDir(prefix = 'mw-store-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Canonical sort key for comparing row sets. */
export function rowKey(r: { site?: unknown; asset: unknown; signal: unknown; ts: unknown }): string {
  return `${String(r.site)}\u0001${String(r.asset)}\u0001${String(r.signal)}\u0001${String(r.ts).padStart(16, '0')}`;
}
