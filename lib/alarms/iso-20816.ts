/**
 * ISO 20816-3 evaluation zones for broadband vibration velocity (r.m.s., 10-1000 Hz, mm/s) of
 * industrial machines above 15 kW measured on non-rotating parts (bearing housings).
 *
 * Source: ISO 20816-3:2022 "Mechanical vibration - Measurement and evaluation of machine
 * vibration - Part 3: Industrial machinery with a power rating above 15 kW and operating speeds
 * between 120 r/min and 30 000 r/min", Annex A, Table A.1 (group 1: large machines, 300 kW to
 * 40 MW, and electrical machines with shaft height >= 315 mm) and Table A.2 (group 2: medium
 * machines, 15 kW to 300 kW, electrical machines with shaft height 160-315 mm). The velocity
 * boundaries are the same as in ISO 10816-3:2009 Annex A, which the 2022 edition replaced.
 * Zone A: newly commissioned; B: unrestricted long-term operation; C: restricted (plan action);
 * D: severe enough to cause damage.
 */
export const ISO_20816_3_ZONES = {
  '1': { rigid: [2.3, 4.5, 7.1], flexible: [3.5, 7.1, 11.0] },
  '2': { rigid: [1.4, 2.8, 4.5], flexible: [2.3, 4.5, 7.1] },
} as const;

/** Zone letters, best first. */
export const VIBRATION_ZONES = ['A', 'B', 'C', 'D'] as const;
/** One of {@link VIBRATION_ZONES}. */
export type VibrationZone = (typeof VIBRATION_ZONES)[number];

/** The machine group key of {@link ISO_20816_3_ZONES} from an asset attribute (`2`, `'group2'`, `'Group 2'`), or undefined. */
export function machineGroupKey(group: unknown): '1' | '2' | undefined {
  const m = /^(?:group\s*)?([12])$/i.exec(String(group ?? '').trim());
  return m ? (m[1] as '1' | '2') : undefined;
}

/** Upper boundaries of zones A, B, C (mm/s) for a group and support (`mounting` containing "flex" means flexible). */
export function zoneBoundaries(group: '1' | '2', mounting?: string): readonly [number, number, number] {
  const t = ISO_20816_3_ZONES[group];
  return /flex/i.test(mounting ?? '') ? t.flexible : t.rigid;
}

/**
 * The ISO 20816-3 zone of a velocity r.m.s. value (mm/s).
 *
 * @example
 * import { vibrationZone } from 'millwright';
 * vibrationZone(3.2, [1.4, 2.8, 4.5]); // 'C'
 */
export function vibrationZone(velocityRms: number, bounds: readonly [number, number, number]): VibrationZone {
  if (velocityRms <= bounds[0]) return 'A';
  if (velocityRms <= bounds[1]) return 'B';
  if (velocityRms <= bounds[2]) return 'C';
  return 'D';
}
