import { createServer, type Server, type Socket } from 'node:net';
import { MillwrightError } from '../../errors/index.ts';
import { encodeFrame, FrameReader, WP_TAG_STATUS, WP_TYPE, type WpFrame, type WpReading } from './codec.ts';

/** One simulated tag. */
export interface SimTag {
  id: number;
  /** A reading every `periodMs` (time stamps on multiples of it). */
  periodMs: number;
  /** Value at time `ts` (default: `id * 1000 + (ts / periodMs) % 1000`, so a test can recompute it). */
  value?: (ts: number) => number;
}

/** Options of {@link WindowPollSimulator}. */
export interface SimulatorOptions {
  /** How much history the device keeps, ms; older readings are discarded for good. */
  windowMs: number;
  tags: SimTag[];
  /** Device clock offset from the host clock, ms (a skewed device clock; default 0). */
  skewMs?: number;
  /** Keep every reading ever generated in {@link WindowPollSimulator.generated} (tests reconcile against it). */
  record?: boolean;
}

/** What one READ was answered with (tests check gap intervals against it). */
export interface ServedRead {
  deviceNow: number;
  heldAfter: number;
}

/**
 * A window-poll device: generates readings per tag on a fixed period, keeps only the last
 * `windowMs` of them and answers INFO and READ requests over TCP (the protocol in
 * docs/gateway.md). Tests, benchmarks and `millwright gateway simulate window-poll` run it; it is
 * also the reference for writing a vendor protocol's source.
 *
 * @example
 * import { WindowPollSimulator } from 'millwright';
 * const sim = new WindowPollSimulator({ windowMs: 60_000, tags: [{ id: 3, periodMs: 1000 }] });
 * const { port } = await sim.listen(7000);
 */
export class WindowPollSimulator {
  readonly windowMs: number;
  /** Every generated reading per tag id, when `record` is on. */
  readonly generated = new Map<number, number[]>();
  /** Each READ served, in order. */
  readonly served: ServedRead[] = [];
  private readonly tags: Required<SimTag>[];
  private readonly held = new Map<number, WpReading[]>();
  private readonly next = new Map<number, number>();
  private readonly sockets = new Set<Socket>();
  private readonly record: boolean;
  private skewMs: number;
  private frozenAt: number | undefined;
  private down = false;
  private server: Server | undefined;

  constructor(opts: SimulatorOptions) {
    if (!(opts.windowMs > 0)) throw new MillwrightError('BAD_INPUT', `simulator windowMs must be > 0, got ${opts.windowMs}`);
    this.windowMs = opts.windowMs;
    this.skewMs = opts.skewMs ?? 0;
    this.record = opts.record ?? false;
    this.tags = opts.tags.map((t) => ({ value: (ts: number) => t.id * 1000 + (Math.floor(ts / t.periodMs) % 1000), ...t }));
    const now = this.now();
    for (const t of this.tags) {
      if (!(t.periodMs >= 1)) throw new MillwrightError('BAD_INPUT', `simulator tag ${t.id}: periodMs must be >= 1, got ${t.periodMs}`);
      this.held.set(t.id, []);
      // Start with an empty history: the first reading is the next period boundary.
      this.next.set(t.id, Math.floor(now / t.periodMs) * t.periodMs + t.periodMs);
      if (this.record) this.generated.set(t.id, []);
    }
  }

  /** Device time, ms (host time + skew, or the frozen instant). */
  now(): number {
    return this.frozenAt ?? Math.floor(Date.now() + this.skewMs);
  }

  /** Stops the device clock: no new readings, nothing more discarded (tests drain with it). */
  freeze(): void {
    this.advance();
    this.frozenAt = this.now();
  }

  /** Changes the device clock offset (a clock that jumps ahead). */
  setSkew(ms: number): void {
    this.skewMs = ms;
  }

  /** While down, every connection is closed at once (a device off the network). */
  setDown(down: boolean): void {
    this.down = down;
    if (down) for (const s of this.sockets) s.destroy();
  }

  /** Generates readings up to now and discards those outside the window. */
  private advance(): number {
    const now = this.now();
    const cutoff = now - this.windowMs;
    for (const t of this.tags) {
      const held = this.held.get(t.id)!;
      const rec = this.generated.get(t.id);
      let ts = this.next.get(t.id)!;
      for (; ts <= now; ts += t.periodMs) {
        if (ts > cutoff) held.push({ ts, value: t.value(ts), quality: 0 });
        rec?.push(ts);
      }
      this.next.set(t.id, ts);
      let drop = 0;
      while (drop < held.length && held[drop].ts <= cutoff) drop++;
      if (drop > 0) held.splice(0, drop);
    }
    return now;
  }

  /** Answers one request frame (exposed for in-process use without a socket). */
  handle(req: WpFrame): WpFrame {
    const now = this.advance();
    if (req.type === WP_TYPE.infoRequest) {
      return { type: WP_TYPE.infoResponse, requestId: req.requestId, info: { deviceNow: now, windowMs: this.windowMs, tags: this.tags.map((t) => t.id) } };
    }
    if (req.type === WP_TYPE.readRequest) {
      const span = req.spanMs === 0 ? this.windowMs : Math.min(req.spanMs, this.windowMs);
      const heldAfter = now - this.windowMs;
      const from = now - span;
      const tags = req.tags.map((tagId) => {
        const held = this.held.get(tagId);
        if (!held) return { tagId, status: WP_TAG_STATUS.unknownTag, readings: [] };
        return { tagId, status: WP_TAG_STATUS.ok, readings: held.filter((r) => r.ts > from) };
      });
      this.served.push({ deviceNow: now, heldAfter });
      return { type: WP_TYPE.readResponse, requestId: req.requestId, data: { deviceNow: now, heldAfter, tags } };
    }
    return { type: WP_TYPE.error, requestId: req.requestId, code: 1, message: `unexpected frame type 0x${req.type.toString(16)}` };
  }

  /** Listens on `host:port` (port 0: any free port); resolves to the bound address. */
  listen(port = 0, host = '127.0.0.1'): Promise<{ host: string; port: number }> {
    const server = createServer((sock) => this.accept(sock));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        const addr = server.address();
        resolve({ host, port: typeof addr === 'object' && addr ? addr.port : port });
      });
    });
  }

  private accept(sock: Socket): void {
    if (this.down) {
      sock.destroy();
      return;
    }
    this.sockets.add(sock);
    const reader = new FrameReader();
    sock.on('data', (chunk) => {
      try {
        for (const f of reader.push(chunk)) sock.write(encodeFrame(this.handle(f)));
      } catch (err) {
        sock.end(encodeFrame({ type: WP_TYPE.error, requestId: 0, code: 2, message: (err as Error).message }));
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => this.sockets.delete(sock));
  }

  /** Closes the server and every connection. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
