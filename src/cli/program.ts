import { Argument, type Command, CommanderError } from 'commander';
import { EXIT, exitCodeFor, formatError } from '../errors/exit-codes.js';
import { type RprError, usageError } from '../errors/index.js';
import { VERSION } from '../version.js';
import { fromCommanderError } from './commander-errors.js';
import { RprCommand } from './rpr-command.js';
import { canonicalFlags } from './flag-aliases.js';
import { hoistOptions, logFormatIn, scanArgs, wordIndex } from './argv.js';
import { jsonLogLine } from '../report/json-log.js';
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
    names: ['completion'],
    load: async () => {
      const { completionScript, SHELLS } = await import('./complete.js');
      return (program) =>
        void program
          .command('completion')
          .description('print the shell completion script for bash, zsh or fish')
          .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS))
          .addHelpText('after', '\nExamples:\n  source <(rpr completion bash)                           # in ~/.bashrc\n  rpr completion fish > ~/.config/fish/completions/rpr.fish\n')
          .action((shell: (typeof SHELLS)[number]) => void process.stdout.write(completionScript(shell)));
    },
  },
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

/**
 * commander's own error text is replaced by rpr's one line (commander-errors.ts). The only other
 * thing it writes as an error is the help of a group named without its subcommand (`rpr plugins`):
 * that goes to stdout, as bare `rpr`'s does (stderr carries only `rpr: ` lines), with exit 2.
 */
const QUIET = { writeErr: (text: string) => void process.stdout.write(text), outputError: () => {} };

/** The program, with these built-in subcommands. */
async function buildProgram(ctx: CliContext, builtIns: typeof BUILT_INS): Promise<Command> {
  const program = new RprCommand('rpr')
    .description('Run a command again and again on a schedule.')
    .usage('[global options] <subcommand> [options] -- <command> [args...]')
    .version(`rpr ${VERSION}`, '-v, --version', 'print the version')
    .option('--config <file>', 'config file (default $RPR_CONFIG, then ~/.config/rpr/config.toml)')
    .enablePositionalOptions()
    // Every alias, not only the first (commander's default): rpr c, cnt and count are all in use.
    .configureHelp({
      subcommandTerm: (cmd) =>
        [[cmd.name(), ...cmd.aliases()].join('|'), cmd.options.length ? '[options]' : '', ...cmd.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`))]
          .filter(Boolean)
          .join(' '),
      commandUsage: (cmd) => {
        const names: string[] = [];
        for (let c = cmd.parent; c; c = c.parent) names.unshift(c.name());
        return [...names, [cmd.name(), ...cmd.aliases()].join('|'), cmd.usage()].join(' ');
      },
    })
    .exitOverride()
    .configureOutput(QUIET);
  // Loaded together, registered in this order: the order of the help.
  for (const register of await Promise.all(builtIns.map((builtIn) => builtIn.load()))) register(program, ctx);
  // Subcommands inherit the error handling set on the program.
  for (const sub of program.commands.flatMap((c) => [c, ...c.commands])) sub.exitOverride().configureOutput(QUIET);
  return program;
}

/** The subcommand a command line names, for error messages. */
function subcommandOf(program: Command, args: string[]): string | undefined {
  const word = scanArgs(args).word;
  return word === undefined ? undefined : program.commands.find((c) => c.name() === word || c.aliases().includes(word))?.name();
}

/**
 * `rpr plugin NAME` is the Go rpr's way to run scheduler plugin NAME; without a name it is most
 * likely `rpr plugins` mistyped. Its help, or the usage error that says both.
 */
function pluginWithoutName(head: readonly string[]): RprError | 'help' | null {
  const at = head.indexOf('plugin');
  if (wordIndex(head.slice(at + 1)) !== -1) return null;
  if (head.some((a) => a === '-h' || a === '--help')) {
    process.stdout.write(
      "Usage: rpr plugin <name> [options] -- <command> [args...]\n\nRun scheduler plugin <name>: the same as rpr <name> (the Go rpr's form).\n" +
        'To list, install or manage plugins: rpr plugins --help\n',
    );
    return 'help';
  }
  return usageError('plugin: name the scheduler plugin to run', 'did you mean rpr plugins (list, install, ...)? rpr plugin NAME -- CMD runs scheduler plugin NAME');
}

/** Subcommands that manage rpr rather than run a job: a command after -- would be silently ignored. */
const TAKES_NO_COMMAND: ReadonlySet<string> = new Set(['config', 'plugins', 'examples', 'completion']);

/** Parses and runs one invocation; returns the exit status. Never throws. */
/** `rpr __complete WORDS...` (what the completion scripts run): one candidate a line, never an error. */
async function complete(words: string[]): Promise<number> {
  try {
    const ctx: CliContext = { commandArgv: null, exitCode: EXIT.ok };
    const plugins = await import('./plugin-commands.js');
    const discovery = await plugins.findSchedulers(words);
    const program = await buildProgram(ctx, BUILT_INS);
    plugins.registerPluginSchedulers(program, ctx, discovery, RESERVED);
    const { loadConfigNamedIn } = await import('./config-file.js');
    const config = await loadConfigNamedIn(words, '').catch(() => null);
    const { completions } = await import('./complete.js');
    const found = completions(program, words, {
      plugins: [...discovery.plugins.values()].map((p) => ({ name: p.manifest.name, kind: p.manifest.kind })),
      disabled: discovery.disabled ?? [],
      jobs: Object.keys(config?.jobs ?? {}),
    });
    process.stdout.write(found.map((word) => `${word}\n`).join(''));
  } catch (error) {
    if (process.env.RPR_DEBUG === '1') process.stderr.write(`${formatError(error)}\n`);
  }
  return EXIT.ok;
}

export async function main(args: string[]): Promise<number> {
  if (args[0] === '__complete') return complete(args.slice(1));
  const scanned = scanArgs(args);
  const ctx: CliContext = { commandArgv: scanned.command, exitCode: EXIT.ok };
  let head = hoistOptions(canonicalFlags(scanned.head, scanned.word));
  const word = scanned.word;
  const builtIn = BUILT_INS.find((b) => word !== undefined && b.names.includes(word));
  let program: Command | undefined;
  try {
    if (word === 'plugin') {
      const refused = pluginWithoutName(head);
      if (refused === 'help') return EXIT.ok;
      if (refused) throw refused;
    }
    // The plugin system is loaded only for a command line that names no built-in subcommand (it may
    // name a plugin) or asks for the full help.
    const plugins = !builtIn && (word !== undefined || head.includes('--help') || head.includes('-h')) ? await import('./plugin-commands.js') : undefined;
    const discovery = await plugins?.findSchedulers(head);
    // A built-in or a plugin scheduler named: only it is built; the help or an unknown word: every one.
    const plugin = plugins && discovery ? plugins.schedulerNamed(head, discovery) : undefined;
    program = await buildProgram(ctx, builtIn ? [builtIn] : plugin ? [] : BUILT_INS);
    if (plugins && discovery) {
      plugins.registerPluginSchedulers(program, ctx, discovery, RESERVED, plugin);
      for (const sub of program.commands) sub.exitOverride().configureOutput(QUIET);
      head = plugins.rewritePluginArgs(head, discovery);
    }
    if (head.length === 0) {
      // Like `rpr config` and `rpr plugins` alone: the usage on stdout, exit 2 (a usage error).
      program.outputHelp();
      return EXIT.usage;
    }
    const sub = subcommandOf(program, head);
    if (ctx.commandArgv !== null && sub !== undefined && TAKES_NO_COMMAND.has(sub) && !head.some((arg) => arg === '--help' || arg === '-h')) {
      throw usageError(`${sub} runs no command, yet one follows --: ${ctx.commandArgv.join(' ') || '(empty)'}`, `drop the part after --; jobs are e.g. rpr interval --every 1m -- CMD`);
    }
    await program.parseAsync(head, { from: 'user' });
    return ctx.exitCode;
  } catch (thrown) {
    let error = thrown;
    if (error instanceof CommanderError && program) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
      // A group named without its subcommand (its help is on stderr), or `rpr help`.
      if (error.code === 'commander.help') return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      const sub = subcommandOf(program, head);
      // commander has already stored the operands it could not place; the first is the stray one.
      const extra = program.commands.find((c) => c.name() === sub)?.args[0];
      error = fromCommanderError(error, sub, extra);
    }
    // --log-format json (or RPR_LOG_FORMAT=json): the error line too is a JSON object.
    const json = (logFormatIn(scanned.head) ?? process.env.RPR_LOG_FORMAT) === 'json';
    process.stderr.write(json ? jsonLogLine({ time: Date.now(), level: 'error', text: formatError(error) }) : `${formatError(error)}\n`);
    return exitCodeFor(error);
  }
}
