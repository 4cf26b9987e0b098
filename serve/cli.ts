import type { Command } from '../lib/cli/command.ts';

/** CLI subcommands of this module, registered by lib/cli/main.ts. */
export const serveCommands: Command[] = [];
