/**
 * The serving container's side of signed artifacts: before any model's workers start (at start,
 * on reload, when the registry source names a new version) the model must pass
 * `verifySignedModel` against the trust store, and must not be older than the one running unless
 * downgrades are allowed. The trust store is re-read each time, so a key added to it or revoked
 * takes effect at the next load without a restart.
 */

import { loadTrustStore, readManifest, verifySignedModel } from '../lib/model/index.ts';

/** Checks a model dir before it is loaded; `runningDir` is the model served now, if any. */
export type TrustGate = (dir: string, runningDir?: string) => Promise<void>;

/**
 * A gate over the trust store `dir`.
 *
 * @example
 * import { startServer } from 'millwright/serve';
 * await startServer({ modelDir: '/opt/ml/model', trust: { dir: '/etc/millwright/trust' } });
 */
export function trustGate(opts: { dir: string; allowDowngrade?: boolean }): TrustGate {
  return async (dir, runningDir) => {
    const trust = await loadTrustStore(opts.dir);
    const running = runningDir && runningDir !== dir ? await readManifest(runningDir).catch(() => undefined) : undefined;
    await verifySignedModel(dir, trust, { ...(running ? { running } : {}), allowDowngrade: opts.allowDowngrade });
  };
}

