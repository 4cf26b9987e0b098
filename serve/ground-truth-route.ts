/**
 * `POST /ground-truth`: late labels for captured inferences, into the label store the scheduled
 * model-quality report merges with the capture. The body is JSON Lines in SageMaker's
 * ground-truth layout, or a CSV keyed by inference id, lot or asset + time (lib/ground-truth);
 * all of it is checked first and stored all or none.
 */
import express, { type Router } from 'express';
import { MillwrightError } from '../lib/errors/index.ts';
import { appendGroundTruth, parseGroundTruth } from '../lib/ground-truth/index.ts';

/** The body's format from its Content-Type: CSV, JSON Lines, or (otherwise) its first character. */
function formatOf(contentType: string | undefined): 'csv' | 'jsonl' | undefined {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (ct.includes('csv')) return 'csv';
  if (ct.includes('json')) return 'jsonl';
  return undefined;
}

/**
 * The `/ground-truth` router over a label store directory (mounted behind the admin bearer token).
 * 201 with the number of labels stored; 400 naming the bad line; nothing is stored on an error.
 */
export function groundTruthRouter(storeDir: string, options: { maxBodyBytes?: number; onStored?: (labels: number) => void } = {}): Router {
  const router = express.Router();
  router.post('/', express.raw({ type: () => true, limit: options.maxBodyBytes ?? 16 * 1024 * 1024 }), async (req, res, next) => {
    try {
      const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(body);
      } catch {
        throw new MillwrightError('BAD_INPUT', 'the body is not UTF-8 text (expected JSON Lines or CSV labels)');
      }
      if (text.trim() === '') throw new MillwrightError('BAD_INPUT', 'the body is empty (expected JSON Lines in SageMaker\'s ground-truth layout, or a CSV with a label and a key column)');
      const labels = parseGroundTruth(text, formatOf(req.headers['content-type']) ?? (text.trimStart().startsWith('{') ? 'jsonl' : 'csv'));
      if (labels.length === 0) throw new MillwrightError('BAD_INPUT', 'the body holds no labels (a CSV header alone?)');
      await appendGroundTruth(storeDir, labels);
      options.onStored?.(labels.length);
      res.status(201).json({ status: 'recorded', labels: labels.length });
    } catch (err) {
      next(err);
    }
  });
  return router;
}
