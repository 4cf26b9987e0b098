/**
 * The delivering process of the SIGKILL test: loads a notify config and drains the outbox once,
 * importing only lib/notify so it starts fast (the whole CLI loads every area).
 * Usage: node --import tsx test/notify/drain-child.ts notify.yaml
 */
import { createOutbox, loadNotifyConfig } from '../../lib/notify/index.ts';

const cfg = await loadNotifyConfig(process.argv[2]!);
const outbox = await createOutbox({ dir: cfg.outbox, channels: cfg.channels, routes: cfg.routes, retry: cfg.retry, link: cfg.link });
const r = await outbox.run(undefined, { once: true });
await outbox.close();
process.stdout.write(JSON.stringify(r) + '\n');
process.exitCode = r.gaveUp.length > 0 ? 1 : 0;
