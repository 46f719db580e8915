import type { Command } from 'commander';
import type { PluginGrants, PluginSettings } from '../app/resolve-job.js';
import { parseNetworkPattern } from '../plugins/permissions/network.js';
import { loadConfigAt } from './config-file.js';
import type { LoadedConfig } from '../config/types.js';
import { usageError } from '../errors/index.js';
import { BUILT_IN_DEFAULTS, resolveOptions, withExplicit, type OptionValues } from '../options/resolve.js';

export interface Invocation {
  values: OptionValues;
  config: LoadedConfig | null;
  settings: PluginSettings;
  /** `--allow PLUGIN=HOST[:PORT]`: network grants for this job, by plugin. */
  allow: PluginGrants;
}

/** The config file for this invocation, loaded once (null when there is none); `job`: see LoadOptions. */
export async function loadInvocationConfig(command: Command, job?: string): Promise<LoadedConfig | null> {
  return loadConfigAt(configFlag(command), job);
}

/** Final option values for a subcommand (or a config job): flags > env > config file > defaults. */
export async function resolveInvocation(subcommand: string, command: Command, job?: string, config?: LoadedConfig | null, pluginOwned: ReadonlySet<string> = new Set()): Promise<Invocation> {
  config ??= await loadInvocationConfig(command);
  const { set, allow, ...all } = command.opts<{ set?: string[]; allow?: string[] }>();
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
  return { values, config, settings: parseSettings(set ?? []), allow: parseAllow(allow ?? []) };
}

/** `--set NAME.key=value`, repeatable: settings for a plugin, beating its [plugins.NAME] table. */
function parseSettings(items: string[]): PluginSettings {
  const settings: PluginSettings = {};
  for (const item of items) {
    const match = /^([a-z0-9][a-z0-9_-]*)\.([a-z0-9][a-z0-9_-]*)=([\s\S]*)$/i.exec(item);
    if (!match) throw usageError(`--set "${item}": expected PLUGIN.KEY=VALUE`, 'e.g. --set webhook.url=http://127.0.0.1:8080/hook');
    (settings[match[1]!] ??= {})[match[2]!] = match[3]!;
  }
  return settings;
}

/**
 * `--allow NAME=HOST[:PORT]`, repeatable: what `network = ["HOST:PORT"]` in [plugins.NAME.permissions]
 * grants, for this job only, in the same pattern grammar (HOST, HOST:PORT, HOST:*, *.DOMAIN).
 */
function parseAllow(items: string[]): PluginGrants {
  const grants: PluginGrants = {};
  for (const item of items) {
    const match = /^([a-z0-9][a-z0-9_-]*)=(.+)$/i.exec(item);
    const example = 'e.g. --allow webhook=127.0.0.1:9000';
    if (!match) throw usageError(`--allow "${item}": expected PLUGIN=HOST[:PORT]`, example);
    const pattern = parseNetworkPattern(match[2]!);
    if (typeof pattern === 'string') throw usageError(`--allow "${item}": ${pattern}`, example);
    (grants[match[1]!] ??= []).push(match[2]!.trim().toLowerCase());
  }
  return grants;
}

/** --config given before or after the subcommand, whichever command parsed it. (config check and show use it too.) */
export function configFlag(cmd: Command): string | undefined {
  for (let c: Command | null = cmd; c; c = c.parent) {
    const value = c.opts().config;
    if (typeof value === 'string') return value;
  }
  return undefined;
}
