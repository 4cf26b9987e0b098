/**
 * A real OpenStack Swift with its s3api middleware (the S3-compatible peer of docs/landing.md's
 * tests), started on 127.0.0.1 free ports under a temp swift_dir: memcached, the account,
 * container and object servers, and the proxy (s3api + tempauth, user `test:tester` / `testing`)
 * over a one-device, one-replica ring built by swift-ring-builder. A missing binary fails loudly.
 * One test file starts it once (`startSwift()` in a `before`) and stops it in `after`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const BINARIES = ['/usr/bin/memcached', '/usr/bin/swift-ring-builder', '/usr/bin/swift-account-server', '/usr/bin/swift-container-server', '/usr/bin/swift-object-server', '/usr/bin/swift-proxy-server'];

/** The tempauth user the proxy knows; used through AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. */
export const SWIFT_ACCESS_KEY = 'test:tester';
export const SWIFT_SECRET_KEY = 'testing-s3cr3t-7f3a';

export interface SwiftServer {
  /** `http://127.0.0.1:<port>` of the proxy (the S3 endpoint). */
  endpoint: string;
  port: number;
  /** The temp swift_dir (rings, configs, the device holding the objects). */
  dir: string;
  /** Environment giving the AWS SDK's default chain these credentials (and nothing from the host's profile). */
  env: Record<string, string>;
  /** Stops the proxy only (the S3 endpoint goes away; objects stay). */
  stopProxy(): Promise<void>;
  /** Starts the proxy again on the same port and waits until it answers. */
  startProxy(): Promise<void>;
  /** The on-disk `.data` files of the object server (to damage one in a test). */
  dataFiles(): string[];
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function serverConf(kind: string, port: number, dir: string): string {
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
workers = 0
user = ${process.getuid?.() === 0 ? 'root' : (process.env.USER ?? 'root')}
swift_dir = ${dir}
devices = ${join(dir, 'dev')}
mount_check = false
log_level = WARNING
log_name = ${kind}
[pipeline:main]
pipeline = ${kind}-server
[app:${kind}-server]
use = egg:swift#${kind}
[${kind}-replicator]
[${kind}-updater]
[${kind}-auditor]
`;
}

function proxyConf(port: number, memcachedPort: number, dir: string): string {
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
workers = 0
user = ${process.getuid?.() === 0 ? 'root' : (process.env.USER ?? 'root')}
swift_dir = ${dir}
log_level = WARNING
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:${memcachedPort}
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = ${SWIFT_SECRET_KEY} .admin
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
`;
}

async function waitHealthy(port: number, proc: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`swift proxy exited with ${proc.exitCode}: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthcheck`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`swift proxy on port ${port} not healthy after 120 s: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port (60 s at most). */
async function waitListening(port: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((done) => {
      const c = connect({ host: '127.0.0.1', port }, () => {
        c.destroy();
        done(true);
      });
      c.on('error', () => done(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after 60 s (a Swift backend or memcached did not start)`);
}

async function stopProc(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

/** Starts Swift + s3api; resolves when the proxy answers its healthcheck (about 4 s). */
export async function startSwift(): Promise<SwiftServer> {
  const missing = BINARIES.filter((b) => !existsSync(b));
  if (missing.length > 0) {
    throw new Error(`Swift s3api peer missing: ${missing.join(', ')} not installed (Debian: apt-get install swift swift-proxy swift-account swift-container swift-object memcached; see .ci/install)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'mw-swift-'));
  mkdirSync(join(dir, 'dev', 'd1'), { recursive: true });
  writeFileSync(join(dir, 'swift.conf'), '[swift-hash]\nswift_hash_path_suffix = mwtest\nswift_hash_path_prefix = mwtest\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n');
  const [port, accountPort, containerPort, objectPort, memcachedPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const procs: ChildProcess[] = [];
  const spawnLogged = (cmd: string, args: string[], name: string): ChildProcess => {
    const log = join(dir, `${name}.log`);
    writeFileSync(log, '');
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout!.on('data', (d: Buffer) => writeFileSync(log, d, { flag: 'a' }));
    p.stderr!.on('data', (d: Buffer) => writeFileSync(log, d, { flag: 'a' }));
    procs.push(p);
    return p;
  };
  try {
    for (const [kind, p] of [['account', accountPort], ['container', containerPort], ['object', objectPort]] as const) {
      for (const args of [['create', '0', '1', '1'], ['add', `r1z1-127.0.0.1:${p}/d1`, '1'], ['rebalance']]) {
        const r = spawnSync('/usr/bin/swift-ring-builder', [join(dir, `${kind}.builder`), ...args], { encoding: 'utf8' });
        if (r.status !== 0 && !(args[0] === 'rebalance' && r.status === 1)) throw new Error(`swift-ring-builder ${args.join(' ')}: ${r.stdout}${r.stderr}`);
      }
      writeFileSync(join(dir, `${kind}-server.conf`), serverConf(kind, p, dir));
    }
    writeFileSync(join(dir, 'proxy-server.conf'), proxyConf(port, memcachedPort, dir));
    spawnLogged('/usr/bin/memcached', ['-l', '127.0.0.1', '-p', String(memcachedPort), '-U', '0', '-m', '16', ...(process.getuid?.() === 0 ? ['-u', 'root'] : [])], 'memcached');
    for (const kind of ['account', 'container', 'object']) spawnLogged(`/usr/bin/swift-${kind}-server`, [join(dir, `${kind}-server.conf`)], kind);
    let proxy = spawnLogged('/usr/bin/swift-proxy-server', [join(dir, 'proxy-server.conf')], 'proxy');
    await waitHealthy(port, proxy, join(dir, 'proxy.log'));
    // The proxy's healthcheck does not ask the backends: on a loaded machine the first request
    // could reach an object server not listening yet and come back as s3api's 503 SlowDown.
    for (const p of [accountPort, containerPort, objectPort, memcachedPort]) await waitListening(p);
    const server: SwiftServer = {
      endpoint: `http://127.0.0.1:${port}`,
      port,
      dir,
      env: {
        AWS_ACCESS_KEY_ID: SWIFT_ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY: SWIFT_SECRET_KEY,
        AWS_REGION: 'us-east-1',
        // Keep the host's ~/.aws out of the tests.
        AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      async stopProxy() {
        await stopProc(proxy);
      },
      async startProxy() {
        proxy = spawnLogged('/usr/bin/swift-proxy-server', [join(dir, 'proxy-server.conf')], 'proxy');
        await waitHealthy(port, proxy, join(dir, 'proxy.log'));
      },
      dataFiles() {
        const out: string[] = [];
        const walk = (d: string): void => {
          for (const name of readdirSync(d)) {
            const p = join(d, name);
            if (statSync(p).isDirectory()) walk(p);
            else if (name.endsWith('.data')) out.push(p);
          }
        };
        walk(join(dir, 'dev', 'd1'));
        return out;
      },
      async stop() {
        for (const p of procs.reverse()) await stopProc(p);
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return server;
  } catch (err) {
    for (const p of procs.reverse()) await stopProc(p);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
