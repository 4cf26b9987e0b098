/**
 * Landing benchmark, upload half (`npm run bench -- landing`): against a real OpenStack Swift with
 * s3api started on 127.0.0.1 (test/helpers/swift.ts), the same store files are uploaded by
 * millwright's path (what `flush --to s3` runs per batch: a recorded batch, Content-MD5 + SHA-256,
 * PutObject, ETag check, HeadObject, a fsynced journal line per file, 4 in flight) and by a plain
 * script doing one PutObject per file with the same SDK client settings, sequentially and with the
 * same 4 in flight; and millwright batch by batch as flush sends them (one batch per store
 * write, its files in flight together). Rounds alternate the three, each to its own prefix; medians are printed with
 * the ratios. Env: LANDING_BENCH_READINGS (default 2,000,000), LANDING_BENCH_ROUNDS (default 3).
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ReadingBatch } from '../lib/readings/index.ts';
import { writeReadings } from '../lib/store/index.ts';
import { createS3Client, deliverBatch, forwardToS3, recordBatch, settleBatch } from '../lib/landing/index.ts';
import { mapLimit } from '../lib/landing/map-limit.ts';
import { startSwift } from '../test/helpers/swift.ts';

const SITES = ['north', 'south'];
const ASSETS = ['motor-01', 'motor-02', 'pump-01', 'pump-02', 'fan-01'];
const SIGNALS = ['current', 'temperature', 'vibration', 'speed'];

function batchAt(start: number, n: number, seed: number): ReadingBatch {
  const b: ReadingBatch = { ts: new Float64Array(n), value: new Float64Array(n), site: new Array(n), asset: new Array(n), signal: new Array(n) };
  let s = seed;
  const series = SITES.length * ASSETS.length * SIGNALS.length;
  for (let i = 0; i < n; i++) {
    const k = i % series;
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    b.ts[i] = start + Math.floor(i / series) * 5_000;
    b.site[i] = SITES[k % 2];
    b.asset[i] = ASSETS[Math.floor(k / 2) % ASSETS.length];
    b.signal[i] = SIGNALS[Math.floor(k / 10) % SIGNALS.length];
    b.value[i] = 20 + 5 * Math.sin(i / 500) + (s / 0x7fffffff - 0.5);
  }
  return b;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export default async function landingBench(): Promise<void> {
  const readings = Number(process.env.LANDING_BENCH_READINGS ?? 2_000_000);
  const rounds = Number(process.env.LANDING_BENCH_ROUNDS ?? 3);
  const work = await mkdtemp(join(tmpdir(), 'mw-landing-bench-'));
  const swift = await startSwift();
  Object.assign(process.env, swift.env);
  let client: S3Client | undefined;
  try {
    // The files flush would land: batches of 100k readings, one file per (site, date).
    const store = join(work, 'store');
    const files: string[] = [];
    const groups: string[][] = [];
    const per = 100_000;
    for (let i = 0, start = Date.UTC(2024, 2, 1); i < readings; i += per, start += (per / 40) * 5_000) {
      const written = (await writeReadings(store, batchAt(start, Math.min(per, readings - i), i + 1), { fsync: false })).files;
      files.push(...written);
      groups.push(written);
    }
    const bytes = (await Promise.all(files.map((f) => stat(f)))).reduce((s, st) => s + st.size, 0);
    console.log(`${files.length} store files, ${(bytes / 1e6).toFixed(1)} MB (${readings.toLocaleString('en-US')} readings), Swift s3api on ${swift.endpoint}`);
    client = await createS3Client({ endpoint: swift.endpoint });
    await client.send(new CreateBucketCommand({ Bucket: 'bench' }));

    const ours = async (round: number, headCheck = true): Promise<number> => {
      const spool = join(work, `spool-${round}-${headCheck}`);
      const dest = forwardToS3({ bucket: 'bench', prefix: `ours-${round}-${headCheck}`, client: client!, concurrency: 4, headCheck });
      const t0 = performance.now();
      const batch = await recordBatch(spool, store, [], files, readings);
      await deliverBatch(spool, batch, [dest]);
      await settleBatch(spool, batch);
      return performance.now() - t0;
    };
    // As flush sends them: one batch per store write (its 2-4 files in flight), batch after batch.
    const oursByBatch = async (round: number): Promise<number> => {
      const spool = join(work, `spoolb-${round}`);
      const dest = forwardToS3({ bucket: 'bench', prefix: `batches-${round}`, client: client!, concurrency: 4 });
      const t0 = performance.now();
      for (const g of groups) {
        const batch = await recordBatch(spool, store, [], g, per);
        await deliverBatch(spool, batch, [dest]);
        await settleBatch(spool, batch);
      }
      return performance.now() - t0;
    };
    const plain = async (round: number, inFlight: number): Promise<number> => {
      const t0 = performance.now();
      await mapLimit(files, inFlight, async (f) => {
        const body = await readFile(f);
        await client!.send(new PutObjectCommand({ Bucket: 'bench', Key: `plain${inFlight}-${round}/${f.slice(store.length + 1)}`, Body: body }));
      });
      return performance.now() - t0;
    };
    const t = { ours: [] as number[], noHead: [] as number[], batches: [] as number[], seq: [] as number[], par: [] as number[] };
    await plain(-1, 4); // warm-up: connections, the container's first writes
    for (let r = 0; r < rounds; r++) {
      t.seq.push(await plain(r, 1));
      t.ours.push(await ours(r));
      t.noHead.push(await ours(r, false));
      t.batches.push(await oursByBatch(r));
      t.par.push(await plain(r, 4));
    }
    const mbps = (ms: number) => bytes / 1e6 / (ms / 1000);
    const fps = (ms: number) => files.length / (ms / 1000);
    const line = (name: string, ms: number) => console.log(`  ${name.padEnd(58)} ${(ms / 1000).toFixed(2).padStart(6)} s  ${mbps(ms).toFixed(1).padStart(6)} MB/s  ${fps(ms).toFixed(1).padStart(6)} files/s`);
    console.log(`upload, median of ${rounds} rounds:`);
    line('millwright (MD5+SHA-256, PUT, ETag, HEAD, journal; 4 in flight)', median(t.ours));
    line('millwright without the HeadObject read-back (headCheck: false)', median(t.noHead));
    line(`millwright, batch by batch as flush sends (${groups.length} batches)`, median(t.batches));
    line('plain PutObject per file, sequential', median(t.seq));
    line('plain PutObject per file, 4 in flight', median(t.par));
    console.log(`  ratio vs plain sequential:   ${(median(t.seq) / median(t.ours)).toFixed(2)}x (target >= 0.9x)`);
    console.log(`  ratio vs plain, same 4 in flight: ${(median(t.par) / median(t.ours)).toFixed(2)}x`);
    console.log(`  without HeadObject vs plain, same 4 in flight: ${(median(t.par) / median(t.noHead)).toFixed(2)}x`);
    console.log(`  batch by batch vs plain sequential: ${(median(t.seq) / median(t.batches)).toFixed(2)}x`);
  } finally {
    client?.destroy();
    await swift.stop();
    await rm(work, { recursive: true, force: true });
  }
}
