import type { z } from 'zod';
import type { Source } from '../source.ts';

/**
 * One source type: the zod schema of its config entry (with `type: z.literal('<type>')`, plus
 * `name`), the factory, and the asset names its config refers to statically (checked against the
 * asset model at start-up; templated names such as MQTT's `{1}` are checked per message instead).
 */
export interface SourceType<S extends z.ZodType = z.ZodType> {
  type: string;
  schema: S;
  create(config: z.output<S>): Source;
  assets(config: z.output<S>): string[];
  /**
   * The entry with its file and folder paths made absolute against `baseDir` (the config file's
   * folder), like every other path of the gateway config. Types without paths leave it out.
   */
  resolvePaths?(config: z.output<S>, baseDir: string): z.output<S>;
}
