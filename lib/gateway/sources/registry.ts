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
}
