/**
 * The publisher of the notification latency benchmark, in its own process so its pacing does not
 * share an event loop with the gateway: every 10 ms one QoS 1 message on `lat/batch` with one
 * temperature reading per asset (m0..m<assets-1>), stamped with the wall clock at publish. Every
 * 250 ms the next asset runs hot (95 against a limit of 80) for 200 ms, so the gateway's alarm
 * goes active and clears again. Prints {published, messages, seconds, events} as JSON at the end.
 * Usage: node --import tsx bench/alarms-latency-publisher.ts URL READINGS_PER_S SECONDS
 */
import { connect } from 'mqtt';

const [url, rateArg, secArg] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secArg);
const TICK = 10;
const perTick = Math.round((rate * TICK) / 1000);
const client = connect(url!, { protocolVersion: 5, clientId: 'bench-latency-pub' });
await new Promise<void>((resolve, reject) => (client.once('connect', () => resolve()), client.once('error', reject)));

let published = 0;
let messages = 0;
let events = 0;
const start = Date.now();
const ticks = Math.round((seconds * 1000) / TICK);
for (let k = 0; k < ticks; k++) {
  // pace against the start, not the previous tick, so a late tick does not slow the rate
  const due = start + k * TICK;
  const wait = due - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const now = Date.now();
  const phase = (now - start) % 250;
  const hot = phase < 200 ? Math.floor((now - start) / 250) % perTick : -1;
  if (phase < TICK && hot >= 0) events++;
  const r = Array.from({ length: perTick }, (_, a) => ({ a: `m${a}`, v: a === hot ? 95 : 60 + (a % 7), t: now }));
  client.publish('lat/batch', JSON.stringify({ r }), { qos: 1 });
  published += perTick;
  messages++;
}
const sec = (Date.now() - start) / 1000;
await new Promise<void>((r) => client.end(false, {}, () => r()));
process.stdout.write(JSON.stringify({ published, messages, seconds: sec, events }) + '\n');
