/**
 * `--group-by LEVEL [--asset-model FILE]` of the reports that summarise per asset: asset -> group
 * at that level of the plant's asset model, read from the file or from the store's `assets` table.
 */
import { resolve } from 'node:path';
import type { CliIO } from '../command.ts';
import { usageError } from '../command.ts';
import { assetRows, loadAssetModel } from '../../lib/gateway/index.ts';
import { ASSET_LEVELS, assetGroups, readAssetPlaces, type AssetGroups, type AssetLevel, type AssetPlace } from '../../reports/asset-groups.ts';

/** The parseArgs options of the two flags. */
export const GROUP_BY_OPTIONS = { 'group-by': { type: 'string' }, 'asset-model': { type: 'string' } } as const;

/** `--group-by LEVEL [--asset-model FILE]`: asset -> group at that level, from the file or the store's `assets` table. */
export async function groupsFlag(level: string | undefined, modelFile: string | undefined, root: string, io: CliIO): Promise<AssetGroups | undefined> {
  if (level === undefined) {
    if (modelFile !== undefined) throw usageError('--asset-model is only used with --group-by LEVEL');
    return undefined;
  }
  if (!(ASSET_LEVELS as readonly string[]).includes(level)) throw usageError(`--group-by must be one of ${ASSET_LEVELS.join(', ')}, got "${level}"`);
  let places: AssetPlace[];
  if (modelFile !== undefined) {
    const path = resolve(io.cwd, modelFile);
    places = assetRows(await loadAssetModel(path), '(site not named)');
  } else {
    places = await readAssetPlaces(root);
    if (places.length === 0 && level !== 'asset') {
      throw usageError(`--group-by ${level} needs the plant's asset model: the store ${root} has no assets table (a gateway with an assets file writes one); give --asset-model FILE`);
    }
  }
  return assetGroups(places, level as AssetLevel);
}
