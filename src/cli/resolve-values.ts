import type { Command } from 'commander';
import { withExplicit, type OptionValues } from '../app/build-job.js';
import type { PluginSettings } from '../app/resolve-job.js';
import { locateConfig } from '../config/locate.js';
import type { LoadedConfig } from '../config/types.js';
import { usageError } from '../errors/index.js';
import { BUILT_IN_DEFAULTS, resolveOptions } from '../options/resolve.js';

export interface Invocation {
  values: OptionValues;
  config: LoadedConfig | null;
  settings: PluginSettings;
}

/** The config file for this invocation, loaded once (null when there is none). */
export async function loadInvocationConfig(command: Command): Promise<LoadedConfig | null> {
  return loadConfigAt(configFlag(command));
}

/** The same, before commander has parsed anything: --config FILE or --config=FILE anywhere in args. */
export async function loadConfigNamedIn(args: readonly string[]): Promise<LoadedConfig | null> {
  const at = args.findIndex((a) => a === '--config' || a.startsWith('--config='));
  const explicit = at === -1 ? undefined : args[at]!.startsWith('--config=') ? args[at]!.slice(9) : args[at + 1];
  return loadConfigAt(explicit);
}

async function loadConfigAt(explicit: string | undefined): Promise<LoadedConfig | null> {
  const location = locateConfig({ explicit, env: process.env });
  if (!location) return null;
  // The TOML parser is loaded only when there is a file to parse.
  const { loadConfigFile } = await import('../config/load.js');
  return loadConfigFile(location.path);
}

/** Final option values for a subcommand (or a config job): flags > env > config file > defaults. */
export async function resolveInvocation(subcommand: string, command: Command, job?: string, config?: LoadedConfig | null, pluginOwned: ReadonlySet<string> = new Set()): Promise<Invocation> {
  config ??= await loadInvocationConfig(command);
  const { set, ...all } = command.opts<{ set?: string[] }>();
  // A plugin's own setting that shares a core option's name is the plugin's, not the core option.
  const flags = Object.fromEntries(Object.entries(all).filter(([key]) => !pluginOwned.has(key)));
  const values = withExplicit(
    resolveOptions({
      command: subcommand,
      flags,
      ...(pluginOwned.size > 0 ? { builtIns: Object.fromEntries(Object.entries(BUILT_IN_DEFAULTS).filter(([key]) => !pluginOwned.has(key))) } : {}),
      flagSource: (key) => command.getOptionValueSource(key),
      env: process.env,
      config,
      job,
    }),
  );
  return { values, config, settings: parseSettings(set ?? []) };
}

/** `--set NAME.key=value`, repeatable: settings for a plugin, beating its [plugins.NAME] table. */
export function parseSettings(items: string[]): PluginSettings {
  const settings: PluginSettings = {};
  for (const item of items) {
    const match = /^([a-z0-9][a-z0-9_-]*)\.([a-z0-9][a-z0-9_-]*)=([\s\S]*)$/i.exec(item);
    if (!match) throw usageError(`--set "${item}": expected PLUGIN.KEY=VALUE`, 'e.g. --set webhook.url=http://127.0.0.1:8080/hook');
    (settings[match[1]!] ??= {})[match[2]!] = match[3]!;
  }
  return settings;
}

/** --config given before or after the subcommand, whichever command parsed it. (config check and show use it too.) */
export function configFlag(cmd: Command): string | undefined {
  for (let c: Command | null = cmd; c; c = c.parent) {
    const value = c.opts().config;
    if (typeof value === 'string') return value;
  }
  return undefined;
}
