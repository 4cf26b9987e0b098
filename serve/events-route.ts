/**
 * `POST /events`: maintenance records from a CMMS or a mechanic's app into the store's `events`
 * table. The body is one record or a list; all are checked first and written all or none.
 */
import express, { type Router } from 'express';
import { MillwrightError } from '../lib/errors/index.ts';
import { addMaintenanceRecords, type MaintenanceRecord } from '../lib/maintenance/index.ts';
import { parseTimestamp } from '../lib/ingest/index.ts';

/** A JSON time: epoch ms, or ISO 8601 with an offset. */
function jsonTime(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = parseTimestamp(v);
  return Number.isFinite(t) ? t : v;
}

function toRecord(body: unknown, defaultSite: string | undefined): MaintenanceRecord {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body as MaintenanceRecord;
  const b = body as Record<string, unknown>;
  const allowed = new Set(['site', 'asset', 'kind', 'from', 'to', 'mode', 'note']);
  const extra = Object.keys(b).filter((k) => !allowed.has(k));
  if (extra.length) throw new MillwrightError('BAD_INPUT', `unknown field(s) ${extra.join(', ')} (expected site, asset, kind, from, to, mode, note)`);
  return {
    ...(b as unknown as MaintenanceRecord),
    site: (b.site ?? defaultSite) as string,
    from: jsonTime(b.from) as number,
    ...(b.to === undefined || b.to === null ? { to: undefined } : { to: jsonTime(b.to) as number }),
    source: 'http',
  };
}

/**
 * The `/events` router over a store root (mounted behind the admin bearer token). 201 with the
 * ids written; 400 naming the bad record; 409 for a duplicate; nothing is written on an error.
 */
export function eventsRouter(storeRoot: string, options: { defaultSite?: string } = {}): Router {
  const router = express.Router();
  router.post('/', express.json({ limit: '1mb', type: () => true }), async (req, res, next) => {
    try {
      const body: unknown = req.body;
      const list = Array.isArray(body) ? body : [body];
      if (list.length === 0) throw new MillwrightError('BAD_INPUT', 'the body is an empty list (expected one record or a list of records)');
      const records = list.map((r) => toRecord(r, options.defaultSite));
      for (const r of records) if (r.to === undefined) delete r.to;
      const out = await addMaintenanceRecords(storeRoot, records);
      res.status(201).json({ status: 'recorded', rows: out.rows, ids: out.ids });
    } catch (err) {
      next(err);
    }
  });
  return router;
}
