/**
 * A real mosquitto broker for tests and benchmarks: started on a free 127.0.0.1 port with a
 * persistence directory of its own, stopped (SIGTERM, which saves its database) and restarted on
 * the same port and directory, so a test can restart the broker with messages in flight.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';

export const MOSQUITTO = '/usr/sbin/mosquitto';

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

function mosquittoUid(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', 'mosquitto'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'mosquitto'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

export interface BrokerOptions {
  /** Extra lines for mosquitto.conf. */
  extraConfig?: string[];
}

/** A running (or stopped) mosquitto. */
export class Mosquitto {
  readonly dir: string;
  readonly port: number;
  readonly url: string;
  private child: ChildProcess | undefined;
  private logTail = '';

  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
    this.url = `mqtt://127.0.0.1:${port}`;
  }

  /**
   * Starts a broker. Fails (never skips) when the binary is missing: the test needs the peer.
   * Queues are unbounded (`max_queued_messages 0`): mosquitto's default of 1000 queued messages
   * per offline client would drop what a stopped gateway should find on restart.
   */
  static async start(options: BrokerOptions = {}): Promise<Mosquitto> {
    if (!existsSync(MOSQUITTO)) throw new Error(`${MOSQUITTO} is missing: install Debian's mosquitto (apt-get install mosquitto mosquitto-clients)`);
    const dir = await mkdtemp(join(tmpdir(), 'mw-mosquitto-'));
    const port = await freePort();
    const conf = [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      'autosave_interval 0',
      'max_queued_messages 0',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      ...(options.extraConfig ?? []),
    ];
    await writeFile(join(dir, 'mosquitto.conf'), conf.join('\n') + '\n');
    const owner = mosquittoUid();
    // mosquitto drops root to user mosquitto, which must own the persistence directory.
    if (owner && process.getuid?.() === 0) chownSync(dir, owner.uid, owner.gid);
    const broker = new Mosquitto(dir, port);
    await broker.launch();
    return broker;
  }

  /** The broker's stderr so far (last 4 KB), for failure messages. */
  get log(): string {
    return this.logTail;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  private async launch(): Promise<void> {
    const child = spawn(MOSQUITTO, ['-c', join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr?.on('data', (d: Buffer) => {
      this.logTail = (this.logTail + d.toString()).slice(-4096);
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    for (let i = 0; i < 100; i++) {
      if (!this.running) break;
      if (await canConnect(this.port)) return;
      await Promise.race([exited, new Promise((r) => setTimeout(r, 50))]);
    }
    const reason = this.running ? 'did not accept connections within 5 s' : `exited (${child.exitCode ?? child.signalCode})`;
    child.kill('SIGKILL');
    throw new Error(`mosquitto on 127.0.0.1:${this.port} ${reason}: ${this.logTail}`);
  }

  /** SIGTERM (mosquitto saves its persistence db) and wait for the exit, at most 10 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** Stop, then start again on the same port and persistence directory. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** True when the saved database exists (after a stop). */
  savedDb(): boolean {
    return existsSync(join(this.dir, 'mosquitto.db')) && readFileSync(join(this.dir, 'mosquitto.db')).length > 0;
  }

  /** Stop and remove the directory. */
  async close(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A connected mqtt.js client (MQTT 5) for publishing or observing in a test. */
export async function mqttClient(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = connect(url, { protocolVersion: 5, reconnectPeriod: 100, connectTimeout: 5000, ...options });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/**
 * Publishes at QoS 1 and remembers which messages the broker acknowledged (PUBACK): those the
 * broker owns, so the gateway must deliver every one of them to its spool.
 */
export class Publisher {
  readonly acked = new Set<number>();
  readonly sent = new Set<number>();
  private inFlight = 0;
  constructor(readonly client: MqttClient) {}

  static async connect(url: string, clientId: string): Promise<Publisher> {
    return new Publisher(await mqttClient(url, { clientId }));
  }

  /** Publishes message `id` (payload from `payload(id)`); resolves at once, tracks the PUBACK. */
  publish(topic: string, id: number, payload: string | Buffer): void {
    this.sent.add(id);
    this.inFlight++;
    this.client.publish(topic, payload, { qos: 1 }, (err) => {
      this.inFlight--;
      if (!err) this.acked.add(id);
    });
  }

  /** Waits (bounded) until every sent message was acknowledged by the broker. */
  async settle(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0) {
      if (Date.now() > deadline) throw new Error(`publisher: ${this.inFlight} messages still un-acknowledged by the broker after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async end(): Promise<void> {
    await new Promise<void>((resolve) => this.client.end(false, {}, () => resolve()));
  }
}
