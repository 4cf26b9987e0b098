import { createHash } from 'node:crypto';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { MillwrightError } from '../errors/index.ts';
import { s3Error } from './s3-client.ts';
import { etagOf } from './forward-s3.ts';
import type { RemotePart } from './list-parts.ts';

/** How a downloaded object was proven whole. */
export type Verification = 'md5' | 'sha256' | 'size-only';

/**
 * Downloads one object into memory and proves it is the object listed: the size, the MD5 against
 * a single-part ETag, and the SHA-256 millwright stores as `x-amz-meta-sha256` when present. A
 * mismatch is an INTEGRITY error and the bytes are never returned, so they can never be written.
 */
export async function fetchVerified(client: S3Client, bucket: string, part: RemotePart): Promise<{ body: Uint8Array; verified: Verification }> {
  const where = `s3://${bucket}/${part.key}`;
  let body: Uint8Array;
  let etag: string;
  let meta: Record<string, string> | undefined;
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: part.key, IfMatch: part.etag ? `"${part.etag}"` : undefined }));
    body = await res.Body!.transformToByteArray();
    etag = etagOf(res.ETag);
    meta = res.Metadata;
  } catch (err) {
    throw await s3Error(client, `GET ${where}`, err);
  }
  if (body.length !== part.size) throw new MillwrightError('INTEGRITY', `${where}: got ${body.length} bytes, the listing says ${part.size}; not written`);
  let verified: Verification = 'size-only';
  if (/^[0-9a-f]{32}$/.test(etag)) {
    const md5 = createHash('md5').update(body).digest('hex');
    if (md5 !== etag) throw new MillwrightError('INTEGRITY', `${where}: checksum mismatch (MD5 of the bytes received ${md5}, ETag ${etag}); the object is damaged, not written`);
    verified = 'md5';
  }
  const sha = meta?.sha256;
  if (sha && /^[0-9a-f]{64}$/.test(sha)) {
    const got = createHash('sha256').update(body).digest('hex');
    if (got !== sha) throw new MillwrightError('INTEGRITY', `${where}: checksum mismatch (SHA-256 of the bytes received ${got}, x-amz-meta-sha256 ${sha}); the object is damaged, not written`);
    verified = verified === 'md5' ? 'md5' : 'sha256';
  }
  return { body, verified };
}
