import type { Command } from 'commander';
import type { OptionValues } from '../app/build-job.js';

/** Final option values for a subcommand. (Config file and environment layers: see src/options/resolve.ts.) */
export function resolveValues(_subcommand: string, command: Command): OptionValues {
  return command.opts();
}
