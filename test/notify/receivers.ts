/**
 * Receivers for the notify tests: an HTTP webhook receiver that records every POST (and can be
 * stopped and restarted on its port) and the aiosmtpd Maildir sink as a child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../helpers/mosquitto.ts';

export interface Received {
  key: string;
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  at: number;
}

/** Keys in first-arrival order, and how many copies arrived in all. */
export function dedupe(keys: readonly string[]): { unique: string[]; copies: number } {
  const seen = new Set<string>();
  const unique: string[] = [];
  for (const k of keys) {
    if (seen.has(k)) continue;
    seen.add(k);
    unique.push(k);
  }
  return { unique, copies: keys.length };
}

export class WebhookReceiver {
  readonly received: Received[] = [];
  /** Status to answer with (200 unless a test sets it), or a function of the body. */
  status: (body: Record<string, unknown>) => number = () => 200;
  delayMs = 0;
  /** Called when a request's body has arrived, before it is answered. */
  onRequest: (() => void) | undefined;
  private server: Server | undefined;
  private constructor(readonly port: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  static async start(port?: number): Promise<WebhookReceiver> {
    const r = new WebhookReceiver(port ?? (await freePort()));
    await r.listen();
    return r;
  }

  async listen(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        this.onRequest?.();
        const code = this.status(body);
        const answer = () => {
          if (code >= 200 && code < 300) this.received.push({ key: String(req.headers['idempotency-key']), body, headers: req.headers, at: performance.now() });
          res.writeHead(code, { 'content-type': 'text/plain' }).end(code >= 400 ? `rejected: code ${code}` : 'ok');
        };
        if (this.delayMs > 0) setTimeout(answer, this.delayMs);
        else answer();
      });
    });
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

export const PYTHON = '/usr/bin/python3';

/** aiosmtpd's Mailbox handler writing a Maildir; stop/start keep the port and the folder. */
export class SmtpSink {
  private child: ChildProcess | undefined;
  private constructor(readonly dir: string, readonly port: number) {}

  static async start(dir: string): Promise<SmtpSink> {
    if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: the SMTP sink needs Debian's python3-aiosmtpd`);
    for (const d of ['cur', 'new', 'tmp']) await mkdir(join(dir, d), { recursive: true });
    const sink = new SmtpSink(dir, await freePort());
    await sink.launch();
    return sink;
  }

  async launch(): Promise<void> {
    const child = spawn(PYTHON, ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${this.port}`, '-c', 'aiosmtpd.handlers.Mailbox', this.dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    this.child = child;
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) break;
      const ok = await new Promise<boolean>((resolve) => {
        const s = createConnection({ host: '127.0.0.1', port: this.port });
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    throw new Error(`aiosmtpd on 127.0.0.1:${this.port} did not start: ${err}`);
  }

  async stop(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }

  /**
   * Messages in arrival order: Python's Maildir names start `<seconds>.M<microseconds>P<pid>Q<n>`,
   * so seconds, then microseconds, then the per-process counter order them.
   */
  async messages(): Promise<{ messageId: string; key: string; subject: string; raw: string; text: string }[]> {
    const names = (await readdir(join(this.dir, 'new'))).filter((n) => !n.startsWith('.'));
    const parsed = names.map((n) => {
      const m = /^(\d+)\.M(\d+)P(\d+)Q(\d+)/.exec(n);
      return { n, t: m ? Number(m[1]) * 1e6 + Number(m[2]) : 0, q: m ? Number(m[4]) : 0 };
    });
    parsed.sort((a, b) => a.t - b.t || a.q - b.q);
    const out = [];
    for (const p of parsed) {
      const raw = await readFile(join(this.dir, 'new', p.n), 'utf8');
      // Long headers are folded onto continuation lines (RFC 5322 2.2.3): unfold before matching.
      const head = (raw.split(/\r?\n\r?\n/)[0] ?? '').replace(/\r?\n[ \t]+/g, ' ');
      const header = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'im').exec(head)?.[1]?.trim() ?? '';
      out.push({ messageId: header('Message-ID'), key: header('X-Idempotency-Key'), subject: header('Subject'), raw, text: decodeQuotedPrintable(raw) });
    }
    return out;
  }
}

/** nodemailer sends bodies quoted-printable: soft line breaks `=\n`, bytes as `=XX`. */
export function decodeQuotedPrintable(s: string): string {
  const bytes = s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}
