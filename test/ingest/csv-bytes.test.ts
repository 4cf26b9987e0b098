import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCsvEncoded, readCsvEncodedText, type ReadOptions } from '../../lib/ingest/csv.ts';
import type { Reject } from '../../lib/ingest/reject.ts';
import { mulberry32 } from '../../lib/algorithms/forest/rng.ts';

// The CSV reader's byte-level path (plain rows read straight from the bytes) against the text path
// it falls back to: on lines of every shape, cut into chunks at random places, both must give the
// same batches (every column, line ranges), the same dictionary and the same rejects.

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** A plain field three times in four (so most rows are good), else any of the awkward forms. */
function field(r: () => number, kind: 'ts' | 'name' | 'value' | 'quality'): string {
  if (r() < 0.75) {
    const t = Date.UTC(2024, 2, 1) + Math.floor(r() * 3 * 86_400_000);
    return { ts: new Date(t).toISOString(), name: pick(r, ['motor-1', 'motor-2', 'mühle-ä', 'temp']), value: String(Math.round((r() - 0.5) * 1e7) / 1000), quality: '' }[kind];
  }
  switch (kind) {
    case 'ts':
      return pick(r, [
        '2024-03-01T12:00:00Z',
        '2024-03-01T12:00:00.250Z',
        '2024-03-01T12:59:59.999999999Z',
        '2024-03-01T12:00:00.1234567891Z',
        '2024-03-01 12:00:00.5+01:00',
        '2024-03-01t12:00z',
        '2024-03-01T12:00:00-0530',
        '2024-03-01T12:00:00+05',
        '2024-03-01T12:00:00',
        '2024-02-29T23:00:00Z',
        '2023-02-29T23:00:00Z',
        '2024-13-01T00:00:00Z',
        '2024-03-01T24:00:00Z',
        '2024-03-01T12:60:00Z',
        '2024-03-01T12:00:00.Z',
        '2024-03-01T12:00:00,5Z',
        '1709290800250',
        '1709290800',
        '0900-01-01T00:00:00Z',
        '2024-03-01T12:00:00+24:00',
        '2024-03-0１T12:00:00Z',
        '',
        `2024-03-0${1 + Math.floor(r() * 3)}T${String(Math.floor(r() * 24)).padStart(2, '0')}:${String(Math.floor(r() * 60)).padStart(2, '0')}:${String(Math.floor(r() * 60)).padStart(2, '0')}.${Math.floor(r() * 1000)}Z`,
      ]);
    case 'value':
      return pick(r, ['41.5', '-0', '+5', '.5', '5.', '1e3', '1.2E-3', '123456789012345', '1234567890123456', '9007199254740993', '0.12345678901234567', '0.9999999999999999', '0.0000000000000000000001', '00012.50', 'NaN', 'Infinity', '0x10', '1_000', ' 1', '', '-', '.', String(Math.round((r() - 0.5) * 1e7) / 1000)]);
    case 'quality':
      return pick(r, ['', '', '0', '3', '255', '256', '3.0', 'x', '007', '-1']);
    case 'name':
      return pick(r, ['motor-1', 'motor-1', 'motor-2', 'mühle-ä', 'kiln 3', '', ' ', 'a/b', 'a..b', 'x=1', '50%', 'tab\there', 'n'.repeat(201), 'temp', 'flow', '日本語',
        // longer than the first copy of a previous name (64 bytes), and names that differ only in a last byte or a middle one
        'x'.repeat(70) + '1', 'x'.repeat(70) + '2', 'ü'.repeat(75), 'motor-3', 'motoR-1']);
  }
}

function line(r: () => number): string {
  const u = r();
  if (u < 0.03) return '';
  if (u < 0.05) return '\r';
  const f = [field(r, 'ts'), field(r, 'name'), field(r, 'name'), field(r, 'name'), field(r, 'value'), field(r, 'quality')];
  let text = f.join(',');
  const v = r();
  if (v < 0.03) text = `"${f[0]}",${f.slice(1).join(',')}`;
  else if (v < 0.05) text = f.slice(0, 4).join(',');
  else if (v < 0.07) text += ',extra';
  else if (v < 0.09) text = text.replace(',', ',"a,b",');
  else if (v < 0.1) text += '\r\r';
  return r() < 0.2 ? `${text}\r` : text;
}

async function* chunks(bytes: Buffer, r: () => number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; ) {
    const n = 1 + Math.floor(r() * 300);
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

async function read(reader: typeof readCsvEncoded, bytes: Buffer, seed: number, opts: Partial<ReadOptions>) {
  const rejects: Reject[] = [];
  const batches = [];
  let dict: readonly string[] = [];
  for await (const b of reader(chunks(bytes, mulberry32(seed)), { source: 'f.csv', batchRows: 97, onReject: (x) => rejects.push(x), ...opts })) {
    const { batch } = b;
    batches.push({ ...batch, ts: [...batch.ts], value: [...batch.value], site: [...batch.site], asset: [...batch.asset], signal: [...batch.signal], quality: batch.quality && [...batch.quality] });
    dict = b.dict;
  }
  return { batches, dict: [...dict], rejects };
}

function same(a: readonly unknown[], b: readonly unknown[], what: string): void {
  for (let i = 0; i < Math.max(a.length, b.length); i++) assert.deepEqual(a[i], b[i], `${what} ${i}`);
}

test('the byte path reads every line exactly as the text path: values, names, line ranges, rejects', async () => {
  for (const [seed, opts] of [
    [1, {}],
    [2, { timezone: 'Europe/Berlin' }],
    [3, { site: 'default-site' }],
  ] as const) {
    const r = mulberry32(seed);
    const header = seed === 3 ? 'ts,asset,signal,value,quality' : 'ts,site,asset,signal,value,quality';
    const body = Array.from({ length: 6000 }, () => line(r));
    // seed 3: no site column, so drop each line's site field
    const lines = seed === 3 ? body.map((l) => l.replace(/^([^,]*),[^,]*/, '$1')) : body;
    const bytes = Buffer.from(`\ufeff${header}\n${lines.join('\n')}\n`);
    const viaBytes = await read(readCsvEncoded, bytes, seed, opts);
    const viaText = await read(readCsvEncodedText, bytes, seed, opts);
    assert.ok(viaText.rejects.length > 1000 && viaText.batches.length > 10, `seed ${seed}: ${viaText.rejects.length} rejects, ${viaText.batches.length} batches`);
    // Compared item by item: a failing deepEqual of whole arrays takes minutes to print its diff.
    same(viaBytes.rejects, viaText.rejects, `seed ${seed}: reject`);
    assert.deepEqual(viaBytes.dict, viaText.dict, `seed ${seed}: dictionary`);
    assert.equal(viaBytes.batches.length, viaText.batches.length);
    viaText.batches.forEach((b, k) => {
      const mine = viaBytes.batches[k]!;
      assert.deepEqual([mine.firstLine, mine.lastLine, mine.dictSize], [b.firstLine, b.lastLine, b.dictSize], `seed ${seed}: batch ${k}`);
      for (const c of ['ts', 'value', 'site', 'asset', 'signal', 'quality'] as const) same(mine[c] ?? [], b[c] ?? [], `seed ${seed}: batch ${k} ${c}, row`);
    });
  }
});
