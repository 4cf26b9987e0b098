import { createServer, connect, type Server, type Socket } from 'node:net';

/** A free TCP port on 127.0.0.1 (bind to 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * A TCP proxy on 127.0.0.1 in front of a peer, so a test can cut the network: `cut()` destroys
 * every open socket pair and closes the listener (new connections are refused), `restore()`
 * listens again on the same port.
 */
export class TcpProxy {
  readonly port: number;
  private readonly target: { host: string; port: number };
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Connections accepted since start (a reconnect shows as a new one). */
  accepted = 0;
  private frozen = false;

  private constructor(port: number, target: { host: string; port: number }) {
    this.port = port;
    this.target = target;
  }

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    const proxy = new TcpProxy(await freePort(), { host: targetHost, port: targetPort });
    await proxy.restore();
    return proxy;
  }

  /** Accepts connections again (after {@link cut}). */
  async restore(): Promise<void> {
    if (this.server !== undefined) return;
    const server = createServer((client) => this.pipe(client));
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(this.port, '127.0.0.1', resolve); });
    this.server = server;
  }

  /** Drops every connection and refuses new ones until {@link restore}. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.frozen = false;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * A silent failure: open connections stay open but carry nothing more in either direction (a
   * cable pulled behind a switch), until {@link cut} or {@link stop}.
   */
  freeze(): void {
    this.frozen = true;
  }

  async stop(): Promise<void> {
    await this.cut();
  }

  private pipe(client: Socket): void {
    this.accepted++;
    const upstream = connect(this.target.port, this.target.host);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (d: Buffer) => { if (!this.frozen) upstream.write(d); });
    upstream.on('data', (d: Buffer) => { if (!this.frozen) client.write(d); });
  }
}
