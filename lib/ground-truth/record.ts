import { MillwrightError } from '../errors/index.ts';
import { parseCsv } from '../wire/csv.ts';

/**
 * One label as stored: SageMaker's ground-truth merge layout. `eventMetadata.eventId` names the
 * inference it labels; labels keyed by a business key instead carry `asset` + `time` (ISO) or
 * `lot` in eventMetadata (an extension, as the capture adds model fields there).
 */
export interface GroundTruthRecord {
  groundTruthData: { data: string; encoding: 'CSV' | 'JSON' };
  eventMetadata: { eventId?: string; asset?: string; time?: string; lot?: string };
  eventVersion: '0';
}

/** Same rule as the inference ids labels name (lib/capture `inferenceIdOf`): 1-64 printable ASCII, not starting with a space. */
const KEY = /^[\x21-\x7e][\x20-\x7e]{0,63}$/;

function check(rec: unknown, where: string): GroundTruthRecord {
  const r = rec as Partial<GroundTruthRecord> | null;
  const d = r?.groundTruthData;
  if (!r || typeof r !== 'object' || !d || typeof d.data !== 'string' || (d.encoding !== 'CSV' && d.encoding !== 'JSON')) {
    throw new MillwrightError('BAD_INPUT', `${where}: expected {"groundTruthData": {"data": "<label>", "encoding": "CSV"|"JSON"}, "eventMetadata": {"eventId": "<inference id>"}, "eventVersion": "0"}`);
  }
  const m = r.eventMetadata ?? {};
  const { eventId, asset, time, lot } = m as GroundTruthRecord['eventMetadata'];
  if (eventId !== undefined && (typeof eventId !== 'string' || !KEY.test(eventId))) throw new MillwrightError('BAD_INPUT', `${where}: eventMetadata.eventId must be an inference id (1-64 printable ASCII characters, not starting with a space), got ${JSON.stringify(eventId)}`);
  if (eventId === undefined && lot === undefined && (asset === undefined || time === undefined)) {
    throw new MillwrightError('BAD_INPUT', `${where}: eventMetadata needs "eventId" (the inference id), or "lot", or "asset" and "time"`);
  }
  if (time !== undefined && !Number.isFinite(Date.parse(time))) throw new MillwrightError('BAD_INPUT', `${where}: eventMetadata.time ${JSON.stringify(time)} is not an ISO-8601 time`);
  if (d.encoding === 'JSON') {
    try {
      JSON.parse(d.data);
    } catch {
      throw new MillwrightError('BAD_INPUT', `${where}: groundTruthData.data is not JSON although encoding is JSON`);
    }
  }
  const meta: GroundTruthRecord['eventMetadata'] = {};
  if (eventId !== undefined) meta.eventId = eventId;
  if (asset !== undefined) meta.asset = String(asset);
  if (time !== undefined) meta.time = new Date(Date.parse(time)).toISOString();
  if (lot !== undefined) meta.lot = String(lot);
  return { groundTruthData: { data: d.data, encoding: d.encoding }, eventMetadata: meta, eventVersion: '0' };
}

/** Column names a label CSV may use for each part (first match wins). */
const CSV_COLUMNS = {
  eventId: ['inference_id', 'inferenceid', 'eventid', 'event_id', 'id'],
  label: ['label', 'ground_truth', 'groundtruth', 'actual', 'target'],
  asset: ['asset', 'asset_id', 'machine'],
  time: ['time', 'ts', 'timestamp'],
  lot: ['lot', 'lot_id', 'batch', 'batch_id'],
} as const;

/**
 * Labels from a file or request body: JSON Lines in SageMaker's ground-truth layout, or a CSV with
 * a header naming a label column (`label`, `ground_truth`, `actual`, `target`) and a key:
 * `inference_id` (or `eventId`, `id`), or `lot`/`batch`, or `asset` + `time`.
 *
 * @example
 * import { parseGroundTruth } from 'millwright';
 * parseGroundTruth('{"groundTruthData":{"data":"12.5","encoding":"CSV"},"eventMetadata":{"eventId":"a1"},"eventVersion":"0"}\n');
 * parseGroundTruth('inference_id,label\na1,12.5\n', 'csv');
 */
export function parseGroundTruth(text: string, format: 'jsonl' | 'csv' = text.trimStart().startsWith('{') ? 'jsonl' : 'csv'): GroundTruthRecord[] {
  if (format === 'jsonl') {
    const out: GroundTruthRecord[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (line === '') continue;
      let doc: unknown;
      try {
        doc = JSON.parse(line);
      } catch {
        throw new MillwrightError('BAD_INPUT', `ground truth line ${i + 1}: not JSON`);
      }
      out.push(check(doc, `ground truth line ${i + 1}`));
    }
    return out;
  }
  const records = parseCsv(text);
  if (records.length === 0) return [];
  const head = records[0]!.cells.map((c) => c.trim().toLowerCase());
  const find = (names: readonly string[]) => {
    for (const n of names) {
      const i = head.indexOf(n);
      if (i >= 0) return i;
    }
    return -1;
  };
  const label = find(CSV_COLUMNS.label);
  const id = find(CSV_COLUMNS.eventId);
  const lot = find(CSV_COLUMNS.lot);
  const asset = find(CSV_COLUMNS.asset);
  const time = find(CSV_COLUMNS.time);
  if (label < 0) throw new MillwrightError('BAD_INPUT', `ground truth CSV: no label column in the header (${head.join(', ')}); expected one of ${CSV_COLUMNS.label.join(', ')}`);
  if (id < 0 && lot < 0 && (asset < 0 || time < 0)) {
    throw new MillwrightError('BAD_INPUT', `ground truth CSV: no key column in the header (${head.join(', ')}); expected inference_id, or lot/batch, or asset and time`);
  }
  return records.slice(1).filter((r) => r.cells.some((c) => c.trim() !== '')).map((r) => {
    const cell = (i: number) => (i >= 0 ? r.cells[i]?.trim() : undefined);
    const meta: Record<string, string | undefined> = id >= 0 ? { eventId: cell(id) } : lot >= 0 ? { lot: cell(lot) } : { asset: cell(asset), time: cell(time) };
    return check({ groundTruthData: { data: cell(label) ?? '', encoding: 'CSV' }, eventMetadata: meta, eventVersion: '0' }, `ground truth CSV line ${r.line}`);
  });
}

/**
 * The label values of one record: CSV data is one value per line (a record labelling a batch
 * request has one per row), JSON data a value, an array, or an object with `label`.
 */
export function groundTruthValues(rec: GroundTruthRecord): (string | number)[] {
  const d = rec.groundTruthData;
  const one = (v: unknown): string | number => (typeof v === 'number' ? v : typeof v === 'string' ? (v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v) : JSON.stringify(v));
  if (d.encoding === 'CSV') return d.data.split('\n').map((s) => s.trim()).filter((s) => s !== '').map(one);
  const doc = JSON.parse(d.data) as unknown;
  if (Array.isArray(doc)) return doc.map(one);
  if (doc !== null && typeof doc === 'object' && 'label' in doc) return [one((doc as { label: unknown }).label)];
  return [one(doc)];
}
