import type { Command } from '../cli/command.ts';

/** CLI subcommands of this module, registered by lib/cli/main.ts. */
export const storeCommands: Command[] = [];
