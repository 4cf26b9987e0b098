import { S3Client } from '@aws-sdk/client-s3';
import { MillwrightError } from '../errors/index.ts';

/** Where objects live: a bucket and a key prefix (empty, or ending in `/`). */
export interface S3Location {
  bucket: string;
  /** Key prefix, `''` or ending in `/` (`raw/` for `s3://bucket/raw`). */
  prefix: string;
}

/** Connection settings of an S3-compatible endpoint. Credentials are never passed here. */
export interface S3ConnectOptions {
  /** Endpoint URL for S3-compatible servers (`http://127.0.0.1:8080`); omitted: AWS itself (or `AWS_ENDPOINT_URL_S3`). */
  endpoint?: string;
  /** Region; omitted: the SDK's chain (`AWS_REGION`, the profile), else `us-east-1`. */
  region?: string;
}

const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Parses `s3://bucket/prefix` into a bucket and a prefix ending in `/`. Refuses other schemes,
 * invalid bucket names and prefixes with `..` segments, empty segments or control characters.
 *
 * @example
 * import { parseS3Url } from 'millwright';
 * parseS3Url('s3://plant-lake/raw'); // { bucket: 'plant-lake', prefix: 'raw/' }
 */
export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (!m) throw new MillwrightError('USAGE', `${JSON.stringify(url)} is not an S3 URL (expected s3://bucket/prefix)`);
  const bucket = m[1];
  if (!BUCKET_RE.test(bucket)) {
    throw new MillwrightError('USAGE', `invalid bucket name ${JSON.stringify(bucket)} in ${url} (expected 3-63 lower-case letters, digits, "." or "-")`);
  }
  let prefix = m[2] ?? '';
  prefix = prefix.replace(/\/+$/, '');
  // eslint-disable-next-line no-control-regex
  if (prefix !== '' && (prefix.split('/').some((s) => s === '' || s === '.' || s === '..') || /[\u0000-\u001f\u007f]/.test(prefix))) {
    throw new MillwrightError('USAGE', `invalid key prefix ${JSON.stringify(prefix)} in ${url} (expected segments without "..", "." or empty parts)`);
  }
  return { bucket, prefix: prefix === '' ? '' : `${prefix}/` };
}

/** `s3://bucket/prefix` of a location, for messages and journals. */
export function s3Url(loc: S3Location): string {
  return `s3://${loc.bucket}/${loc.prefix}`;
}

/** True for `s3://...` (a `--store` or `--to` naming object storage rather than a folder). */
export function isS3Url(text: string | undefined): text is string {
  return typeof text === 'string' && text.startsWith('s3://');
}

/** An endpoint URL with any user:password part removed, safe to print. */
export function safeEndpoint(endpoint: string | undefined): string {
  if (!endpoint) return 'AWS S3';
  try {
    const u = new URL(endpoint);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(invalid endpoint URL)';
  }
}

/**
 * An S3 client for AWS or an S3-compatible server: path-style addressing (what Swift, Ceph and
 * MinIO expect), credentials from the SDK's default provider chain (environment, shared profile,
 * SSO, container and instance roles), never from an argument, so they never reach a log line.
 * Checksums are computed by millwright itself (Content-MD5 on every PUT), so the SDK's own
 * trailing-checksum encoding, which older S3-compatible servers refuse, is off.
 *
 * @example
 * import { createS3Client } from 'millwright';
 * const s3 = await createS3Client({ endpoint: 'http://127.0.0.1:8080' });
 */
export async function createS3Client(opts: S3ConnectOptions = {}): Promise<S3Client> {
  if (opts.endpoint !== undefined) {
    let u: URL;
    try {
      u = new URL(opts.endpoint);
    } catch {
      throw new MillwrightError('USAGE', `invalid S3 endpoint ${JSON.stringify(safeEndpoint(opts.endpoint))} (expected a URL such as http://127.0.0.1:8080)`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new MillwrightError('USAGE', `S3 endpoint must be http:// or https://, got ${u.protocol}`);
    if (u.username || u.password) throw new MillwrightError('USAGE', 'S3 endpoint must not carry credentials (give them through AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile)');
  }
  const base = {
    endpoint: opts.endpoint,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED' as const,
    responseChecksumValidation: 'WHEN_REQUIRED' as const,
    // Object stores answer 500/503 (InternalError, SlowDown) now and then and ask for a retry;
    // three attempts within a second were not enough against a busy Swift (a HEAD right after a
    // PUT came back 500 three times in CI). Six attempts back off for up to a few seconds.
    maxAttempts: 6,
  };
  if (opts.region) return new S3Client({ ...base, region: opts.region });
  const probe = new S3Client(base);
  try {
    await probe.config.region();
    return probe;
  } catch {
    probe.destroy();
    return new S3Client({ ...base, region: 'us-east-1' });
  }
}

/**
 * Turns an SDK failure into a MillwrightError whose message names the operation and the object
 * but never a credential (the resolved keys are scrubbed from the text as a last guard).
 */
export async function s3Error(client: S3Client, what: string, err: unknown, code: 'UNAVAILABLE' | 'NOT_FOUND' | 'INTEGRITY' = 'UNAVAILABLE'): Promise<MillwrightError> {
  if (err instanceof MillwrightError) return err;
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  const status = e.$metadata?.httpStatusCode;
  let text = `${what}: ${e.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}${e.message && e.message !== e.name ? `: ${e.message}` : ''}`;
  try {
    const creds = await client.config.credentials();
    for (const secret of [creds.secretAccessKey, creds.sessionToken, creds.accessKeyId]) {
      if (secret) text = text.split(secret).join('***');
    }
  } catch {
    // No credentials at all: nothing to scrub.
  }
  const notFound = e.name === 'NoSuchBucket' || e.name === 'NoSuchKey' || status === 404;
  return new MillwrightError(notFound && code === 'UNAVAILABLE' ? 'NOT_FOUND' : code, text);
}
