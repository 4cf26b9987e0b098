/**
 * A model repository folder served over the Open Inference Protocol: `<repo>/<name>/<version>/`,
 * each version a model artifact dir (as `millwright train` or the registry writes it). A version
 * policy picks which versions of each model are loaded; each model loads and unloads on its own
 * pools (worker threads), so the others keep serving. Follows the repository extension of
 * KServe / Triton (index, load, unload):
 * https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_model_repository.md
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MillwrightError } from '../../lib/errors/index.ts';
import { MANIFEST_FILE } from '../../lib/model/artifact.ts';
import type { ModelInfo, ModelPool } from '../pool.ts';

/** Which versions of a model are loaded: the newest N, a fixed list, or every one. */
export type VersionPolicy = { latest: number } | { specific: string[] } | { all: true };

/** Model and version names are single path segments (they come from URLs and become folder names). */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Parses a version policy: `latest` / `latest:N`, `specific:1,3`, `all`.
 *
 * @example
 * import { parseVersionPolicy } from 'millwright/serve';
 * parseVersionPolicy('latest:2'); // { latest: 2 }
 * parseVersionPolicy('specific:1,3'); // { specific: ['1', '3'] }
 */
export function parseVersionPolicy(text: string): VersionPolicy {
  const t = text.trim();
  if (t === 'all') return { all: true };
  if (t === 'latest') return { latest: 1 };
  const latest = /^latest:(\d+)$/.exec(t);
  if (latest && Number(latest[1]) >= 1) return { latest: Number(latest[1]) };
  const specific = /^specific:(.+)$/.exec(t);
  if (specific) {
    const versions = specific[1]!.split(',').map((v) => v.trim()).filter(Boolean);
    if (versions.length > 0 && versions.every((v) => SEGMENT.test(v))) return { specific: versions };
  }
  throw new MillwrightError('USAGE', `version policy "${text}" is not valid; expected latest, latest:N (N >= 1), specific:V1,V2 or all`);
}

/**
 * Versions oldest first: numerically when every name is a number (Triton's layout), else by name (timestamps sort).
 *
 * @example
 * import { sortVersions } from 'millwright/serve';
 * sortVersions(['10', '2', '1']); // ['1', '2', '10']
 */
export function sortVersions(versions: string[]): string[] {
  const numeric = versions.every((v) => /^\d+$/.test(v));
  return [...versions].sort((a, b) => (numeric ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The versions a policy selects from those present, oldest first.
 *
 * @example
 * import { selectVersions } from 'millwright/serve';
 * selectVersions(['1', '2', '10'], { latest: 2 }); // ['2', '10']
 */
export function selectVersions(available: string[], policy: VersionPolicy): string[] {
  const sorted = sortVersions(available);
  if ('all' in policy) return sorted;
  if ('latest' in policy) return sorted.slice(-policy.latest);
  return sorted.filter((v) => policy.specific.includes(v));
}

/** One row of the repository index. */
export interface RepositoryIndexEntry {
  name: string;
  version?: string;
  state: 'READY' | 'LOADING' | 'UNAVAILABLE' | 'UNLOADED';
  reason?: string;
}

interface ModelEntry {
  /** Loaded versions, by version name. */
  versions: Map<string, ModelPool>;
  state: RepositoryIndexEntry['state'];
  reason?: string;
  /** One load/unload of this model at a time. */
  busy: Promise<unknown>;
}

export interface RepositoryOptions {
  dir: string;
  policy?: VersionPolicy;
  /** Starts a pool for a version's artifact dir (the server's pool factory). */
  newPool: (dir: string) => ModelPool;
  log?: (fields: Record<string, unknown>) => void;
}

/**
 * The models of a repository folder and the pools serving their versions.
 *
 * @example
 * import { ModelRepository } from 'millwright/serve';
 * const repo = new ModelRepository({ dir: '/srv/models', policy: { latest: 2 }, newPool });
 * await repo.loadAll();
 * const { pool, version } = repo.resolve('press-energy');
 */
export class ModelRepository {
  readonly options: RepositoryOptions;
  private models = new Map<string, ModelEntry>();
  private closed = false;
  /** Set for the whole of `loadAll` (see `loading`). */
  private loadingAll = false;

  constructor(options: RepositoryOptions) {
    this.options = options;
  }

  get policy(): VersionPolicy {
    return this.options.policy ?? { latest: 1 };
  }

  /** Model folders present in the repository (a folder with at least one version dir holding model.json). */
  async scan(): Promise<string[]> {
    let entries;
    try {
      entries = await readdir(this.options.dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MillwrightError('NOT_FOUND', `model repository ${this.options.dir} does not exist`);
      throw err;
    }
    const out: string[] = [];
    for (const e of entries) if (e.isDirectory() && SEGMENT.test(e.name) && (await this.versionsOnDisk(e.name)).length > 0) out.push(e.name);
    return out.sort();
  }

  private async versionsOnDisk(name: string): Promise<string[]> {
    const dir = join(this.options.dir, name);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: string[] = [];
    for (const e of entries) {
      if (!e.isDirectory() || !SEGMENT.test(e.name)) continue;
      if (await stat(join(dir, e.name, MANIFEST_FILE)).then((s) => s.isFile(), () => false)) out.push(e.name);
    }
    return out;
  }

  /** Loads every model of the repository, one after the other; a model that fails is UNAVAILABLE, the others serve. */
  async loadAll(): Promise<void> {
    this.loadingAll = true;
    try {
      for (const name of await this.scan()) {
        await this.load(name).catch(() => undefined);
      }
    } finally {
      this.loadingAll = false;
    }
  }

  /**
   * True while any model is loading, and for the whole of `loadAll`: between two models of the
   * start-up load no model is LOADING, and readiness must not report the server ready then (the
   * next model would answer 404/503 to a client that trusted /v2/health/ready).
   */
  get loading(): boolean {
    return this.loadingAll || [...this.models.values()].some((m) => m.state === 'LOADING');
  }

  /** Names of the models with at least one version ready. */
  readyModels(): string[] {
    return [...this.models.entries()].filter(([, m]) => [...m.versions.values()].some((p) => p.healthy)).map(([n]) => n);
  }

  private entry(name: string): ModelEntry {
    let m = this.models.get(name);
    if (!m) {
      m = { versions: new Map(), state: 'UNLOADED', busy: Promise.resolve() };
      this.models.set(name, m);
    }
    return m;
  }

  /**
   * (Re)loads a model: starts pools for the versions the policy selects beside the ones serving,
   * then swaps and drains the replaced ones. If no selected version loads, what was serving stays.
   */
  load(name: string): Promise<{ loaded: string[]; failed: Record<string, string> }> {
    if (!SEGMENT.test(name)) return Promise.reject(new MillwrightError('BAD_INPUT', `model name "${name}" is not valid (letters, digits, ".", "_", "-")`));
    const m = this.entry(name);
    const run = m.busy.then(async () => {
      if (this.closed) throw new MillwrightError('UNAVAILABLE', 'server is shutting down');
      const onDisk = await this.versionsOnDisk(name);
      if (onDisk.length === 0) throw new MillwrightError('NOT_FOUND', `model "${name}" has no version in ${join(this.options.dir, name)} (expected <version>/${MANIFEST_FILE})`);
      const wanted = selectVersions(onDisk, this.policy);
      if (wanted.length === 0) throw new MillwrightError('NOT_FOUND', `model "${name}": the version policy ${JSON.stringify(this.policy)} selects none of ${sortVersions(onDisk).join(', ')}`);
      const previous = m.state;
      m.state = 'LOADING';
      const started = new Map<string, ModelPool>();
      const failed: Record<string, string> = {};
      for (const v of wanted) {
        const pool = this.options.newPool(join(this.options.dir, name, v));
        try {
          await pool.start();
          started.set(v, pool);
        } catch (err) {
          failed[v] = (err as Error).message;
        }
      }
      if (started.size === 0) {
        m.state = m.versions.size > 0 ? previous : 'UNAVAILABLE';
        m.reason = `no version loaded: ${Object.entries(failed).map(([v, r]) => `${v}: ${r}`).join('; ')}`;
        this.options.log?.({ level: 'error', msg: 'repository model load failed', model: name, failed });
        throw new MillwrightError('UNAVAILABLE', `model "${name}": ${m.reason}`);
      }
      const old = m.versions;
      m.versions = started;
      m.state = 'READY';
      m.reason = Object.keys(failed).length > 0 ? `versions not loaded: ${Object.entries(failed).map(([v, r]) => `${v}: ${r}`).join('; ')}` : undefined;
      this.options.log?.({ level: 'info', msg: 'repository model loaded', model: name, versions: [...started.keys()], failed });
      for (const pool of old.values()) void pool.drain();
      return { loaded: [...started.keys()], failed };
    });
    m.busy = run.catch(() => undefined);
    return run;
  }

  /** Stops serving a model: new requests get 404/503, requests already accepted finish, then its workers end. */
  unload(name: string): Promise<void> {
    const m = this.models.get(name);
    if (!m) return Promise.reject(new MillwrightError('NOT_FOUND', `model "${name}" is not in the repository index`));
    const run = m.busy.then(async () => {
      const pools = [...m.versions.values()];
      m.versions = new Map();
      m.state = 'UNLOADED';
      m.reason = undefined;
      this.options.log?.({ level: 'info', msg: 'repository model unloaded', model: name });
      await Promise.all(pools.map((p) => p.drain()));
    });
    m.busy = run.catch(() => undefined);
    return run;
  }

  /** The repository index: every model on disk or known, each loaded version, and why a model is unavailable. */
  async index(opts: { ready?: boolean } = {}): Promise<RepositoryIndexEntry[]> {
    const names = new Set([...(await this.scan()), ...this.models.keys()]);
    const out: RepositoryIndexEntry[] = [];
    for (const name of [...names].sort()) {
      const m = this.models.get(name);
      if (!m || m.versions.size === 0) {
        if (!opts.ready) out.push({ name, state: m?.state ?? 'UNLOADED', ...(m?.reason ? { reason: m.reason } : {}) });
        continue;
      }
      for (const v of sortVersions([...m.versions.keys()])) {
        const healthy = m.versions.get(v)!.healthy;
        if (opts.ready && !healthy) continue;
        out.push({ name, version: v, state: healthy ? 'READY' : 'UNAVAILABLE', ...(m.reason ? { reason: m.reason } : {}) });
      }
    }
    return out;
  }

  /** True when the repository has (or had) this model. */
  has(name: string): boolean {
    return this.models.has(name);
  }

  /** Loaded versions of a model, oldest first. */
  versions(name: string): string[] {
    return sortVersions([...(this.models.get(name)?.versions.keys() ?? [])]);
  }

  /**
   * The pool for `name` at `version` (default: the newest loaded). NOT_FOUND for an unknown model
   * or a version that is not loaded; UNAVAILABLE for a model that is loading or failed.
   */
  resolve(name: string, version?: string): { pool: ModelPool; version: string; info: ModelInfo | undefined } {
    const m = this.models.get(name);
    if (!m) throw new MillwrightError('NOT_FOUND', `unknown model "${name}"`);
    if (m.versions.size === 0) {
      if (m.state === 'UNLOADED') throw new MillwrightError('NOT_FOUND', `model "${name}" is not loaded (load it with POST /v2/repository/models/${name}/load)`);
      throw new MillwrightError('UNAVAILABLE', `model "${name}" is ${m.state === 'LOADING' ? 'loading' : `unavailable: ${m.reason ?? 'not loaded'}`}`);
    }
    const v = version ?? this.versions(name).at(-1)!;
    const pool = m.versions.get(v);
    if (!pool) throw new MillwrightError('NOT_FOUND', `model "${name}" has no loaded version "${v}" (loaded: ${this.versions(name).join(', ')})`);
    return { pool, version: v, info: pool.info };
  }

  /** Drains every pool (server shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.models.values()].map(async (m) => {
      await m.busy;
      await Promise.all([...m.versions.values()].map((p) => p.drain()));
    }));
  }
}
