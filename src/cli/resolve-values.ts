import type { Command } from 'commander';
import { EXPLICIT, type OptionValues } from '../app/build-job.js';
import { locateConfig } from '../config/locate.js';
import type { LoadedConfig } from '../config/types.js';
import { resolveOptions, type Resolved } from '../options/resolve.js';
import { configFlag } from './config-command.js';

/** The config file for this invocation, loaded once (null when there is none). */
export async function loadInvocationConfig(command: Command): Promise<LoadedConfig | null> {
  const location = locateConfig({ explicit: configFlag(command), env: process.env });
  if (!location) return null;
  // The TOML parser is loaded only when there is a file to parse.
  const { loadConfigFile } = await import('../config/load.js');
  return loadConfigFile(location.path);
}

/** Final option values for a subcommand (or a config job): flags > env > config file > defaults. */
export async function resolveValues(subcommand: string, command: Command, job?: string, config?: LoadedConfig | null): Promise<OptionValues> {
  config ??= await loadInvocationConfig(command);
  return withExplicit(resolveOptions({
    command: subcommand,
    flags: command.opts(),
    flagSource: (key) => command.getOptionValueSource(key),
    env: process.env,
    config,
    job,
  }));
}

/**
 * The values, plus which keys someone set (flag, env or file) rather than a
 * built-in default: only those can conflict with each other.
 */
function withExplicit(resolved: Resolved): OptionValues {
  const explicit = Object.keys(resolved.sources).filter((key) => resolved.sources[key] !== 'default');
  return Object.defineProperty(resolved.values, EXPLICIT, { value: new Set(explicit), enumerable: false });
}

