/**
 * The server side of `bench/gateway-opcua.bench.ts`, run as its own process so its CPU is not
 * the client's: a node-opcua server on 127.0.0.1 with TAGS Double variables, each set to a new
 * value every PERIOD ms. Prints one JSON line per second: updates made so far and its CPU time.
 * usage: node --import tsx bench/gateway-opcua-server.ts PORT TAGS PERIOD_MS PKI_DIR
 */
import { StatusCodes } from 'node-opcua';
import { TestOpcuaServer } from '../test/gateway/helpers/opcua-server.ts';

const [port, tags, period, pkiDir] = process.argv.slice(2);
const ids = Array.from({ length: Number(tags) }, (_, i) => `Bench.T${i}`);
const server = await TestOpcuaServer.start({ port: Number(port), pkiDir, variables: ids });
let updates = 0;
let tick = 0;
let updating = false;
process.stdin.on('data', (d: Buffer) => {
  if (d.toString().includes('go')) updating = true;
});
const timer = setInterval(() => {
  if (!updating) return;
  tick++;
  const now = new Date();
  for (const id of ids) server.set(id, tick, StatusCodes.Good, now);
  updates += ids.length;
}, Number(period));
const report = (): void => {
  const cpu = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ t: Date.now(), updates, cpuMs: (cpu.user + cpu.system) / 1000, rss: process.memoryUsage().rss })}\n`);
};
report();
const reporter = setInterval(report, 100);
process.on('SIGTERM', () => {
  clearInterval(timer);
  clearInterval(reporter);
  void server.stop().then(() => process.exit(0));
});
