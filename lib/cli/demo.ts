import type { Command } from './command.ts';

/** The end-to-end demo: owned by the integrator, extended as modules land. */
export const demoCommands: Command[] = [];
