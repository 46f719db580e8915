import { type Command, Option } from 'commander';
import { usageError } from '../errors/index.js';
import { OPTIONS, appliesTo, type OptionGroup } from '../options/catalog.js';
import { parseOptionValue } from '../options/values.js';
import { examplesHelp } from './examples.js';
import type { CliContext } from './context.js';
import { CORE } from './names.js';

/** "each run" -> "Each run:" */
const groupHeading = (group: OptionGroup): string => `${group[0]!.toUpperCase()}${group.slice(1)}:`;

/** Adds the catalog's options that apply to `name`, each parsed by the shared value parser. */
export function addCatalogOptions(command: Command, name: string, except: ReadonlySet<string> = new Set()): Command {
  for (const def of OPTIONS) {
    if (name !== 'all-options' && !appliesTo(def, name)) continue;
    if (except.has(def.key)) continue;
    const required = def.requiredFor?.some((command) => command === name) === true;
    const option = new Option(def.flags, required ? `${def.description} (required)` : def.description).helpGroup(groupHeading(def.group));
    // The Go rpr's spellings work, but the help shows one way to say each thing.
    if (def.goCompat) option.hideHelp();
    if (def.type !== 'boolean') option.argParser((raw: string) => parseOptionValue(def, raw));
    if (def.choices) option.choices(def.choices);
    command.addOption(option);
  }
  const repeat = (item: string, all: string[] = []): string[] => [...all, item];
  const plugins = groupHeading('plugins');
  command.addOption(new Option('--set <plugin.key=value>', 'a setting for a plugin (repeatable)').argParser(repeat).helpGroup(plugins));
  command.addOption(new Option('--allow <plugin=host:port>', 'let a plugin reach HOST:PORT, as network = [...] in [plugins.NAME.permissions] does (repeatable)').argParser(repeat).helpGroup(plugins));
  command.addOption(new Option('--config <file>', 'config file (also accepted before the subcommand)').helpGroup('Other:'));
  return command.addOption(new Option('--dry-run', 'print the resolved job (schedule, next 5 starts, executor, outputs, plugin permissions) and run nothing').helpGroup('Other:'));
}

/** --dry-run, given to this subcommand. */
export const dryRun = (cmd: Command): boolean => cmd.opts<{ dryRun?: boolean }>().dryRun === true;

/** The command to repeat: everything after --, required and non-empty. */
export function requireCommand(ctx: CliContext, subcommand: string): string[] {
  if (ctx.commandArgv === null) {
    throw usageError(`${subcommand}: missing -- before the command to repeat`, `e.g. rpr ${subcommand} ... -- echo hi`);
  }
  if (ctx.commandArgv.length === 0 || ctx.commandArgv[0] === '') {
    throw usageError(`${subcommand}: empty command after --`, `e.g. rpr ${subcommand} ... -- echo hi`);
  }
  return ctx.commandArgv;
}

/** What running a job needs, loaded by the action that runs one (job-modules.ts). */
export const loadJobModules = (): Promise<typeof import('./job-modules.js')> => import('./job-modules.js');

/** Registers the core subcommands (only those named in `only`, when given). */
export function registerCoreCommands(program: Command, ctx: CliContext, only?: ReadonlySet<string>): void {
  for (const { name, aliases, summary } of CORE) {
    if (only && !only.has(name)) continue;
    const command = program.command(name).aliases(aliases).description(summary).usage('[options] -- <command> [args...]');
    addCatalogOptions(command, name).addHelpText('after', examplesHelp(name));
    command.action(async (_opts: unknown, cmd: Command) => {
      const { resolveInvocation, runRequest } = await loadJobModules();
      const invocation = await resolveInvocation(name, cmd);
      const argv = requireCommand(ctx, name);
      ctx.exitCode = await runRequest({ ...invocation, argv, schedule: name }, dryRun(cmd));
    });
  }
}
