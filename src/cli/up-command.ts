import type { Command } from 'commander';
import { locateConfig } from '../config/locate.js';
import { RprError, usageError } from '../errors/index.js';
import type { CliContext } from './context.js';
import { loadJobModules } from './core-commands.js';
import { configFlag } from './resolve-values.js';

const port =
  (flag: string) =>
  (raw: string): number => {
    if (!/^\d+$/.test(raw) || Number(raw) > 65535) throw usageError(`${flag}: expected a port from 0 to 65535, got "${raw}"`, `e.g. ${flag} 8080`);
    return Number(raw);
  };

/** What commander hands the action: one field per option declared below (the parsers make the numbers). */
interface UpOptions {
  only?: string;
  check?: true;
  onReload: 'wait' | 'kill';
  healthPort?: number;
  healthAddr?: string;
  metricsPort?: number;
  metricsAddr?: string;
  uiPort?: number;
  uiAddr?: string;
  uiToken?: string;
  uiNoAuth?: true;
  watch: boolean;
  history?: string;
}

/** `rpr up`: every job of the config file in one supervised process. */
export function registerUpCommand(program: Command, ctx: CliContext): void {
  // commander's Option through the program: this module loads no commander of its own (one chunk).
  const option = (flags: string, description: string) => program.createOption(flags, description);
  program
    .command('up')
    .description('run every [jobs.NAME] of the config file in one process, reloaded live (docs/up.md)')
    .usage('[--config FILE] [--only NAME,...] [options]')
    .option('--config <file>', 'config file (also accepted before the subcommand)')
    .option('--only <names>', 'run only these jobs (comma-separated)')
    .option('--check', 'check the whole config as rpr up would run it, and exit')
    .addOption(option('--on-reload <policy>', 'a removed or changed job: wait for its running run, or kill it').choices(['wait', 'kill']).default('wait'))
    .addOption(option('--health-port <port>', 'serve /health, /ready, /live for every job (default: [observability] health_port)').argParser(port('--health-port')))
    .option('--health-addr <addr>', 'address for --health-port (default 127.0.0.1)')
    .addOption(option('--metrics-port <port>', 'serve /metrics, every series labelled with its job (default: [observability] metrics_port)').argParser(port('--metrics-port')))
    .option('--metrics-addr <addr>', 'address for --metrics-port (default 127.0.0.1)')
    .addOption(option('--ui-port <port>', 'serve the page and its JSON API').argParser(port('--ui-port')))
    .option('--ui-addr <addr>', 'address for --ui-port (default 127.0.0.1; any other needs a token)')
    .option('--ui-token <token>', 'token for the page (also RPR_UI_TOKEN): bearer header or its login form')
    .option('--ui-no-auth', 'on a loopback address only: controls without a token')
    .option('--no-watch', 'reload on SIGHUP only, not when the file changes')
    .option('--history <file>', 'keep run history in this file (JSON lines, bounded) across restarts')
    .addHelpText('after', '\nExamples:\n  rpr up --config ./rpr.toml --metrics-port 9090\n  rpr up --config ./rpr.toml --ui-port 8080\n  rpr up --config ./rpr.toml --check\n')
    .action(async (opts: UpOptions, cmd: Command) => {
      if (ctx.commandArgv !== null) throw usageError('up runs the jobs of the config file, yet a command follows --', 'drop the part after --');
      const location = locateConfig({ explicit: configFlag(cmd), env: process.env });
      if (!location) throw new RprError('E_CONFIG', 'rpr up: no config file', { hint: 'give --config FILE (or RPR_CONFIG) with [jobs.NAME] tables' });
      const [{ runUp }, { loadConfigFile }, jobs] = await Promise.all([import('../up/main.js'), import('../config/load.js'), loadJobModules()]);
      const { observability } = loadConfigFile(location.path);
      const token = opts.uiToken ?? (process.env.RPR_UI_TOKEN || undefined);
      const uiAddr = opts.uiAddr ?? '127.0.0.1';
      const uiPort = opts.uiPort;
      ctx.exitCode = await runUp({
        jobs,
        path: location.path,
        ...(typeof opts.only === 'string'
          ? {
              only: new Set(
                opts.only
                  .split(',')
                  .map((n) => n.trim())
                  .filter(Boolean),
              ),
            }
          : {}),
        check: opts.check === true,
        watch: opts.watch !== false,
        onReload: opts.onReload,
        ...(typeof opts.history === 'string' ? { historyFile: opts.history } : {}),
        healthPort: opts.healthPort ?? observability.healthPort,
        healthAddr: opts.healthAddr ?? observability.healthAddr,
        metricsPort: opts.metricsPort ?? observability.metricsPort,
        metricsAddr: opts.metricsAddr ?? observability.metricsAddr,
        ...(uiPort !== undefined
          ? { page: async (up) => (await import('../ui/server.js')).startUi(up, { port: uiPort, addr: uiAddr, ...(token ? { token } : {}), noAuth: opts.uiNoAuth === true }) }
          : {}),
        env: process.env,
        out: (line) => void process.stdout.write(`${line}\n`),
        err: (line) => void process.stderr.write(`${line}\n`),
      });
    });
}
