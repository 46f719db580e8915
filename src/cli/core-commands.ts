import { Command, Option } from 'commander';
import { usageError } from '../errors/index.js';
import { OPTIONS, appliesTo } from '../options/catalog.js';
import { parseOptionValue } from '../options/values.js';
import { examplesHelp } from './examples.js';
import type { CliContext } from './context.js';
import { CORE } from './names.js';


/** Adds the catalog's options that apply to `name`, each parsed by the shared value parser. */
export function addCatalogOptions(command: Command, name: string, except: ReadonlySet<string> = new Set()): Command {
  for (const def of OPTIONS) {
    if (name !== 'all-options' && !appliesTo(def, name)) continue;
    if (except.has(def.key)) continue;
    const option = new Option(def.flags, def.description);
    if (def.type !== 'boolean') option.argParser((raw: string) => parseOptionValue(def, raw));
    if (def.choices) option.choices(def.choices);
    command.addOption(option);
  }
  return command
    .option('--set <plugin.key=value>', 'a setting for a plugin (repeatable)', (item: string, all: string[] = []) => [...all, item])
    .option('--config <file>', 'config file (also accepted before the subcommand)')
    .option('--dry-run', 'print the resolved job (schedule, next 5 starts, executor, outputs, plugin permissions) and run nothing');
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
