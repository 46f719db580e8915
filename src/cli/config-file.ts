/**
 * The config file of an invocation, found and loaded: without the option resolution of
 * resolve-values.ts, for what reads it before commander has parsed anything (a plugin's subcommand
 * and the help, for [plugins] dir; completion).
 */
import { locateConfig } from '../config/locate.js';
import type { LoadedConfig } from '../config/types.js';
import { scanArgs } from './argv.js';

/** The same, before commander has parsed anything: --config FILE or --config=FILE anywhere in args. */
export async function loadConfigNamedIn(args: readonly string[], job?: string): Promise<LoadedConfig | null> {
  return loadConfigAt(scanArgs(args).config, job);
}

export async function loadConfigAt(explicit: string | undefined, job?: string): Promise<LoadedConfig | null> {
  const location = locateConfig({ explicit, env: process.env });
  if (!location) return null;
  // The TOML parser is loaded only when there is a file to parse.
  const { loadConfigFile } = await import('../config/load.js');
  return loadConfigFile(location.path, job === undefined ? {} : { job });
}
