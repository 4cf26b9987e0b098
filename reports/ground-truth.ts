/**
 * Merges late labels (lib/ground-truth) with the data capture: by inference id, or by a business
 * key (lot, or asset + time within a tolerance). Labels may arrive in any order, twice, or before
 * the capture record they label: every merge reads the whole label store, so a label waits until
 * its inference shows up, and the last label (by arrival) of a row wins.
 */
import { groundTruthValues, type StoredGroundTruth } from '../lib/ground-truth/index.ts';
import { MillwrightError } from '../lib/errors/index.ts';
import { toFrame, type Frame } from './data.ts';

export interface MergeGroundTruthOptions {
  /** Name of the label column added to the merged table. Default `target`. */
  target?: string;
  /** Capture column holding the asset, for labels keyed by asset + time. */
  asset?: string;
  /** Capture column holding the time (epoch ms) for asset + time labels. Default `capturedAt`. */
  time?: string;
  /** Asset + time labels match the nearest captured row of that asset within this many ms. Default 0 (exact). */
  toleranceMs?: number;
  /** Capture column holding the lot/batch id, for labels keyed by lot. */
  lot?: string;
}

export interface MergeGroundTruthResult {
  /** The captured rows that have a label, with the label in the `target` column (capture order). */
  frame: Frame;
  /** Rows in `frame`. */
  pairs: number;
  /** Labels read. */
  labels: number;
  /** Labels whose key had been labelled before; the later one (by arrival) won. */
  duplicates: number;
  /** Labels that matched no captured row yet: kept in the store and merged once their inference is captured. */
  unmatched: number;
  /** Id labels whose value count differs from the rows of their (batch) request; not used. */
  mismatched: { eventId: string; rows: number; values: number }[];
  /** Captured rows still without a label. */
  unlabelled: number;
}

function keyOf(l: StoredGroundTruth): string {
  const m = l.eventMetadata;
  return m.eventId !== undefined ? `id:${m.eventId}` : m.lot !== undefined ? `lot:${m.lot}` : `asset:${m.asset}@${m.time}`;
}

function stringsOf(frame: Frame, name: string, what: string): (string | null)[] {
  const c = frame.columns.get(name);
  if (!c) throw new MillwrightError('BAD_INPUT', `ground truth: ${what} column "${name}" not in the capture (columns: ${frame.names.join(', ')})`);
  return c.kind === 'categorical' ? c.values : Array.from(c.values, (v) => (Number.isFinite(v) ? String(v) : null));
}

/**
 * A capture time column as epoch ms: numbers as they are; strings (a time the client sent in its
 * request, read back as a business key) as ISO 8601 timestamps or epoch-ms digits.
 */
function timesOf(frame: Frame, name: string): ArrayLike<number> {
  const c = frame.columns.get(name);
  if (!c) throw new MillwrightError('BAD_INPUT', `ground truth keyed by asset and time: time column "${name}" not in the capture (columns: ${frame.names.join(', ')})`);
  if (c.kind === 'numeric') return c.values;
  const out = c.values.map((v) => (v === null ? Number.NaN : /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : Date.parse(v)));
  if (out.every((t) => !Number.isFinite(t)) && out.length > 0) throw new MillwrightError('BAD_INPUT', `ground truth keyed by asset and time: capture column "${name}" must hold times (epoch ms or ISO 8601), got e.g. ${JSON.stringify(c.values.find((v) => v !== null) ?? null)}`);
  return out;
}

/**
 * Joins stored labels to captured rows; see the module comment for the rules.
 *
 * @example
 * import { readGroundTruth } from 'millwright';
 * import { mergeGroundTruth, readCapture } from 'millwright/reports';
 * const { frame } = await readCapture('/var/lib/millwright/capture/press', { features });
 * const merged = mergeGroundTruth(frame, await readGroundTruth('/var/lib/millwright/ground-truth/press'));
 */
export function mergeGroundTruth(capture: Frame, labels: StoredGroundTruth[], options: MergeGroundTruthOptions = {}): MergeGroundTruthResult {
  const n = capture.rows;
  const value: (string | number | undefined)[] = new Array(n);
  // SageMaker matches a label's eventId against the record's inferenceId, or its eventId when it has none.
  const idColumn = capture.columns.has('inferenceId') ? 'inferenceId' : 'eventId';
  const ids = capture.columns.has(idColumn) ? stringsOf(capture, idColumn, 'inference id') : new Array<null>(n).fill(null);
  const byId = new Map<string, number[]>();
  ids.forEach((id, r) => {
    if (id === null) return;
    let a = byId.get(id);
    if (!a) byId.set(id, (a = []));
    a.push(r);
  });
  let byLot: Map<string, number[]> | undefined;
  let byAsset: Map<string, { t: number[]; r: number[] }> | undefined;
  const tol = options.toleranceMs ?? 0;
  const seen = new Set<string>();
  const result: Omit<MergeGroundTruthResult, 'frame' | 'pairs' | 'unlabelled'> = { labels: labels.length, duplicates: 0, unmatched: 0, mismatched: [] };
  const ordered = [...labels].sort((a, b) => a.arrival - b.arrival);
  for (const l of ordered) {
    const k = keyOf(l);
    if (seen.has(k)) result.duplicates++;
    seen.add(k);
    const vals = groundTruthValues(l);
    const m = l.eventMetadata;
    let rows: number[] = [];
    if (m.eventId !== undefined) {
      rows = byId.get(m.eventId) ?? [];
      if (rows.length && vals.length !== rows.length) {
        result.mismatched.push({ eventId: m.eventId, rows: rows.length, values: vals.length });
        continue;
      }
    } else if (m.lot !== undefined) {
      if (!options.lot) throw new MillwrightError('BAD_INPUT', 'ground truth keyed by lot: say which capture column holds the lot (option lot)');
      if (!byLot) {
        byLot = new Map();
        stringsOf(capture, options.lot, 'lot').forEach((v, r) => v !== null && (byLot!.get(v) ?? byLot!.set(v, []).get(v)!).push(r));
      }
      rows = byLot.get(m.lot) ?? [];
    } else {
      if (!options.asset) throw new MillwrightError('BAD_INPUT', 'ground truth keyed by asset and time: say which capture column holds the asset (option asset)');
      if (!byAsset) {
        byAsset = new Map();
        const assets = stringsOf(capture, options.asset, 'asset');
        const times = timesOf(capture, options.time ?? 'capturedAt');
        const order = Array.from({ length: n }, (_, r) => r).filter((r) => assets[r] !== null && Number.isFinite(times[r]!)).sort((a, b) => times[a]! - times[b]!);
        for (const r of order) {
          const a = assets[r]!;
          let e = byAsset.get(a);
          if (!e) byAsset.set(a, (e = { t: [], r: [] }));
          e.t.push(times[r]!);
          e.r.push(r);
        }
      }
      const e = byAsset.get(m.asset!);
      const t = Date.parse(m.time!);
      if (e) {
        let lo = 0;
        let hi = e.t.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (e.t[mid]! < t) lo = mid + 1;
          else hi = mid;
        }
        let best = -1;
        for (const c of [lo - 1, lo]) if (c >= 0 && c < e.t.length && Math.abs(e.t[c]! - t) <= tol && (best < 0 || Math.abs(e.t[c]! - t) < Math.abs(e.t[best]! - t))) best = c;
        if (best >= 0) rows = [e.r[best]!];
      }
    }
    if (rows.length === 0) {
      result.unmatched++;
      continue;
    }
    rows.forEach((r, i) => (value[r] = vals.length === rows.length ? vals[i] : vals[0]));
  }
  const keep: number[] = [];
  for (let r = 0; r < n; r++) if (value[r] !== undefined) keep.push(r);
  const numeric = keep.every((r) => typeof value[r] === 'number');
  const out: Record<string, ArrayLike<unknown>> = {};
  for (const [name, col] of capture.columns) out[name] = keep.map((r) => col.values[r] ?? null);
  out[options.target ?? 'target'] = keep.map((r) => (numeric ? value[r] : String(value[r])));
  return { frame: toFrame(out), pairs: keep.length, unlabelled: n - keep.length, ...result };
}
