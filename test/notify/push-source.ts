import { z } from 'zod';
import type { Source, SourceContext, SourceType } from '../../lib/gateway/index.ts';

/**
 * A gateway source type the test drives: after the gateway started it, `ctx().emit(...)` hands
 * readings to the gateway as a poll would (no protocol, so the alarm and notify path is what is tested).
 */
export function pushType(): { type: SourceType; ctx: () => SourceContext } {
  let ctx: SourceContext | undefined;
  const type: SourceType = {
    type: 'push',
    schema: z.strictObject({ name: z.string(), type: z.literal('push') }),
    assets: () => [],
    create: (c: { name: string }): Source => ({
      name: c.name, type: 'push',
      async start(x) {
        ctx = x;
      },
      async stop() {},
      status: () => ({ name: c.name, type: 'push', state: 'connected', since: 0, readings: 0 }),
    }),
  };
  return { type, ctx: () => ctx! };
}
