import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './tcp-proxy.ts';

const SCRIPT = fileURLToPath(new URL('./pymodbus-server.py', import.meta.url));

/** Initial contents of the pymodbus unit: address -> consecutive words (or 0/1 bits). */
export interface PymodbusSpec {
  /** Values per block, from address 0; reads past it get exception 2 (illegal data address). */
  size?: number;
  hr?: Record<number, number[]>;
  ir?: Record<number, number[]>;
  co?: Record<number, number[]>;
  di?: Record<number, number[]>;
  /** Values packed by Python's struct (independent of the decoder under test); value "nan"/"inf" allowed for floats. */
  typed?: { table: 'hr' | 'ir'; address: number; type: string; wordOrder?: 'big' | 'little'; value: number | string }[];
}

export interface PymodbusServer {
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts the Debian pymodbus TCP server (/usr/bin/python3) on a free 127.0.0.1 port and resolves
 * once it says it is listening. A missing python3 or pymodbus rejects (the test fails, it does
 * not skip).
 */
export async function startPymodbus(spec: PymodbusSpec, port?: number): Promise<PymodbusServer> {
  const chosen = port ?? (await freePort());
  const child: ChildProcess = spawn('/usr/bin/python3', [SCRIPT, String(chosen), JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`pymodbus did not start within 15 s: ${stderr}`)); }, 15_000);
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) { clearTimeout(timer); resolve(); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`pymodbus exited with ${code}: ${stderr}`)); });
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
  });
  return {
    port: chosen,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    }),
  };
}
