import { MillwrightError } from '../lib/errors/index.ts';
import type { ModelSource } from './server.ts';

/**
 * A model source backed by lib/model's file registry: the latest Approved version of `group`.
 */
export function registrySource(registry: string, group: string, pollMs: number): ModelSource {
  return {
    pollMs,
    async latest() {
      throw new MillwrightError('UNAVAILABLE', `registry serving is not available yet (registry ${registry}, group ${group})`);
    },
  };
}
