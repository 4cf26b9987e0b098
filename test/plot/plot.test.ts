import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import * as aq from 'arquero';
import { lineChart, bandChart, heatmap, scatterChart, renderPlot, Plot } from '../../lib/plot/index.ts';
import { hourOfWeekProfile, learnAlarmBands, flagReadings, timeDomainFeatures, operatingState } from '../../lib/features/index.ts';
import { smallPlant, rng } from '../features/plant.ts';
import { assertSnapshot } from '../helpers/snapshot.ts';

const dir = fileURLToPath(new URL('./snapshots/', import.meta.url));

function snapshot(name: string, markup: string) {
  assertSnapshot(`${dir}${name}.svg`, markup);
}

function wellFormed(markup: string) {
  assert.match(markup, /^<(svg|figure)[\s>]/);
  assert.ok(!/NaN|undefined/.test(markup), 'no NaN/undefined in the markup');
  // Time axes are UTC: the machine's zone must not leak in.
  assert.ok(!/GMT|[+-]\d\d:\d\d\b/.test(markup));
}

const plant = smallPlant(3).table;
const current = plant.filter((d: { asset: string; signal: string }) => d.asset === 'press-1' && d.signal === 'current');

test('lineChart: one day of current on a UTC axis, deterministic', () => {
  const rows = current.filter(aq.escape((d: { ts: number }) => d.ts < Date.UTC(2026, 0, 6))).objects();
  const svg = lineChart(rows, { y: 'value', yLabel: 'current (A)' });
  wellFormed(svg);
  assert.match(svg, /aria-label="line"/);
  assert.match(svg, />06 AM<|>6 AM</); // production starts at 06:00 UTC
  assert.equal(svg, lineChart(rows, { y: 'value', yLabel: 'current (A)' }));
  const tz = process.env.TZ;
  process.env.TZ = 'Asia/Seoul';
  try {
    assert.equal(lineChart(rows, { y: 'value', yLabel: 'current (A)' }), svg, 'same output in another time zone');
  } finally {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
  snapshot('line-current', svg);
  const two = lineChart(plant.filter(aq.escape((d: { signal: string; ts: number }) => d.signal === 'speed' && d.ts < Date.UTC(2026, 0, 5, 12))).objects(), { stroke: 'asset', title: 'speed' });
  assert.match(two, /^<figure/);
  assert.match(two, /press-2/);
  snapshot('line-speed-by-asset', two);
});

test('bandChart: normal band and alarm dots', () => {
  // Bands per operating state: the band follows the machine from idle to running.
  const press1 = operatingState(plant.filter((d: { asset: string }) => d.asset === 'press-1'), { signal: 'speed', on: 700, off: 400 });
  const cur = press1.filter((d: { signal: string }) => d.signal === 'current');
  const base = learnAlarmBands(cur.filter(aq.escape((d: { ts: number }) => d.ts < Date.UTC(2026, 0, 6))), { method: 'quantile', quantiles: [0.005, 0.995], state: 'state' });
  const day2 = flagReadings(cur.filter(aq.escape((d: { ts: number }) => d.ts >= Date.UTC(2026, 0, 6, 9) && d.ts < Date.UTC(2026, 0, 6, 12))), base);
  const svg = bandChart(day2.objects(), { title: 'current vs band' });
  wellFormed(svg);
  const dots = (svg.match(/<circle/g) ?? []).length;
  assert.equal(dots, (day2.array('alarm') as boolean[]).filter(Boolean).length);
  assert.ok(dots > 0);
  snapshot('band-current', svg);
});

test('heatmap: hour-of-week profile, one cell per weekday and hour present', () => {
  const prof = hourOfWeekProfile(current);
  const svg = heatmap(prof.objects(), { fill: 'mean', title: 'current by hour of week' });
  wellFormed(svg);
  assert.equal((svg.match(/<rect/g) ?? []).length - 1 /* legend ramp */ >= prof.numRows(), true);
  snapshot('heatmap-hour-of-week', svg);
});

test('scatterChart and renderPlot with raw Plot options', () => {
  const r = rng(5);
  const rows = ['normal', 'fault'].flatMap((cls) => Array.from({ length: 20 }, () => {
    const x = Float64Array.from({ length: 512 }, () => (r() - 0.5) + (cls === 'fault' && r() < 0.02 ? 8 : 0));
    const f = timeDomainFeatures(x);
    return { class: cls, rms: f.rms, kurtosis: f.kurtosis };
  }));
  const svg = scatterChart(rows, { x: 'rms', y: 'kurtosis', fill: 'class', logY: true });
  wellFormed(svg);
  assert.equal((svg.match(/<circle/g) ?? []).length, 40);
  snapshot('scatter-kurtosis', svg);
  const raw = renderPlot({ marks: [Plot.barY([{ k: 'a', v: 1.23456789 }], { x: 'k', y: 'v' })] });
  assert.match(raw, /<rect/);
  assert.ok(!/\d\.\d{3,}/.test((raw.match(/ (?:x|y|width|height)="[^"]*"/g) ?? []).join('')), 'coordinates rounded');
});
