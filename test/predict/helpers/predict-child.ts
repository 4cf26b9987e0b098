/**
 * Child process of the SIGKILL test: catches up every slot up to NOW with a pause between the
 * predictions write and the ledger mark (the window a crash must not turn into a second copy),
 * logging each completed write to WRITE_LOG.
 */
import { appendFileSync } from 'node:fs';
import { runPredictions } from '../../../lib/predict/index.ts';

const env = process.env;
const pause = Number(env.PAUSE_MS ?? '100');
await runPredictions({
  group: env.GROUP!, registry: env.REGISTRY!, store: env.STORE!, site: 'plant-a', every: '1h', window: '4h', horizon: '2h', once: true,
  now: () => Number(env.NOW), maxCatchUp: 1000,
  afterWrite: async (slot) => {
    appendFileSync(env.WRITE_LOG!, `${slot}\n`);
    await new Promise((r) => setTimeout(r, pause));
  },
  onSlot: (r) => {
    appendFileSync(env.MARK_LOG!, `${r.slot} ${r.status}${r.recovered ? ' recovered' : ''}\n`);
  },
});
