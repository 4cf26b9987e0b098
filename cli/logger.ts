import type { Logger } from '../lib/model/index.ts';
import type { CliIO } from './command.ts';

/**
 * Human log lines on stderr (`[train] message key=value`); progress lines only on a TTY.
 *
 * @example
 * const log = cliLogger(processIO(), 'train');
 */
export function cliLogger(io: CliIO, tag = 'train'): Logger {
  const line = (level: string, message: string, fields?: Record<string, unknown>) => {
    const extra = fields ? Object.entries(fields).map(([k, v]) => ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join('') : '';
    io.err(`[${tag}]${level === 'info' ? '' : ` ${level}:`} ${message}${extra}\n`);
  };
  let lastProgress = 0;
  return {
    info: (m, f) => line('info', m, f),
    warn: (m, f) => line('warn', m, f),
    error: (m, f) => line('error', m, f),
    progress(done, total, unit = 'items') {
      if (!io.isTTY) return;
      const now = Date.now();
      if (now - lastProgress < 200 && done < total) return;
      lastProgress = now;
      io.err(`\r[${tag}] ${done}/${total} ${unit} (${total > 0 ? Math.round((100 * done) / total) : 0}%)${done >= total ? '\n' : ''}`);
    },
  };
}
