/**
 * A gateway process with one MQTT source writing into a real spool, for the SIGKILL trials of
 * test/gateway/mqtt.test.ts. Usage: mqtt-child.ts <broker url> <client id> <spool dir> <topic filter>.
 * Prints "connected" once the session is up; runs until killed (SIGTERM stops it cleanly).
 */
import { createMqttSource, mqttSchema } from '../../../lib/gateway/sources/mqtt.ts';
import { SpoolContext } from './mqtt-context.ts';

const [url, clientId, spool, topic] = process.argv.slice(2);
const ctx = new SpoolContext(spool);
const source = createMqttSource(
  mqttSchema.parse({ name: 'kill', type: 'mqtt', url, clientId, inflight: 200, topics: [{ topic, asset: '{1}', signal: 'id', value: '$.id', ts: '$.t' }] }),
  { reconnectMs: 100 },
);
await source.start(ctx);
const timer = setInterval(() => {
  if (source.status().state === 'connected') {
    process.stdout.write('connected\n');
    clearInterval(timer);
  }
}, 5);
process.on('SIGTERM', () => {
  ctx.controller.abort();
  void source.stop().then(() => process.exit(0));
});
