import { MillwrightError, type ErrorCode } from '../errors/index.ts';

const SIZE = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|k|mb|m|gb|g)?\s*$/i;

/** How {@link parseSize} names the value in its errors. */
export interface SizeOptions {
  /** The flag or key the value came from; every error message starts with it (default `'size'`). */
  what?: string;
  /** Error code of a refused value (default `'USAGE'`: sizes come from flags and environment variables). */
  code?: Extract<ErrorCode, 'USAGE' | 'BAD_INPUT'>;
}

/**
 * A size in bytes (rounded, > 0) from `'6mb'`, `'512kb'` (= `'512k'`), `'1gb'`, `'100b'`; units
 * are binary (1kb = 1024 bytes) and a bare number is bytes.
 *
 * @example
 * import { parseSize } from 'millwright';
 * parseSize('6mb', { what: '--max-body' }); // 6291456
 */
export function parseSize(text: string, options: SizeOptions = {}): number {
  const { what = 'size', code = 'USAGE' } = options;
  const m = SIZE.exec(text);
  if (!m) throw new MillwrightError(code, `${what}: "${text}" is not a size; expected e.g. 6mb, 512kb`);
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  const bytes = Math.round(Number(m[1]) * mult);
  if (!(bytes > 0)) throw new MillwrightError(code, `${what}: must be greater than zero`);
  return bytes;
}
