import { getDeployable, getStaged, latestApproved, stageVersion, type Stage } from '../lib/model/index.ts';
import { MillwrightError } from '../lib/errors/index.ts';
import type { ModelSource } from './server.ts';

/**
 * A model source backed by lib/model's file registry: the latest Approved version of `group`.
 * Polling only lists versions (cheap); the artifact is verified (checksums, manifest hash) when
 * the approved version changes, and again by the workers when they load it.
 *
 * @example
 * const srv = await startServer({ source: registrySource('/var/lib/millwright/registry', 'press-energy', 30_000) });
 */
export function registrySource(registry: string, group: string, pollMs: number, stage?: Stage): ModelSource {
  let cached: { version: number; dir: string } | undefined;
  if (stage) return stageSource(registry, group, pollMs, stage);
  return {
    pollMs,
    async latest() {
      const rec = await latestApproved(group, { registry });
      if (!rec) {
        throw new MillwrightError('NOT_FOUND', `model group "${group}" has no Approved version in ${registry} (approve one with: millwright registry approve ${group} <version>)`);
      }
      if (cached?.version !== rec.version) {
        const { dir } = await getDeployable(group, { registry, version: rec.version });
        cached = { version: rec.version, dir };
      }
      return { dir: cached.dir, version: `${group}/${rec.version}` };
    },
  };
}

/**
 * A model source that follows a registry stage (DEV, TEST, PROD): whatever version the stage holds
 * now, so a promotion or a `registry rollback` is served blue/green on the next poll.
 */
function stageSource(registry: string, group: string, pollMs: number, stage: Stage): ModelSource {
  let cached: { version: number; dir: string } | undefined;
  return {
    pollMs,
    async latest() {
      const version = await stageVersion(group, stage, { registry });
      if (version === undefined || cached?.version !== version) {
        const { dir, record } = await getStaged(group, stage, { registry });
        cached = { version: record.version, dir };
      }
      return { dir: cached.dir, version: `${group}/${stage}/${cached.version}` };
    },
  };
}
