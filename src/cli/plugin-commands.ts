import { type Command, Option } from 'commander';
import { findPlugins, HTTP_AWARE_PLUGIN, problemOf, problemText } from '../app/find-plugins.js';
import { RprError } from '../errors/index.js';
import type { ConfigField, DiscoveredPlugin, Discovery } from '../plugins/index.js';
import { OPTIONS } from '../options/catalog.js';
import { formatDuration } from '../units/duration.js';
import { addCatalogOptions, dryRun, loadJobModules, requireCommand } from './core-commands.js';
import type { CliContext } from './context.js';
import { wordIndex } from './argv.js';
import { loadConfigNamedIn } from './config-file.js';
import { pluginExamplesHelp } from './examples.js';

/** The Go rpr's names for its schedulers, kept so that old scripts run unchanged. */
export const SCHEDULER_ALIASES: Readonly<Record<string, string[]>> = {
  exponential: ['exp', 'backoff'],
  fibonacci: ['fib'],
  linear: ['lin'],
  polynomial: ['poly'],
  'decorrelated-jitter': ['dj'],
  adaptive: ['a', 'adapt'],
  'load-adaptive': ['la', 'load'],
  'rate-limit': ['rl', 'rate', 'r'],
  'token-bucket': ['tb'],
};

const kebab = (key: string): string => key.replaceAll('_', '-');
const attribute = (flag: string): string => flag.replace(/^-+/, '').replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
const CORE_FLAGS = new Set(OPTIONS.flatMap((def) => def.flags.split(/[ ,]+/).filter((f) => f.startsWith('-'))));

/** Extra spellings of a plugin's flags: --alias, and -alias / -a as the Go rpr wrote them. */
export function pluginFlagAliases(schema: Record<string, ConfigField>): Map<string, string> {
  const aliases = new Map<string, string>();
  for (const [key, field] of Object.entries(schema)) {
    for (const alias of field.aliases ?? []) {
      const forms = alias.length === 1 ? [`-${alias}`] : [`--${kebab(alias)}`, `-${kebab(alias)}`];
      for (const form of forms) if (!CORE_FLAGS.has(form)) aliases.set(form, `--${kebab(key)}`);
    }
  }
  return aliases;
}

/** A setting's default as the user would write it: durations are held in ms but shown as 1s, 5m. */
export function formatDefault(field: ConfigField): string {
  return field.type === 'duration' && typeof field.default === 'number' ? formatDuration(field.default) : String(field.default);
}

function describeField(field: ConfigField): string {
  // An empty default ('') says nothing: no "(default )".
  const shownDefault = field.default !== undefined && formatDefault(field) !== '' ? `default ${formatDefault(field)}` : '';
  const also = (field.aliases ?? []).map((a) => (a.length === 1 ? `-${a}` : `--${kebab(a)}`));
  const extra = [field.values ? `one of ${field.values.join('|')}` : '', shownDefault, also.length ? `also ${also.join(', ')}` : ''].filter(Boolean);
  return `${field.help}${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

/** One subcommand for a scheduler plugin, its flags generated from the plugin's config schema. */
function addSchedulerCommand(program: Command, ctx: CliContext, plugin: DiscoveredPlugin, discovery: SchedulerDiscovery): void {
  const { manifest } = plugin;
  const command = program
    .command(manifest.name)
    .aliases(SCHEDULER_ALIASES[manifest.name] ?? [])
    .description(`${manifest.description} (plugin, ${plugin.source})`)
    .usage('[options] -- <command> [args...]')
    .addHelpText('after', pluginExamplesHelp(manifest));
  const keyOf = new Map<string, string>();
  for (const [key, field] of Object.entries(manifest.config)) {
    const flag = `--${kebab(key)}`;
    command.addOption(
      new Option(field.type === 'boolean' ? flag : `${flag} <${field.type}>`, `${describeField(field)}${field.required && field.default === undefined ? ' (required)' : ''}`).helpGroup(
        `${manifest.name} options:`,
      ),
    );
    keyOf.set(attribute(flag), key);
  }
  // On its own subcommand a plugin's setting wins over a core option of the same name (exponential --jitter full).
  const owned = new Set(OPTIONS.filter((def) => keyOf.has(def.key)).map((def) => def.key));
  addCatalogOptions(command, manifest.name, owned);
  command.action(async (_opts: unknown, cmd: Command) => {
    const { resolveInvocation, runRequest } = await loadJobModules();
    const invocation = await resolveInvocation(manifest.name, cmd, undefined, undefined, owned);
    const argv = requireCommand(ctx, manifest.name);
    const schedulerSettings: Record<string, unknown> = {};
    for (const [attr, key] of keyOf) {
      if (cmd.getOptionValueSource(attr) === 'cli') schedulerSettings[key] = cmd.getOptionValue(attr);
    }
    // The plugins found to build this subcommand are the job's: not looked up again (unless the config file could not be read, which the job then says).
    const found = discovery.configRead ? { discovery } : {};
    ctx.exitCode = await runRequest({ ...invocation, argv, schedule: manifest.name, schedulerSettings, ...found }, dryRun(cmd));
  });
}

/** The plugins found for a command line, and whether its config file was read (its [plugins] applied). */
export type SchedulerDiscovery = Discovery & { configRead: boolean };

/**
 * The plugins a command line may name, found only when it names no built-in
 * subcommand (or asks for the full help), so plain jobs never pay for reading
 * plugin manifests.
 */
export async function findSchedulers(args: string[]): Promise<SchedulerDiscovery> {
  // [plugins] dir may move the user's plugins; a broken config file is reported later, by the command.
  let configRead = true;
  const config = await loadConfigNamedIn(args).catch(() => {
    configRead = false;
    return null;
  });
  return Object.assign(await findPlugins(config?.plugins), { configRead });
}

/** The scheduler plugin a command line names (`rpr NAME`, `rpr ALIAS`, `rpr plugin NAME`), if it names one. */
export function schedulerNamed(args: string[], discovery: Discovery): string | undefined {
  const at = subcommandAt(args);
  const word = args[at] === 'plugin' ? args.slice(at + 1).find((arg) => !arg.startsWith('-')) : args[at];
  const name = word === undefined ? undefined : canonicalName(word);
  return name !== undefined && notAScheduler(name, discovery) === null ? name : undefined;
}

/**
 * Registers the scheduler plugins as subcommands (only `only`, when the
 * command line names it), none under a name `reserved` for a built-in.
 */
export function registerPluginSchedulers(program: Command, ctx: CliContext, discovery: SchedulerDiscovery, reserved: readonly string[], only?: string): void {
  const taken = new Set([...reserved, ...program.commands.flatMap((c) => [c.name(), ...c.aliases()])]);
  for (const plugin of discovery.plugins.values()) {
    // http-aware only makes sense wrapped around another schedule (--http-aware), never on its own.
    if (plugin.manifest.kind !== 'scheduler' || taken.has(plugin.manifest.name) || plugin.manifest.name === HTTP_AWARE_PLUGIN) continue;
    if (only === undefined || plugin.manifest.name === only) addSchedulerCommand(program, ctx, plugin, discovery);
  }
}

const subcommandAt = wordIndex;

const canonicalName = (word: string): string => Object.entries(SCHEDULER_ALIASES).find(([n, aliases]) => n === word || aliases.includes(word))?.[0] ?? word;

/** A plugin of this name that exists but cannot run: its manifest is broken, or it is disabled. */
function unavailable(discovery: Discovery, name: string): RprError | null {
  const broken = problemOf(discovery, name);
  if (broken) return new RprError('E_USAGE', `plugin "${name}" cannot be loaded: ${problemText(broken)}`, { hint: 'rpr plugins list shows the plugins that load' });
  if (discovery.disabled?.includes(name)) return new RprError('E_USAGE', `plugin "${name}" is disabled`, { hint: `rpr plugins enable ${name}` });
  return null;
}

/** Why `rpr plugin NAME` cannot run NAME as a scheduler, or null when it can. */
function notAScheduler(name: string, discovery: Discovery): RprError | null {
  const plugin = discovery.plugins.get(name);
  if (plugin?.manifest.kind === 'scheduler' && name !== HTTP_AWARE_PLUGIN) return null;
  const unusable = plugin ? null : unavailable(discovery, name);
  if (unusable) return unusable;
  if (name === HTTP_AWARE_PLUGIN) return new RprError('E_USAGE', `plugin "${name}" is not a scheduler of its own`, { hint: 'add --http-aware to another schedule' });
  if (plugin) {
    const flag = plugin.manifest.kind === 'executor' ? '--executor' : '--output';
    return new RprError('E_USAGE', `plugin "${name}" is an ${plugin.manifest.kind} plugin, not a scheduler`, { hint: `use it with ${flag} ${name}` });
  }
  const schedulers = [...discovery.plugins.values()].filter((p) => p.manifest.kind === 'scheduler' && p.manifest.name !== HTTP_AWARE_PLUGIN).map((p) => p.manifest.name);
  const managing = /^(list|info|install|update|remove|uninstall|disable|enable|verify|new|validate|keygen|pubkey|sign)$/.test(name);
  return new RprError('E_USAGE', `no scheduler plugin "${name}"`, { hint: managing ? `did you mean rpr plugins ${name}?` : `scheduler plugins: ${schedulers.join(', ') || 'none'}` });
}

/** Rewrites `rpr plugin NAME ...` to `rpr NAME ...`, and a plugin's flag aliases to its flags. */
export function rewritePluginArgs(args: string[], discovery: Discovery): string[] {
  let out = args;
  const at = subcommandAt(out);
  if (at !== -1 && out[at] === 'plugin') {
    const name = out[at + 1];
    if (!name || name.startsWith('-')) throw new RprError('E_USAGE', 'plugin: name the scheduler plugin to run', { hint: 'e.g. rpr plugin fibonacci --initial 1s -- CMD' });
    const refused = notAScheduler(canonicalName(name), discovery);
    if (refused) throw refused;
    out = [...out.slice(0, at), ...out.slice(at + 1)];
  }
  const word = at === -1 ? undefined : out[at];
  const name = word === undefined ? undefined : canonicalName(word);
  const plugin = name ? discovery.plugins.get(name) : undefined;
  if (!plugin) {
    // `rpr NAME` for a plugin whose manifest is broken or that is turned off: say why, rather than "unknown command".
    const unusable = name ? unavailable(discovery, name) : null;
    if (unusable) throw unusable;
    return out;
  }
  const aliases = pluginFlagAliases(plugin.manifest.config);
  return out.map((arg) => {
    const [flag, value] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('='))] : [arg, ''];
    const canonical = aliases.get(flag);
    return canonical ? canonical + value : arg;
  });
}
