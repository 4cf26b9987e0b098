/**
 * Reads the serving container's data-capture files (SageMaker Model Monitor JSON Lines:
 * `captureData.endpointInput/endpointOutput` + `eventMetadata`) back into a table: the model's
 * input features, its predictions (`prediction`, or `prediction_<key>` for record outputs such as
 * the energy model's expected/best), `capturedAt` (inference time, epoch ms; a feature named `ts`
 * keeps its own values), `eventId` and `inferenceId` (the id late labels name; the eventId when the
 * record has none).
 */
import { readFile } from 'node:fs/promises';
import { captureBody, listCaptureFiles } from '../lib/capture/index.ts';
import type { FeatureSpec } from '../lib/model/contract.ts';
import { parseInput, inputFormat } from '../lib/wire/parse-input.ts';
import { toFrame, type Frame } from './data.ts';

export interface CaptureReadOptions {
  /** The model's features (manifest `features`), needed to parse headerless CSV inputs. */
  features?: FeatureSpec[];
  /** Only records at or after this time (epoch ms). */
  from?: number;
  /** Only records before this time (epoch ms). */
  to?: number;
}

export interface CaptureReadResult {
  frame: Frame;
  records: number;
  files: number;
  /** Lines that could not be used, with the reason (never silently dropped). */
  skipped: { file: string; line: number; reason: string }[];
}

function parsePredictions(text: string, contentType: string): unknown[] {
  const ct = contentType.toLowerCase();
  if (ct.includes('json') && !ct.includes('lines') && !ct.includes('ndjson')) {
    const doc = JSON.parse(text) as unknown;
    if (Array.isArray(doc)) return doc;
    const p = (doc as { predictions?: unknown }).predictions;
    if (!Array.isArray(p)) throw new Error('output JSON has no "predictions" array');
    return p;
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (ct.includes('csv')) return lines.map((l) => {
    const cells = l.split(',');
    const vals = cells.map((c) => (c.trim() !== '' && Number.isFinite(Number(c)) ? Number(c) : c));
    return vals.length === 1 ? vals[0] : Object.fromEntries(vals.map((v, i) => [String(i), v]));
  });
  return lines.map((l) => JSON.parse(l) as unknown);
}

function inferFeatures(text: string, format: string): FeatureSpec[] {
  // Without a manifest: JSON objects name their fields; a CSV needs a header row.
  if (format === 'csv') {
    const head = text.split('\n')[0]!.split(',').map((s) => s.trim());
    if (head.every((h) => h !== '' && !Number.isFinite(Number(h)))) return head.map((name) => ({ name, type: 'number' }));
    throw new Error('headerless CSV input and no model features to name its columns (pass the model)');
  }
  const doc = JSON.parse(format === 'jsonl' ? text.split('\n').find((l) => l.trim())! : text) as Record<string, unknown>;
  const rows = Array.isArray(doc) ? doc : ((doc.instances ?? doc.inputs ?? doc.dataframe_records) as unknown[] | undefined);
  const first = Array.isArray(rows) ? rows[0] : doc;
  if (first && typeof first === 'object' && !Array.isArray(first)) {
    return Object.entries(first as Record<string, unknown>).map(([name, v]) => ({ name, type: typeof v === 'string' ? 'string' : 'number' }));
  }
  throw new Error('cannot tell the input columns (pass the model so its features name them)');
}

/**
 * Reads capture JSON Lines into one table.
 *
 * @example
 * const { frame, skipped } = await readCapture('/var/lib/millwright/capture', { features: manifest.features });
 */
export async function readCapture(dirOrFile: string, options: CaptureReadOptions = {}): Promise<CaptureReadResult> {
  const files = (await listCaptureFiles(dirOrFile)).map((f) => f.path);
  const cols = new Map<string, unknown[]>();
  let rows = 0;
  let records = 0;
  const skipped: CaptureReadResult['skipped'] = [];
  const put = (name: string, at: number, v: unknown) => {
    let c = cols.get(name);
    if (!c) cols.set(name, (c = []));
    while (c.length < at) c.push(null);
    c[at] = v;
  };
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    const lines = text.split('\n');
    for (let ln = 0; ln < lines.length; ln++) {
      const line = lines[ln]!.trim();
      if (line === '') continue;
      try {
        const rec = JSON.parse(line) as {
          captureData?: { endpointInput?: { observedContentType: string; data: string; encoding: string }; endpointOutput?: { observedContentType: string; data: string; encoding: string } };
          eventMetadata?: { eventId?: string; inferenceId?: string; inferenceTime?: string };
        };
        const input = rec.captureData?.endpointInput;
        const output = rec.captureData?.endpointOutput;
        if (!input || !output) throw new Error('not a capture record (expected captureData.endpointInput and endpointOutput)');
        const t = Date.parse(rec.eventMetadata?.inferenceTime ?? '');
        if (options.from !== undefined && !(t >= options.from)) continue;
        if (options.to !== undefined && !(t < options.to)) continue;
        const inText = captureBody(input);
        const format = inputFormat(input.observedContentType);
        const features = options.features ?? inferFeatures(inText, format);
        const parsed = parseInput(inText, format, features);
        const preds = parsePredictions(captureBody(output), output.observedContentType);
        if (preds.length !== parsed.rows) throw new Error(`${parsed.rows} input rows but ${preds.length} predictions`);
        for (const f of features) {
          const vals = parsed.table.array(f.name) as ArrayLike<unknown>;
          for (let r = 0; r < parsed.rows; r++) put(f.name, rows + r, vals[r]);
        }
        for (let r = 0; r < parsed.rows; r++) {
          const p = preds[r];
          if (p !== null && typeof p === 'object') for (const [k, v] of Object.entries(p as Record<string, unknown>)) put(`prediction_${k}`, rows + r, v);
          else put('prediction', rows + r, p);
          put('capturedAt', rows + r, Number.isFinite(t) ? t : null);
          put('eventId', rows + r, rec.eventMetadata?.eventId ?? null);
          put('inferenceId', rows + r, rec.eventMetadata?.inferenceId ?? rec.eventMetadata?.eventId ?? null);
        }
        rows += parsed.rows;
        records++;
      } catch (err) {
        skipped.push({ file, line: ln + 1, reason: (err as Error).message });
      }
    }
  }
  const table: Record<string, unknown[]> = {};
  for (const [name, c] of cols) {
    while (c.length < rows) c.push(null);
    table[name] = c;
  }
  return { frame: toFrame(table), records, files: files.length, skipped };
}
