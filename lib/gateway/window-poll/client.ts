import { connect, type Socket } from 'node:net';
import { MillwrightError } from '../../errors/index.ts';
import { encodeFrame, FrameReader, WP_TYPE, type WpFrame, type WpInfo, type WpReadResponse } from './codec.ts';

/**
 * One TCP connection to a window-poll device with request/response matching by request id and a
 * deadline per request. A protocol error or timeout closes the connection (the stream cannot be
 * trusted after it); the caller reconnects.
 */
export class WindowPollClient {
  private sock: Socket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (f: WpFrame) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  constructor(private readonly host: string, private readonly port: number, private readonly timeoutMs: number) {}

  get connected(): boolean {
    return this.sock !== undefined && !this.sock.destroyed;
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host: this.host, port: this.port });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new MillwrightError('UNAVAILABLE', `window-poll ${this.host}:${this.port}: connect timed out after ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.setNoDelay(true);
        this.attach(sock);
        resolve();
      });
      sock.once('error', (err) => {
        clearTimeout(timer);
        reject(new MillwrightError('UNAVAILABLE', `window-poll ${this.host}:${this.port}: ${err.message}`, { cause: err }));
      });
    });
  }

  private attach(sock: Socket): void {
    this.sock = sock;
    const reader = new FrameReader();
    sock.on('data', (chunk) => {
      let frames: WpFrame[];
      try {
        frames = reader.push(chunk);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      for (const f of frames) {
        const p = this.pending.get(f.requestId);
        if (!p) continue;
        this.pending.delete(f.requestId);
        clearTimeout(p.timer);
        p.resolve(f);
      }
    });
    sock.on('error', (err) => this.fail(err));
    sock.on('close', () => this.fail(new Error('connection closed by the device')));
  }

  private fail(err: Error): void {
    this.sock?.destroy();
    this.sock = undefined;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new MillwrightError('UNAVAILABLE', `window-poll ${this.host}:${this.port}: ${err.message}`, { cause: err }));
    }
    this.pending.clear();
  }

  private request(frame: WpFrame): Promise<WpFrame> {
    const sock = this.sock;
    if (!sock) return Promise.reject(new MillwrightError('UNAVAILABLE', `window-poll ${this.host}:${this.port}: not connected`));
    return new Promise((resolve, reject) => {
      const id = frame.requestId;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new MillwrightError('DEADLINE_EXCEEDED', `window-poll ${this.host}:${this.port}: no answer within ${this.timeoutMs} ms`));
        this.fail(new Error('request timed out'));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      sock.write(encodeFrame(frame));
    });
  }

  private id(): number {
    this.nextId = (this.nextId % 0xffffffff) + 1;
    return this.nextId;
  }

  async info(): Promise<WpInfo> {
    const f = await this.request({ type: WP_TYPE.infoRequest, requestId: this.id() });
    if (f.type === WP_TYPE.infoResponse) return f.info;
    throw this.unexpected(f);
  }

  /** Everything the device holds for `tags` (spanMs 0: its whole window). */
  async read(tags: number[], spanMs = 0): Promise<WpReadResponse> {
    const f = await this.request({ type: WP_TYPE.readRequest, requestId: this.id(), spanMs, tags });
    if (f.type === WP_TYPE.readResponse) return f.data;
    throw this.unexpected(f);
  }

  private unexpected(f: WpFrame): MillwrightError {
    const why = f.type === WP_TYPE.error ? `device error ${f.code}: ${f.message}` : `unexpected frame type 0x${f.type.toString(16)}`;
    return new MillwrightError('UNAVAILABLE', `window-poll ${this.host}:${this.port}: ${why}`);
  }

  close(): void {
    this.fail(new Error('closed'));
  }
}
