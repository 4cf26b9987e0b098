/**
 * Serving an edge folder (`serve --deployment DIR`): the model source follows the folder's
 * `current` pointer, so a `millwright deploy` or `millwright rollback` is served blue/green on the
 * next poll. Each pair is checked again when the pointer moves (every file's SHA-256, and the
 * signatures when a trust store is given) before its workers start.
 */
import { currentDeployment, deploymentRecordFile, verifyReceived } from '../lib/bundle/index.ts';
import { MillwrightError } from '../lib/errors/index.ts';
import { loadTrustStore } from '../lib/model/index.ts';
import type { ModelSource } from './server.ts';

/** The worker-thread loader for deployment records (pass it as `loader` with {@link deploymentSource}). */
export const DEPLOYMENT_LOADER = new URL(`../lib/bundle/edge-loader${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;

/**
 * A model source over an edge folder.
 *
 * @example
 * import { startServer, deploymentSource, DEPLOYMENT_LOADER } from 'millwright/serve';
 * await startServer({ source: deploymentSource('/var/lib/millwright/edge', { pollMs: 2000 }), loader: DEPLOYMENT_LOADER });
 */
export function deploymentSource(dir: string, opts: { pollMs?: number; trust?: string } = {}): ModelSource {
  let verified: number | undefined;
  return {
    pollMs: opts.pollMs ?? 2000,
    async latest() {
      const rec = await currentDeployment(dir);
      if (!rec) throw new MillwrightError('NOT_FOUND', `edge folder ${dir} has no current deployment yet (deploy a model and a code bundle with: millwright deploy <bundle> --to ${dir})`);
      if (verified !== rec.seq) {
        const trust = opts.trust ? await loadTrustStore(opts.trust) : undefined;
        await verifyReceived(dir, 'model', rec.model.id, trust);
        if (rec.code) await verifyReceived(dir, 'code', rec.code.id, trust);
        verified = rec.seq;
      }
      return { dir: deploymentRecordFile(dir, rec.seq), version: `deployment/${rec.seq}` };
    },
  };
}
