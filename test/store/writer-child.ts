// Child process for the crash test: writes 5000-reading batches forever until killed.
import { writeReadings } from '../../lib/store/index.ts';
import { plantBatch } from './fixtures.ts';

const [root, seed] = process.argv.slice(2);
let k = 0;
for (;;) {
  const batch = plantBatch({ sites: [`s${seed}`], assets: ['a', 'b'], signals: ['x', 'y'], samples: 1250, periodMs: 1000, start: Date.UTC(2024, 0, 1) + k * 60_000, seed: k });
  await writeReadings(root, batch);
  if (k++ === 0) process.stdout.write('started\n');
}
