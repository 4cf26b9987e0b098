import type { Logger } from './contract.ts';

/** Discards everything: the library default, so training is quiet unless a caller asks. */
export const silentLogger: Logger = {
  info() {},
  warn() {},
  error() {},
  progress() {},
};
