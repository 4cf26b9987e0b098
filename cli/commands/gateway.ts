import { resolve } from 'node:path';
import { numberFlag, parseCommandArgs, usageError, type CliIO, type Command } from '../command.ts';
import { MillwrightError } from '../../lib/errors/index.ts';
import { runGateway } from '../../lib/spool/index.ts';
import { spoolDir, storeRoot } from '../../lib/config/index.ts';
import { parseDuration, type DurationOptions } from '../../lib/units/index.ts';
import { loadGatewayConfig, startGateway, WindowPollSimulator, type GatewayStatus } from '../../lib/gateway/index.ts';

const POSITIVE_INT = { integer: true, min: 1 } as const;
/** The gateway's flags: a bare number is seconds, zero is refused (a flush loop needs a pause). */
const GATEWAY_DURATION: DurationOptions = { bareNumber: 's', positive: true, code: 'USAGE' };

const USAGE = `millwright gateway --config gateway.yaml
millwright gateway check --config gateway.yaml
millwright gateway status [--config gateway.yaml | --url http://127.0.0.1:9100] [--json]
millwright gateway simulate window-poll [--port 7000] [--host 127.0.0.1] [--window 10m] [--tags 1,2,3] [--period 1s]
millwright gateway [--spool DIR] [--store DIR] [--every 10s] [--max-backoff 5m] [--max-rows N]

With --config: runs the gateway the file describes (YAML, or JSON by a .json extension; see
docs/gateway.md): every source (OPC UA, Modbus TCP, MQTT, Sparkplug B, window-poll devices)
writes through one bounded spool (spool.maxBytes; when full, or when the disk is full, new data
is refused and sources stop taking it, recording what is lost as gap events), the spool is
flushed into the store (readings, and the events table), every source writes a _heartbeat
reading, and with http the gateway serves /health, /metrics and /status. The whole file is
validated first; every problem is printed as "path: message" (exit 1). Stop with SIGINT or
SIGTERM: sources stop, queued data is committed and flushed once more.

check: validates the config (and the asset model it names) and exits.

status: asks a running gateway's /status (the http address of --config, or --url) and prints per
source: state, readings/s, last value time, lag and spool bytes, then the spool's fill and alarm.

simulate window-poll: runs a window-poll device simulator (keeps the last --window of readings of
each tag, one every --period) until SIGINT/SIGTERM, to try a config against.

Without --config (the spool-only gateway): flushes the spool into the store every --every (see
"millwright flush"). When the store cannot be written it logs, keeps everything in the spool and
retries with exponential backoff (doubling from --every up to --max-backoff). Feed it with
"millwright spool". Logs go to stderr, one line per event.

Options:
  --config FILE      gateway config (YAML or JSON)
  --url URL          status: the gateway's status server
  --json             status: print the /status JSON as is
  --spool DIR        spool directory (default: $MILLWRIGHT_SPOOL or ./.millwright/spool)
  --store DIR        store root (default: $MILLWRIGHT_STORE or ./.millwright/store)
  --every D          flush interval: 500ms, 10s, 5m, 1h (default 10s)
  --max-backoff D    longest retry wait after failures (default 5m)
  --max-rows N       readings per store write (default 1,000,000)

Examples:
  millwright gateway --config /etc/millwright/gateway.yaml
  millwright gateway status --config /etc/millwright/gateway.yaml`;

function untilSignal(): { signal: AbortSignal; done: () => void } {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: stop.signal,
    done: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

const aborted = (signal: AbortSignal) => new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));

async function runConfigured(file: string, io: CliIO): Promise<number> {
  const config = await loadGatewayConfig(resolve(io.cwd, file));
  const log = (line: string) => io.err(`${new Date().toISOString()} gateway: ${line}\n`);
  const sig = untilSignal();
  try {
    const gw = await startGateway(config, { log });
    await aborted(sig.signal);
    await gw.stop();
  } finally {
    sig.done();
  }
  return 0;
}

async function runSpoolOnly(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(args, {
    options: {
      spool: { type: 'string' },
      store: { type: 'string' },
      every: { type: 'string', default: '10s' },
      'max-backoff': { type: 'string', default: '5m' },
      'max-rows': { type: 'string' },
    },
  });
  const every = parseDuration(values.every, { ...GATEWAY_DURATION, what: '--every' });
  const maxBackoff = parseDuration(values['max-backoff'], { ...GATEWAY_DURATION, what: '--max-backoff' });
  const spool = spoolDir(values.spool, io.env, io.cwd);
  const store = storeRoot(values.store, io.env, io.cwd);
  const sig = untilSignal();
  const log = (line: string) => io.err(`${new Date().toISOString()} gateway: ${line}\n`);
  log(`started: spool ${spool} -> store ${store}, every ${values.every}`);
  try {
    await runGateway({ spool, store, every, maxBackoff, maxRows: numberFlag('max-rows', values['max-rows'], POSITIVE_INT) ?? 1_000_000, signal: sig.signal, log });
  } finally {
    sig.done();
  }
  log('stopped');
  return 0;
}

const iso = (ms: number | undefined) => (ms === undefined ? '-' : new Date(ms).toISOString());
const seconds = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);

/** The per-source table of `millwright gateway status`. */
export function formatStatus(s: GatewayStatus): string {
  const head = ['source', 'type', 'state', 'readings/s', 'readings', 'last value', 'lag', 'spool bytes'];
  const rows = s.sources.map((x) => [x.name, x.type, x.state, x.readingsPerSec.toFixed(1), String(x.readings), iso(x.lastValueTs), seconds(x.lagMs), String(x.spoolBytes)]);
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(width[i])).join('  ').trimEnd();
  const out = [line(head), ...rows.map(line)];
  const pct = s.spool.maxBytes > 0 ? ((100 * s.spool.bytes) / s.spool.maxBytes).toFixed(1) : '0';
  out.push('', `site ${s.site}: spool ${s.spool.bytes} of ${s.spool.maxBytes} bytes (${pct} %)${s.spool.alarm ? `, ALARM ${s.spool.alarm.reason}: ${s.spool.alarm.message}` : ', no alarm'}`);
  out.push(`last flush ${iso(s.flush.lastAt)}${s.flush.lastError ? `, failing (${s.flush.failures}x): ${s.flush.lastError}` : ''}`);
  for (const x of s.sources) if (x.lastError && x.state !== 'connected') out.push(`${x.name}: ${x.lastError}`);
  return `${out.join('\n')}\n`;
}

async function runStatus(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(args, { options: { config: { type: 'string' }, url: { type: 'string' }, json: { type: 'boolean', default: false } } });
  let url = values.url;
  if (!url) {
    if (!values.config) throw usageError('gateway status needs --config FILE (its http address is asked) or --url URL');
    const config = await loadGatewayConfig(resolve(io.cwd, values.config));
    if (!config.http) throw new MillwrightError('BAD_INPUT', `gateway config ${values.config} has no http section, so the gateway serves no /status; add http: { port: 9100 }`);
    if (config.http.port === 0) throw usageError('the config\'s http.port is 0 (a random port): pass the address with --url');
    const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host;
    url = `http://${host.includes(':') ? `[${host}]` : host}:${config.http.port}`;
  }
  let res: Response;
  try {
    res = await fetch(new URL('/status', url), { signal: AbortSignal.timeout(5000) });
  } catch (err) {
    throw new MillwrightError('UNAVAILABLE', `no gateway answering at ${url} (${(err as Error).message}); is it running?`, { cause: err });
  }
  if (!res.ok) throw new MillwrightError('UNAVAILABLE', `${url}/status answered ${res.status}`);
  const status = (await res.json()) as GatewayStatus;
  io.out(values.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
  return 0;
}

async function runSimulate(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    allowPositionals: true,
    options: { port: { type: 'string', default: '7000' }, host: { type: 'string', default: '127.0.0.1' }, window: { type: 'string', default: '10m' }, tags: { type: 'string', default: '1,2,3' }, period: { type: 'string', default: '1s' } },
  });
  if (positionals[0] !== 'window-poll' || positionals.length > 1) throw usageError('gateway simulate: expected "window-poll" (the one simulated device type)');
  const port = numberFlag('port', values.port, { integer: true, min: 0, max: 65535 }) ?? 7000;
  const windowMs = parseDuration(values.window, { what: '--window', bareNumber: 's', positive: true, code: 'USAGE' });
  const periodMs = parseDuration(values.period, { what: '--period', bareNumber: 's', positive: true, code: 'USAGE' });
  const tags = values.tags.split(',').map((t) => numberFlag('tags', t, { integer: true, min: 0 }) as number);
  const sim = new WindowPollSimulator({ windowMs, tags: tags.map((id) => ({ id, periodMs })) });
  const addr = await sim.listen(port, values.host);
  io.err(`window-poll simulator on ${addr.host}:${addr.port}: tags ${tags.join(', ')}, one reading every ${periodMs} ms, keeps ${windowMs} ms\n`);
  const sig = untilSignal();
  try {
    await aborted(sig.signal);
  } finally {
    sig.done();
    await sim.close();
  }
  return 0;
}

const gatewayCommand: Command = {
  name: 'gateway',
  summary: 'Run the gateway: protocol sources into a bounded spool, flushed into the store (also: check, status, simulate)',
  usage: USAGE,
  async run(args, io) {
    const verb = args[0];
    if (verb === 'status') return runStatus(args.slice(1), io);
    if (verb === 'simulate') return runSimulate(args.slice(1), io);
    if (verb === 'check') {
      const { values } = parseCommandArgs(args.slice(1), { options: { config: { type: 'string' } } });
      if (!values.config) throw usageError('gateway check needs --config FILE');
      const c = await loadGatewayConfig(resolve(io.cwd, values.config));
      io.out(`${values.config}: ok (site ${c.site}, ${c.sources.length} source(s): ${c.sources.map((s) => `${s.name} (${s.type})`).join(', ')}${c.assetModel ? `, asset model ${c.assets}` : ''})\n`);
      return 0;
    }
    if (args.includes('--config') || args.some((a) => a.startsWith('--config='))) {
      const { values } = parseCommandArgs(args, { options: { config: { type: 'string' } } });
      return runConfigured(values.config as string, io);
    }
    return runSpoolOnly(args, io);
  },
};

/** CLI subcommands of the gateway, registered by cli/main.ts. */
export const gatewayCommands: Command[] = [gatewayCommand];
