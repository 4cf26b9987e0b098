import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { MillwrightError } from '../errors/index.ts';
import type { AssetRow } from '../store/index.ts';
import { formatIssues } from './config-issues.ts';

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'expected a name of letters, digits, _ . : - (used in SQL and paths)');

const attributes = z
  .object({
    /** Rated power, kW. */
    ratedPower: z.number().positive().optional(),
    /** Nominal running speed, rpm. */
    runningSpeed: z.number().positive().optional(),
    /** Machine group (ISO 10816 / 20816 vibration classes: 1-4, or a plant's own label). */
    machineGroup: z.union([z.string(), z.number()]).optional(),
    /** Sensor mounting notes. */
    mounting: z.string().optional(),
  })
  .catchall(z.union([z.string(), z.number(), z.boolean()]));

const assetSchema = z.strictObject({ name, type: z.string().min(1).optional(), attributes: attributes.optional() });
const lineSchema = z.strictObject({ name, assets: z.array(assetSchema) });
const areaSchema = z.strictObject({ name, lines: z.array(lineSchema) });

/** The asset model file: ISA-95 site / area / line / asset. */
export const assetModelSchema = z.strictObject({
  /** The site the model describes (default: the gateway's site). */
  site: z.string().min(1).optional(),
  areas: z.array(areaSchema),
});

/** A validated asset model. */
export type AssetModel = z.output<typeof assetModelSchema>;

/**
 * Reads an asset model file (YAML or JSON), validates it (unknown keys refused, duplicate asset
 * names refused) and returns it. Errors list every issue as `path: message`.
 *
 * @example
 * import { loadAssetModel } from 'millwright';
 * const model = await loadAssetModel('assets.yaml');
 */
export async function loadAssetModel(path: string): Promise<AssetModel> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new MillwrightError('NOT_FOUND', `asset model ${path}: ${(err as Error).message}`, { cause: err });
  }
  const data = parseDocument(text, path);
  const r = assetModelSchema.safeParse(data);
  const lines = r.success ? [] : formatIssues(r.error.issues, assetModelSchema, data);
  if (r.success) {
    const seen = new Map<string, string>();
    r.data.areas.forEach((a, ai) =>
      a.lines.forEach((l, li) =>
        l.assets.forEach((s, si) => {
          const here = `areas[${ai}].lines[${li}].assets[${si}]`;
          const before = seen.get(s.name);
          if (before) lines.push(`${here}.name: asset "${s.name}" is already defined at ${before}`);
          else seen.set(s.name, here);
        }),
      ),
    );
  }
  if (lines.length > 0 || !r.success) throw new MillwrightError('BAD_INPUT', `asset model ${path} is invalid:\n  ${lines.join('\n  ')}`, { details: { issues: lines } });
  return r.data;
}

/** Parses YAML or JSON text (by extension; YAML is a superset of JSON anyway). */
export function parseDocument(text: string, path: string): unknown {
  try {
    return extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `${path} is not valid ${extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`, { cause: err });
  }
}

/** Every asset of a model with its line, area and site (the rows of the `assets` view). */
export function assetRows(model: AssetModel, defaultSite: string): AssetRow[] {
  const site = model.site ?? defaultSite;
  const rows: AssetRow[] = [];
  for (const area of model.areas) {
    for (const line of area.lines) {
      for (const a of line.assets) {
        const at = a.attributes ?? {};
        rows.push({
          asset: a.name, line: line.name, area: area.name, site, type: a.type,
          ratedPower: at.ratedPower, runningSpeed: at.runningSpeed,
          machineGroup: at.machineGroup === undefined ? undefined : String(at.machineGroup), mounting: at.mounting, attributes: at,
        });
      }
    }
  }
  return rows;
}

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const keep = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      diag = keep;
    }
  }
  return prev[b.length];
}

/** The known name closest to `name` (edit distance, case-insensitive), if it is plausibly a typo of it. */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}
