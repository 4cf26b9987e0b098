/** Durations and sizes as people write them in flags, environment variables and options. */
export { parseDuration, type DurationOptions } from './duration.ts';
export { parseSize, type SizeOptions } from './size.ts';
