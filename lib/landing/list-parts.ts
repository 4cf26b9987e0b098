import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { validatePartitionValue } from '../store/index.ts';
import { dayOfDate } from '../store/partition.ts';
import { s3Error, s3Url, type S3Location } from './s3-client.ts';
import { etagOf } from './forward-s3.ts';

/** A store file in object storage. */
export interface RemotePart {
  key: string;
  /** `site=<s>/date=<d>/<name>`: the path the file has in a local store. */
  rel: string;
  site: string;
  date: string;
  name: string;
  size: number;
  /** Unquoted ETag (the MD5 for a single-part upload). */
  etag: string;
}

/** Which partitions to list. */
export interface PartFilter {
  sites?: ReadonlySet<string>;
  /** UTC days (since 1970-01-01), inclusive. */
  fromDay?: number;
  toDay?: number;
}

/** What {@link listParts} found and how much listing by prefix skipped. */
export interface PartListing {
  parts: RemotePart[];
  /** Partitions (site, date) seen / listed after pruning. */
  partitionsTotal: number;
  partitionsListed: number;
  /** LIST requests sent. */
  requests: number;
  /** Keys under a partition that are not store files (ignored), or sites/dates refused as unsafe. */
  ignored: string[];
}

async function* pages(client: S3Client, bucket: string, prefix: string, delimiter: boolean, count: () => void): AsyncGenerator<{ prefixes: string[]; objects: { Key: string; Size: number; ETag: string }[] }> {
  let token: string | undefined;
  for (let page = 0; page < 1_000_000; page++) {
    let res;
    try {
      res = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: delimiter ? '/' : undefined, ContinuationToken: token }));
    } catch (err) {
      throw await s3Error(client, `LIST s3://${bucket}/${prefix}`, err);
    }
    count();
    yield {
      prefixes: (res.CommonPrefixes ?? []).map((p) => p.Prefix ?? '').filter((p) => p !== ''),
      objects: (res.Contents ?? []).map((o) => ({ Key: o.Key ?? '', Size: o.Size ?? 0, ETag: o.ETag ?? '' })),
    };
    if (!res.IsTruncated || !res.NextContinuationToken) return;
    token = res.NextContinuationToken;
  }
}

function valueOf(kind: 'site' | 'date', segment: string): string | undefined {
  const m = new RegExp(`^${kind}=(.+)/$`).exec(segment);
  if (!m) return undefined;
  try {
    return validatePartitionValue(kind, m[1]);
  } catch {
    return undefined;
  }
}

/**
 * Lists the store files under a prefix, pruning by listing: one delimited LIST for the sites,
 * one per kept site for its dates, then the objects of the kept partitions only (ListObjectsV2,
 * every page). Site and date values are validated as the local store validates them, so a key
 * such as `site=../x/` can never become a path.
 */
export async function listParts(client: S3Client, loc: S3Location, filter: PartFilter = {}): Promise<PartListing> {
  const out: PartListing = { parts: [], partitionsTotal: 0, partitionsListed: 0, requests: 0, ignored: [] };
  const count = () => out.requests++;
  const sites: string[] = [];
  for await (const p of pages(client, loc.bucket, loc.prefix, true, count)) {
    for (const pre of p.prefixes) {
      const site = valueOf('site', pre.slice(loc.prefix.length));
      if (site === undefined) out.ignored.push(pre);
      else sites.push(site);
    }
  }
  for (const site of sites.sort()) {
    const partitions: string[] = [];
    for await (const p of pages(client, loc.bucket, `${loc.prefix}site=${site}/`, true, count)) {
      for (const pre of p.prefixes) {
        const date = valueOf('date', pre.slice(`${loc.prefix}site=${site}/`.length));
        if (date === undefined) out.ignored.push(pre);
        else partitions.push(date);
      }
    }
    out.partitionsTotal += partitions.length;
    if (filter.sites && !filter.sites.has(site)) continue;
    for (const date of partitions.sort()) {
      const day = dayOfDate(date);
      if ((filter.fromDay !== undefined && day < filter.fromDay) || (filter.toDay !== undefined && day > filter.toDay)) continue;
      out.partitionsListed++;
      const base = `${loc.prefix}site=${site}/date=${date}/`;
      for await (const p of pages(client, loc.bucket, base, true, count)) {
        for (const o of p.objects) {
          const name = o.Key.slice(base.length);
          if (!/^part-[A-Za-z0-9._-]+\.parquet$/.test(name) || name.includes('..')) {
            out.ignored.push(o.Key);
            continue;
          }
          out.parts.push({ key: o.Key, rel: `site=${site}/date=${date}/${name}`, site, date, name, size: o.Size, etag: etagOf(o.ETag) });
        }
      }
    }
  }
  return out;
}

/** `s3://…` of a listed part, for messages. */
export function partUrl(loc: S3Location, part: RemotePart): string {
  return `${s3Url(loc)}${part.rel}`;
}
