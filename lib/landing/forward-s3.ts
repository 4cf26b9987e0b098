import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { MillwrightError } from '../errors/index.ts';
import type { ConfirmJournal, DeliveryResult, LandingDestination, LandingBatch } from './batch-journal.ts';
import { createS3Client, parseS3Url, s3Error, s3Url, safeEndpoint, type S3ConnectOptions } from './s3-client.ts';
import { mapLimit } from './map-limit.ts';

/** Options of {@link forwardToS3}: the gateway config's `forward.s3` block. */
export interface ForwardS3Options extends S3ConnectOptions {
  bucket: string;
  /** Key prefix (`raw` or `raw/`; default: the bucket root). */
  prefix?: string;
  /** Uploads in flight per batch (default 4). */
  concurrency?: number;
  /** A client to use instead of making one (tests, a shared pool). */
  client?: S3Client;
  /**
   * Read each object back with HeadObject after the PUT (default true). Off, a file is confirmed
   * by the server's Content-MD5 check and the answered ETag alone: one request per file instead
   * of two (see the landing benchmark), for servers whose PUT answer you trust.
   */
  headCheck?: boolean;
}

/** Unquoted, lower-case ETag. */
export function etagOf(etag: string | undefined): string {
  return (etag ?? '').replace(/^W\//, '').replace(/"/g, '').toLowerCase();
}

/**
 * Uploads one file and proves it landed whole: PUT with Content-MD5 (the server refuses a body
 * that does not match it), the answered ETag compared with the MD5, then a HeadObject whose size
 * and ETag must match too. The SHA-256 goes along as `x-amz-meta-sha256` for readers that check it.
 */
export async function putVerified(client: S3Client, bucket: string, key: string, body: Uint8Array, opts: { head?: boolean } = {}): Promise<{ md5: string }> {
  const md5 = createHash('md5').update(body);
  const md5Hex = md5.copy().digest('hex');
  const sha256 = createHash('sha256').update(body).digest('hex');
  const where = `s3://${bucket}/${key}`;
  let put;
  try {
    put = await client.send(new PutObjectCommand({
      Bucket: bucket, Key: key, Body: body, ContentLength: body.length, ContentMD5: md5.digest('base64'),
      ContentType: 'application/vnd.apache.parquet', Metadata: { sha256 },
    }));
  } catch (err) {
    throw await s3Error(client, `PUT ${where}`, err);
  }
  if (etagOf(put.ETag) !== md5Hex) throw new MillwrightError('INTEGRITY', `PUT ${where} answered ETag ${put.ETag ?? '(none)'}, expected the MD5 ${md5Hex} of the ${body.length} bytes sent`);
  if (opts.head === false) return { md5: md5Hex };
  let head;
  try {
    head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  } catch (err) {
    throw await s3Error(client, `HEAD ${where} after PUT`, err);
  }
  if (head.ContentLength !== body.length || etagOf(head.ETag) !== md5Hex) {
    throw new MillwrightError('INTEGRITY', `${where} reads back as ${head.ContentLength} bytes with ETag ${head.ETag}, expected ${body.length} bytes with MD5 ${md5Hex}`);
  }
  return { md5: md5Hex };
}

/**
 * A flush destination that lands each batch's store files in S3-compatible object storage under
 * the same Hive layout, `<prefix>site=<site>/date=<YYYY-MM-DD>/part-<id>.parquet`, which Athena,
 * Glue, Spark and Trino read as a partitioned table (docs/landing.md has the DDL). A file counts
 * as landed once {@link putVerified} proved it; each confirmation is journaled in the spool, so a
 * retry after an outage or a crash sends only what was not confirmed, under the same key (an
 * overwrite, never a second copy).
 *
 * @example
 * import { flushSpool, forwardToS3 } from 'millwright';
 * const s3 = forwardToS3({ endpoint: 'http://127.0.0.1:8080', bucket: 'plant-lake', prefix: 'raw' });
 * await flushSpool({ spool: '.millwright/spool', store: '.millwright/store', destinations: [s3] });
 */
export function forwardToS3(opts: ForwardS3Options): LandingDestination {
  const loc = parseS3Url(`s3://${opts.bucket}/${opts.prefix ?? ''}`);
  const concurrency = opts.concurrency ?? 4;
  let client: Promise<S3Client> | undefined = opts.client ? Promise.resolve(opts.client) : undefined;
  const name = `${s3Url(loc)} at ${safeEndpoint(opts.endpoint)}`;
  return {
    name,
    async deliver(batch: LandingBatch, journal: ConfirmJournal): Promise<DeliveryResult> {
      client ??= createS3Client(opts);
      const s3 = await client;
      const done = await journal.confirmed();
      const result: DeliveryResult = { sent: 0, skipped: 0, bytes: 0 };
      // The journal's fsync overlaps the next upload; deliver resolves only once every line is durable.
      const journaled: Promise<void>[] = [];
      await mapLimit(batch.files, concurrency, async (f) => {
        if (done.has(f.rel)) {
          result.skipped++;
          return;
        }
        const body = await readFile(f.path);
        const { md5 } = await putVerified(s3, loc.bucket, `${loc.prefix}${f.rel}`, body, { head: opts.headCheck });
        const line = journal.confirm({ rel: f.rel, size: body.length, md5 });
        line.catch(() => undefined); // awaited below; this keeps an early failure from going unhandled
        journaled.push(line);
        result.sent++;
        result.bytes += body.length;
      });
      await Promise.all(journaled);
      return result;
    },
  };
}
