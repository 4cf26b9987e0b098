import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { generatePlant } from './generate-plant.ts';
import type { PlantOptions } from './options.ts';

const HOUR = 3_600_000;

/**
 * Hourly energy and production of a synthetic plant, the table an energy load-curve model trains
 * on (and the synthetic stand-in for the steel dataset when real data is absent): one row per
 * site and hour with `ts` (hour start, epoch ms UTC), `site`, `energy_kwh`, `production_units`,
 * and from the ground truth `in_shift` (1 when any minute of the hour is staffed) and `waste`
 * (1 when a line was left running idle in that hour). Streams the plant, so memory stays small.
 *
 * @example
 * const hourly = plantEnergyTable({ seed: 7, days: 28 });
 * hourly.filter((d) => d.waste === 1).numRows();
 */
export function plantEnergyTable(options: PlantOptions = {}): ColumnTable {
  const plant = generatePlant(options);
  const { from, to, sites } = plant.options;
  const h0 = Math.floor(from / HOUR);
  const hours = Math.ceil(to / HOUR) - h0;
  const energy = sites.map(() => new Float64Array(hours));
  const units = sites.map(() => new Float64Array(hours));
  const siteIndex = new Map(sites.map((s, i) => [s, i]));
  for (const b of plant) {
    for (let i = 0; i < b.ts.length; i++) {
      const sig = b.signal[i];
      if (sig !== 'energy_kwh' && sig !== 'production_units') continue;
      const h = Math.floor(b.ts[i]! / HOUR) - h0;
      (sig === 'energy_kwh' ? energy : units)[siteIndex.get(b.site[i]!)!]![h]! += b.value[i]!;
    }
  }
  const overlaps = (list: { site: string; start: number; end: number }[], site: string, h: number) =>
    list.some((x) => x.site === site && x.start < (h0 + h + 1) * HOUR && x.end > (h0 + h) * HOUR) ? 1 : 0;
  const cols = { ts: [] as number[], site: [] as string[], energy_kwh: [] as number[], production_units: [] as number[], in_shift: [] as number[], waste: [] as number[] };
  sites.forEach((site, s) => {
    for (let h = 0; h < hours; h++) {
      cols.ts.push((h0 + h) * HOUR);
      cols.site.push(site);
      cols.energy_kwh.push(energy[s]![h]!);
      cols.production_units.push(units[s]![h]!);
      cols.in_shift.push(overlaps(plant.truth.shifts, site, h));
      cols.waste.push(overlaps(plant.truth.waste, site, h));
    }
  });
  return aq.table(cols);
}
