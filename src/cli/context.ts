import type { Command } from 'commander';
import type { OptionValues } from '../app/build-job.js';

/** What the CLI's pieces share while handling one invocation. */
export interface CliContext {
  /** Everything after the first --, or null when there was none. */
  commandArgv: string[] | null;
  exitCode: number;
  /** Final option values for a subcommand: flags > env > config file > defaults. */
  resolve(subcommand: string, command: Command): OptionValues;
}
