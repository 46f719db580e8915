import { Command, CommanderError } from 'commander';
import { EXIT, exitCodeFor, formatError } from '../errors/exit-codes.js';
import { usageError } from '../errors/index.js';
import { VERSION } from '../version.js';
import { fromCommanderError } from './commander-errors.js';
import { canonicalFlags } from './flag-aliases.js';
import { formatTour } from './examples.js';
import type { CliContext } from './context.js';
import { registerCoreCommands } from './core-commands.js';
import { CORE, CRON_NAMES } from './names.js';

type Register = (program: Command, ctx: CliContext) => void;

/**
 * The built-in subcommands, each under its name and aliases, and how to load
 * what registers it. A command line that names one gets a program with only
 * that one built (and loaded): each carries some sixty options.
 */
const BUILT_INS: { names: readonly string[]; load(): Promise<Register> }[] = [
  ...CORE.map(({ name, aliases }) => ({ names: [name, ...aliases], load: async (): Promise<Register> => (program, ctx) => registerCoreCommands(program, ctx, new Set([name])) })),
  { names: CRON_NAMES, load: async () => (await import('./cron-command.js')).registerCronCommand },
  { names: ['run'], load: async () => (await import('./run-command.js')).registerRunCommand },
  { names: ['up'], load: async () => (await import('./up-command.js')).registerUpCommand },
  {
    names: ['config'],
    load: async () => {
      const { registerConfigCommands } = await import('./config-command.js');
      return (program) => registerConfigCommands(program);
    },
  },
  { names: ['plugins'], load: async () => (await import('./plugins-command.js')).registerPluginsCommand },
  {
    names: ['examples'],
    load: async () => (program) =>
      void program
        .command('examples')
        .description('print a short, runnable tour of common jobs')
        .action(() => void process.stdout.write(formatTour())),
  },
];

/** Every name and alias of a built-in subcommand: a plugin cannot take one. */
const RESERVED: readonly string[] = BUILT_INS.flatMap((builtIn) => builtIn.names);

/** The program, with these built-in subcommands. */
async function buildProgram(ctx: CliContext, builtIns: typeof BUILT_INS): Promise<Command> {
  const program = new Command('rpr')
    .description('Run a command again and again on a schedule.')
    .usage('[global options] <subcommand> [options] -- <command> [args...]')
    .version(`rpr ${VERSION}`, '-v, --version', 'print the version')
    .option('--config <file>', 'config file (default $RPR_CONFIG, then ~/.config/rpr/config.toml)')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} });
  // Loaded together, registered in this order: the order of the help.
  for (const register of await Promise.all(builtIns.map((builtIn) => builtIn.load()))) register(program, ctx);
  // Subcommands inherit the error handling set on the program.
  for (const sub of program.commands.flatMap((c) => [c, ...c.commands])) sub.exitOverride().configureOutput({ writeErr: () => {}, outputError: () => {} });
  return program;
}

/** The subcommand a command line names, for error messages (first non-option word). */
function subcommandOf(program: Command, args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--config') i++;
    else if (!arg.startsWith('-')) return program.commands.find((c) => c.name() === arg || c.aliases().includes(arg))?.name();
  }
  return undefined;
}

/** The subcommand word of a command line: its first argument that is neither an option nor --config's value. */
const wordOf = (head: readonly string[]): string | undefined => head.find((arg, i) => !arg.startsWith('-') && head[i - 1] !== '--config');

/** Subcommands that manage rpr rather than run a job: a command after -- would be silently ignored. */
const TAKES_NO_COMMAND: ReadonlySet<string> = new Set(['config', 'plugins', 'examples']);

/** Parses and runs one invocation; returns the exit status. Never throws. */
export async function main(args: string[]): Promise<number> {
  const dashdash = args.indexOf('--');
  const ctx: CliContext = {
    commandArgv: dashdash === -1 ? null : args.slice(dashdash + 1),
    exitCode: EXIT.ok,
  };
  let head = canonicalFlags(dashdash === -1 ? args : args.slice(0, dashdash));
  const word = wordOf(head);
  const builtIn = BUILT_INS.find((b) => word !== undefined && b.names.includes(word));
  let program: Command | undefined;
  try {
    // The plugin system is loaded only for a command line that names no built-in subcommand (it may
    // name a plugin) or asks for the full help.
    const plugins = !builtIn && (word !== undefined || head.includes('--help') || head.includes('-h')) ? await import('./plugin-commands.js') : undefined;
    const discovery = await plugins?.findSchedulers(head);
    // A built-in or a plugin scheduler named: only it is built; the help or an unknown word: every one.
    const plugin = plugins && discovery ? plugins.schedulerNamed(head, discovery) : undefined;
    program = await buildProgram(ctx, builtIn ? [builtIn] : plugin ? [] : BUILT_INS);
    if (plugins && discovery) {
      plugins.registerPluginSchedulers(program, ctx, discovery, RESERVED, plugin);
      for (const sub of program.commands) sub.exitOverride().configureOutput({ writeErr: () => {}, outputError: () => {} });
      head = plugins.rewritePluginArgs(head, discovery);
    }
    if (head.length === 0) {
      program.outputHelp();
      return EXIT.usage;
    }
    const sub = subcommandOf(program, head);
    if (ctx.commandArgv !== null && sub !== undefined && TAKES_NO_COMMAND.has(sub) && !head.some((arg) => arg === '--help' || arg === '-h')) {
      throw usageError(`${sub} runs no command, yet one follows --: ${ctx.commandArgv.join(' ') || '(empty)'}`, `drop the part after --; jobs are e.g. rpr interval --every 1m -- CMD`);
    }
    await program.parseAsync(head, { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError && program) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.ok;
      const sub = subcommandOf(program, head);
      // commander has already stored the operands it could not place; the first is the stray one.
      const extra = program.commands.find((c) => c.name() === sub)?.args[0];
      error = fromCommanderError(error, sub, extra);
    }
    process.stderr.write(`${formatError(error)}\n`);
    return exitCodeFor(error);
  }
}
