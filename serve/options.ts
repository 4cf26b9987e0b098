import { MillwrightError } from '../lib/errors/index.ts';
import { firstEnv, type ConfigVar } from '../lib/config/index.ts';
import { parseDuration, parseSize, type DurationOptions } from '../lib/units/index.ts';

/** How the server's durations read: flags and SageMaker's variables, where a bare number is seconds. */
export const SERVE_DURATION: DurationOptions = { bareNumber: 's', positive: true, whole: 'round', code: 'USAGE' };

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
  if (flags['max-body'] !== undefined) maxBodyBytes = parseSize(flags['max-body'], { what: '--max-body' });
  else {
    const mb = first('SAGEMAKER_MAX_PAYLOAD_IN_MB', 'MODEL_SERVER_MAX_PAYLOAD_IN_MB');
    if (mb !== undefined) maxBodyBytes = parseSize(`${mb}mb`, { what: 'SAGEMAKER_MAX_PAYLOAD_IN_MB' });
  }
  return {
    port,
    host: flags.host ?? first('MILLWRIGHT_HOST') ?? '127.0.0.1',
    workers: workersText === undefined ? undefined : positiveInt(workersText, 'workers'),
    timeoutMs: timeoutText === undefined ? 5000 : parseDuration(timeoutText, { ...SERVE_DURATION, what: 'timeout' }),
    maxBodyBytes,
  };
}
