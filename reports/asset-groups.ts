/**
 * Grouping by a level of the plant's asset model (ISA-95 style site / area / line / asset): each
 * asset name maps to the name of its group at the chosen level, so a report that summarises per
 * asset can summarise per line or per area as well.
 */
import { sql } from '../lib/store/index.ts';
import { MillwrightError } from '../lib/errors/index.ts';

/** Levels of the asset model a report can group by. */
export const ASSET_LEVELS = ['site', 'area', 'line', 'asset'] as const;
export type AssetLevel = (typeof ASSET_LEVELS)[number];

/** Where an asset sits in the hierarchy (the store's `assets` view has these columns). */
export interface AssetPlace {
  asset: string;
  line?: string | null;
  area?: string | null;
  site?: string | null;
}

/** Asset name -> group name at one level, plus the level's name. */
export interface AssetGroups {
  level: AssetLevel;
  of: ReadonlyMap<string, string>;
}

/** Group of an asset the asset model does not list. */
export const UNASSIGNED_GROUP = '(not in the asset model)';

/**
 * The group of each asset at `level`. A line is named with its area (`pressing/line1`), since
 * two areas may each have a `line1`; an area or a site by its own name; `asset` groups each asset alone.
 *
 * @example
 * import { assetGroups } from 'millwright/reports';
 * assetGroups([{ asset: 'press1', line: 'line1', area: 'pressing', site: 'plant-a' }], 'line').of.get('press1'); // 'pressing/line1'
 */
export function assetGroups(places: readonly AssetPlace[], level: AssetLevel): AssetGroups {
  if (!ASSET_LEVELS.includes(level)) throw new MillwrightError('BAD_INPUT', `unknown asset-model level "${String(level)}" (expected one of ${ASSET_LEVELS.join(', ')})`);
  const of = new Map<string, string>();
  for (const p of places) {
    const group = level === 'asset' ? p.asset
      : level === 'site' ? p.site
      : level === 'area' ? p.area
      : p.line == null ? undefined : p.area == null ? p.line : `${p.area}/${p.line}`;
    of.set(p.asset, group ?? UNASSIGNED_GROUP);
  }
  return { level, of };
}

/**
 * Group of `asset` (assets the model does not list fall into {@link UNASSIGNED_GROUP}, or stand alone at level `asset`).
 *
 * @example
 * import { assetGroups, groupOf } from 'millwright/reports';
 * const byArea = assetGroups([{ asset: 'press1', area: 'pressing' }], 'area');
 * groupOf(byArea, 'press1'); // 'pressing'
 * groupOf(byArea, 'kiln9');  // '(not in the asset model)'
 */
export function groupOf(groups: AssetGroups, asset: string): string {
  return groups.of.get(asset) ?? (groups.level === 'asset' ? asset : UNASSIGNED_GROUP);
}

/**
 * The asset model a gateway wrote into a store (`assets` view); empty when there is none.
 *
 * @example
 * import { assetGroups, readAssetPlaces } from 'millwright/reports';
 * const byLine = assetGroups(await readAssetPlaces('.millwright/store'), 'line');
 */
export async function readAssetPlaces(root: string): Promise<AssetPlace[]> {
  const { rows } = await sql('SELECT asset, line, area, site FROM assets ORDER BY site, area, line, asset', { root }).catch((err: Error) => {
    if (/assets/i.test(err.message) && /(not exist|not found|No files found)/i.test(err.message)) return { rows: [] };
    throw err;
  });
  return rows.map((r) => ({ asset: r.asset as string, line: r.line as string | null, area: r.area as string | null, site: r.site as string | null }));
}
