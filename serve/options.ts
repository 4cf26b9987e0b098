import { MillwrightError } from '../lib/errors/index.ts';
import { firstEnv, type ConfigVar } from '../lib/config/index.ts';

/** Parses a duration: `500ms`, `5s`, `2m`, `1h`; a bare number is seconds (as SageMaker's timeouts are). */
export function parseDuration(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text);
  if (!m) throw new MillwrightError('USAGE', `${what}: "${text}" is not a duration; expected e.g. 500ms, 5s, 2m`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const ms = unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000;
  if (!(ms > 0)) throw new MillwrightError('USAGE', `${what}: must be greater than zero`);
  return Math.round(ms);
}

/** Parses a size: `6mb`, `512kb`, `1gb`, `100b`; a bare number is bytes. */
export function parseSize(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|k|mb|m|gb|g)?\s*$/i.exec(text);
  if (!m) throw new MillwrightError('USAGE', `${what}: "${text}" is not a size; expected e.g. 6mb, 512kb`);
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  const bytes = Math.round(Number(m[1]) * mult);
  if (!(bytes > 0)) throw new MillwrightError('USAGE', `${what}: must be greater than zero`);
  return bytes;
}

function positiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new MillwrightError('USAGE', `${what}: "${text}" is not a positive integer`);
  return n;
}

/** Server settings after flags and environment are combined. */
export interface ResolvedSettings {
  port: number;
  host: string;
  workers?: number;
  timeoutMs: number;
  maxBodyBytes: number;
}

/**
 * Flags win over environment; SageMaker's variables win over the generic MODEL_SERVER_* ones
 * (as in SageMaker's own containers). Timeouts in the environment are seconds.
 *
 * | setting   | flag         | environment (first set wins)                                        | default   |
 * |-----------|--------------|----------------------------------------------------------------------|-----------|
 * | port      | `--port`     | SAGEMAKER_BIND_TO_PORT, MILLWRIGHT_PORT                              | 8080      |
 * | host      | `--host`     | MILLWRIGHT_HOST                                                      | 127.0.0.1 |
 * | workers   | `--workers`  | SAGEMAKER_MODEL_SERVER_WORKERS, MODEL_SERVER_WORKERS                 | all cores |
 * | deadline  | `--timeout`  | SAGEMAKER_MODEL_SERVER_TIMEOUT, MODEL_SERVER_TIMEOUT                 | 5s        |
 * | body max  | `--max-body` | SAGEMAKER_MAX_PAYLOAD_IN_MB (MB), MODEL_SERVER_MAX_PAYLOAD_IN_MB     | 6mb       |
 *
 * @example
 * resolveSettings({ timeout: '2s' }, { SAGEMAKER_BIND_TO_PORT: '9000' }) // => { port: 9000, timeoutMs: 2000, ... }
 */
export function resolveSettings(
  flags: { port?: string; host?: string; workers?: string; timeout?: string; 'max-body'?: string },
  env: NodeJS.ProcessEnv,
): ResolvedSettings {
  const first = (...names: ConfigVar[]) => firstEnv(names, env)?.value;
  const portText = flags.port ?? first('SAGEMAKER_BIND_TO_PORT', 'MILLWRIGHT_PORT');
  const port = portText === undefined ? 8080 : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new MillwrightError('USAGE', `port: "${portText}" is not a port number (0-65535)`);
  const workersText = flags.workers ?? first('SAGEMAKER_MODEL_SERVER_WORKERS', 'MODEL_SERVER_WORKERS');
  const timeoutText = flags.timeout ?? first('SAGEMAKER_MODEL_SERVER_TIMEOUT', 'MODEL_SERVER_TIMEOUT');
  let maxBodyBytes = 6 * 1024 * 1024;
  if (flags['max-body'] !== undefined) maxBodyBytes = parseSize(flags['max-body'], '--max-body');
  else {
    const mb = first('SAGEMAKER_MAX_PAYLOAD_IN_MB', 'MODEL_SERVER_MAX_PAYLOAD_IN_MB');
    if (mb !== undefined) maxBodyBytes = parseSize(`${mb}mb`, 'SAGEMAKER_MAX_PAYLOAD_IN_MB');
  }
  return {
    port,
    host: flags.host ?? first('MILLWRIGHT_HOST') ?? '127.0.0.1',
    workers: workersText === undefined ? undefined : positiveInt(workersText, 'workers'),
    timeoutMs: timeoutText === undefined ? 5000 : parseDuration(timeoutText, 'timeout'),
    maxBodyBytes,
  };
}
