import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { MillwrightError } from '../errors/index.ts';
import { validatePartitionValue } from '../store/index.ts';
import { durationField, sizeField } from './config-fields.ts';
import { formatIssues, formatPath } from './config-issues.ts';
import { assetRows, closestName, loadAssetModel, parseDocument, type AssetModel } from './assets.ts';
import { SOURCE_TYPES, type SourceType } from './sources/index.ts';
import { loadAlarmRules, type AlarmRules } from '../alarms/index.ts';
import { loadNotifyConfig, type NotifyConfig } from '../notify/index.ts';

const siteField = z.string().superRefine((v, ctx) => {
  try {
    validatePartitionValue('site', v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^invalid site partition value /, 'invalid site ') });
  }
});

const pathField = z.string().min(1);

function sourceUnion(types: readonly SourceType[]) {
  const schemas = types.map((t) => t.schema) as unknown as [z.ZodObject, ...z.ZodObject[]];
  return z.discriminatedUnion('type', schemas);
}

/** The gateway config schema over a list of source types (the default: every registered one). */
export function gatewayConfigSchema(types: readonly SourceType[] = SOURCE_TYPES) {
  return z.strictObject({
    site: siteField,
    spool: z.strictObject({
      dir: pathField,
      maxBytes: sizeField,
      /** Time between flushes into the store (default 10s). */
      flushEvery: durationField.optional(),
      /** How long small emits wait to share one fsynced segment (default 5ms). */
      linger: durationField.optional(),
    }),
    store: pathField,
    forward: z
      .strictObject({
        s3: z.strictObject({ endpoint: z.string().url(), bucket: z.string().min(1), prefix: z.string().optional(), region: z.string().min(1).optional() }),
      })
      .optional(),
    assets: pathField.optional(),
    /** Alarm rule file (docs/alarms.md): evaluated on every batch the spool acknowledged. */
    alarms: pathField.optional(),
    /**
     * Notify config file (docs/notifications.md): every alarm state change goes into its outbox;
     * `deliver: false` leaves delivery to a separate `millwright notify run`.
     */
    notify: z.union([pathField, z.strictObject({ config: pathField, deliver: z.boolean().optional() })]).optional(),
    http: z.strictObject({ port: z.number().int().min(0).max(65535), host: z.string().min(1).default('127.0.0.1') }).optional(),
    /** Heartbeat interval of every source (default 10s). */
    heartbeat: durationField.optional(),
    /** Readings stamped further ahead of the gateway's clock than this are rejected (default 5m). */
    maxFutureSkew: durationField.optional(),
    sources: z.array(sourceUnion(types)).min(1),
  });
}

type Parsed = z.output<ReturnType<typeof gatewayConfigSchema>>;

/** One validated source entry (its type's own keys plus `name` and `type`). */
export type SourceConfig = Parsed['sources'][number] & { name: string; type: string };

/** A validated gateway config with paths absolute and defaults filled in. */
export interface GatewayConfig {
  site: string;
  spool: { dir: string; maxBytes: number; flushEvery: number; linger: number };
  store: string;
  /** Passed through to the raw-landing forwarder. */
  forward?: Parsed['forward'];
  /** Absolute path of the asset model file, and the model read from it. */
  assets?: string;
  assetModel?: AssetModel;
  /** Absolute path of the alarm rule file, and the rules read from it. */
  alarms?: string;
  alarmRules?: AlarmRules;
  /** The notify config alarm state changes are enqueued with, and whether the gateway delivers them itself. */
  notify?: { file: string; config: NotifyConfig; deliver: boolean };
  http?: { port: number; host: string };
  heartbeat: number;
  maxFutureSkew: number;
  sources: SourceConfig[];
  /** Folder of the config file (relative paths were resolved against it). */
  baseDir: string;
}

/**
 * Validates a config object (as parsed from YAML/JSON) into a {@link GatewayConfig}. Relative paths
 * resolve against `baseDir`; the asset model (if named) is read and every source's static asset
 * names are checked against it. Throws one BAD_INPUT listing every problem as `path: message`.
 *
 * @example
 * import { parseGatewayConfig } from 'millwright';
 * const cfg = await parseGatewayConfig({ site: 'plant-a', spool: { dir: 'spool', maxBytes: '1gb' }, store: 'store', sources: [...] }, process.cwd());
 */
export async function parseGatewayConfig(data: unknown, baseDir: string, what = 'gateway config', types: readonly SourceType[] = SOURCE_TYPES): Promise<GatewayConfig> {
  const schema = gatewayConfigSchema(types);
  const r = schema.safeParse(data);
  const lines = r.success ? [] : formatIssues(r.error.issues, schema, data);
  let config: GatewayConfig | undefined;
  if (r.success) {
    const c = r.data;
    config = {
      site: c.site,
      spool: { dir: resolve(baseDir, c.spool.dir), maxBytes: c.spool.maxBytes, flushEvery: c.spool.flushEvery ?? 10_000, linger: c.spool.linger ?? 5 },
      store: resolve(baseDir, c.store),
      forward: c.forward,
      assets: c.assets === undefined ? undefined : resolve(baseDir, c.assets),
      http: c.http,
      heartbeat: c.heartbeat ?? 10_000,
      maxFutureSkew: c.maxFutureSkew ?? 300_000,
      // Paths inside source entries (certificates, watched folders) resolve like the others.
      sources: (c.sources as SourceConfig[]).map((s) => {
        const type = types.find((t) => t.type === s.type);
        return (type?.resolvePaths?.(s, baseDir) ?? s) as SourceConfig;
      }),
      baseDir,
    };
    const names = new Map<string, number>();
    config.sources.forEach((s, i) => {
      const before = names.get(s.name);
      if (before !== undefined) lines.push(`${formatPath(['sources', i, 'name'])}: duplicate source name "${s.name}" (also sources[${before}])`);
      else names.set(s.name, i);
    });
    if (config.assets) {
      config.assetModel = await loadAssetModel(config.assets);
      lines.push(...unknownAssets(config, config.assetModel, types));
    }
    if (c.alarms !== undefined) {
      const site = config.site;
      config.alarms = resolve(baseDir, c.alarms);
      try {
        config.alarmRules = await loadAlarmRules(config.alarms, {
          assets: config.assetModel ? assetRows(config.assetModel, site) : undefined,
          loadAssets: async (p) => assetRows(await loadAssetModel(p), site),
        });
      } catch (err) {
        lines.push(`alarms: ${(err as Error).message.replace(/\n/g, '\n  ')}`);
      }
    }
    if (c.notify !== undefined) {
      const n = typeof c.notify === 'string' ? { config: c.notify } : c.notify;
      const file = resolve(baseDir, n.config);
      if (c.alarms === undefined) lines.push('notify: needs an alarms rule file (alarms:): only alarm state changes are notified');
      try {
        config.notify = { file, config: await loadNotifyConfig(file), deliver: n.deliver ?? true };
      } catch (err) {
        lines.push(`notify: ${(err as Error).message.replace(/\n/g, '\n  ')}`);
      }
    }
  }
  if (lines.length > 0 || !config) {
    throw new MillwrightError('BAD_INPUT', `${what} is invalid (${lines.length} problem${lines.length === 1 ? '' : 's'}):\n  ${lines.join('\n  ')}`, { details: { issues: lines } });
  }
  return config;
}

/**
 * `sources[i]: unknown asset "press" (not in the asset model; did you mean press1?)` for every
 * statically named asset of a source that the model does not define.
 */
export function unknownAssets(config: Pick<GatewayConfig, 'sources' | 'assets'>, model: AssetModel, types: readonly SourceType[] = SOURCE_TYPES): string[] {
  const known = new Set(model.areas.flatMap((a) => a.lines.flatMap((l) => l.assets.map((s) => s.name))));
  const lines: string[] = [];
  config.sources.forEach((s, i) => {
    const type = types.find((t) => t.type === s.type);
    for (const asset of new Set(type?.assets(s) ?? [])) {
      if (known.has(asset)) continue;
      const hint = closestName(asset, known);
      lines.push(`sources[${i}]: unknown asset "${asset}" (not in the asset model ${config.assets ?? ''}${hint ? `; did you mean ${hint}?` : ''})`.replace(' )', ')'));
    }
  });
  return lines;
}

/**
 * Reads a gateway config file (YAML, or JSON by a `.json` extension) and validates it with
 * {@link parseGatewayConfig}: unknown keys are refused, every source entry is checked against
 * its type's schema, relative paths resolve against the file's folder.
 *
 * @example
 * import { loadGatewayConfig, startGateway } from 'millwright';
 * const gw = await startGateway(await loadGatewayConfig('gateway.yaml'));
 */
export async function loadGatewayConfig(path: string): Promise<GatewayConfig> {
  const abs = resolve(path);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    throw new MillwrightError('NOT_FOUND', `gateway config ${abs}: ${(err as Error).message}`, { cause: err });
  }
  return parseGatewayConfig(parseDocument(text, abs), dirname(abs), `gateway config ${abs}`);
}
