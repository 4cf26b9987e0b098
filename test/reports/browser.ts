/**
 * Opens an HTML file in headless Chromium over the DevTools protocol (--remote-debugging-pipe:
 * no port, no WebSocket), collects console errors, uncaught exceptions and failed loads, measures
 * every <svg>, and writes a full-page screenshot.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM = '/usr/bin/chromium';

export function noChromium(): string | false {
  return existsSync(CHROMIUM) ? false : 'chromium not installed (/usr/bin/chromium)';
}

export interface PageCheck {
  errors: string[];
  svgs: { width: number; height: number; children: number }[];
  /** Per `.chart` box: its largest SVG (null when the box has none). */
  charts: ({ width: number; height: number; children: number } | null)[];
  title: string;
  externalRefs: number;
}

export async function checkPage(htmlFile: string, screenshot: string): Promise<PageCheck> {
  const profile = await mkdtemp(join(tmpdir(), 'mw-chromium-'));
  const proc = spawn(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--no-first-run', '--remote-debugging-pipe', `--user-data-dir=${profile}`, 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  proc.stderr!.resume();
  const toBrowser = proc.stdio[3] as Writable;
  const fromBrowser = proc.stdio[4] as Readable;
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  const errors: string[] = [];
  let loaded: (() => void) | undefined;
  let buf = Buffer.alloc(0);
  fromBrowser.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    let z: number;
    while ((z = buf.indexOf(0)) >= 0) {
      const msg = JSON.parse(buf.subarray(0, z).toString('utf8')) as { id?: number; result?: Record<string, unknown>; error?: { message: string }; method?: string; params?: Record<string, unknown> };
      buf = buf.subarray(z + 1);
      if (msg.id !== undefined) {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(msg.error.message));
        else p?.resolve(msg.result ?? {});
      } else if (msg.method === 'Runtime.exceptionThrown') {
        errors.push(`exception: ${JSON.stringify((msg.params as { exceptionDetails: unknown }).exceptionDetails)}`);
      } else if (msg.method === 'Runtime.consoleAPICalled' && ['error', 'assert'].includes((msg.params as { type: string }).type)) {
        errors.push(`console.${(msg.params as { type: string }).type}: ${JSON.stringify((msg.params as { args: unknown }).args)}`);
      } else if (msg.method === 'Log.entryAdded' && (msg.params as { entry: { level: string } }).entry.level === 'error') {
        errors.push(`log: ${JSON.stringify((msg.params as { entry: unknown }).entry)}`);
      } else if (msg.method === 'Page.loadEventFired') {
        loaded?.();
      }
    }
  });
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      toBrowser.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    });
  const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
  try {
    const { targetInfos } = (await send('Target.getTargets')) as { targetInfos: { targetId: string; type: string }[] };
    const page = targetInfos.find((t) => t.type === 'page');
    if (!page) throw new Error('no page target');
    const { sessionId } = (await send('Target.attachToTarget', { targetId: page.targetId, flatten: true })) as { sessionId: string };
    await send('Runtime.enable', {}, sessionId);
    await send('Log.enable', {}, sessionId);
    await send('Page.enable', {}, sessionId);
    await send('Emulation.setDeviceMetricsOverride', { width: 1000, height: 900, deviceScaleFactor: 1, mobile: false }, sessionId);
    const onLoad = new Promise<void>((r) => (loaded = r));
    await send('Page.navigate', { url: pathToFileURL(htmlFile).href }, sessionId);
    await onLoad;
    const expr = `JSON.stringify({
      title: document.title,
      svgs: [...document.querySelectorAll('svg')].filter((s) => !s.parentElement.closest('svg')).map((s) => { const r = s.getBoundingClientRect(); return { width: r.width, height: r.height, children: s.querySelectorAll('path,rect,line,circle,text').length }; }),
      charts: [...document.querySelectorAll('.chart')].map((c) => { const svgs = [...c.querySelectorAll('svg')].map((s) => { const r = s.getBoundingClientRect(); return { width: r.width, height: r.height, children: s.querySelectorAll('path,rect,line,circle,text').length }; }); return svgs.sort((a, b) => b.width * b.height - a.width * a.height)[0] ?? null; }),
      externalRefs: [...document.querySelectorAll('script,link,img,iframe,object,embed')].length,
      height: document.documentElement.scrollHeight
    })`;
    const ev = (await send('Runtime.evaluate', { expression: expr, returnByValue: true }, sessionId)) as { result: { value: string } };
    const info = JSON.parse(ev.result.value) as PageCheck & { height: number };
    await send('Emulation.setDeviceMetricsOverride', { width: 1000, height: Math.min(info.height, 12000), deviceScaleFactor: 1, mobile: false }, sessionId);
    const shot = (await send('Page.captureScreenshot', { format: 'png' }, sessionId)) as { data: string };
    await writeFile(screenshot, Buffer.from(shot.data, 'base64'));
    await send('Browser.close').catch(() => undefined);
    return { errors, svgs: info.svgs, charts: info.charts, title: info.title, externalRefs: info.externalRefs };
  } finally {
    clearTimeout(timer);
    if (proc.exitCode === null) {
      await new Promise<void>((r) => {
        const t = setTimeout(() => {
          proc.kill('SIGKILL');
          r();
        }, 5000);
        proc.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    }
    await rm(profile, { recursive: true, force: true });
  }
}
