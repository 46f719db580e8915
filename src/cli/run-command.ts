import type { Command } from 'commander';
import { usageError } from '../errors/index.js';
import { addCatalogOptions, dryRun, loadJobModules } from './core-commands.js';
import type { CliContext } from './context.js';

/**
 * `rpr run NAME`: a job written down in the config file ([jobs.NAME]), with
 * flags on the command line still winning over what the file says.
 */
export function registerRunCommand(program: Command, ctx: CliContext): void {
  const command = program
    .command('run')
    .argument('<name>', 'a job defined as [jobs.NAME] in the config file')
    .description('run a job defined in the config file')
    .usage('<name> [options]')
    .addHelpText('after', '\nExample:\n  rpr --config ./jobs.toml run health-check --verbose\n');
  // Every option is accepted here; resolution rejects those the job's schedule does not take.
  addCatalogOptions(command, 'all-options');
  command.action(async (name: string, _opts: unknown, cmd: Command) => {
    const { configJob, configJobRequest, loadInvocationConfig, resolveInvocation, runRequest } = await loadJobModules();
    const config = await loadInvocationConfig(cmd);
    const job = configJob(config, name);
    if (ctx.commandArgv !== null) throw usageError(`run ${name}: the command comes from the config file`, 'drop the part after --');
    const { values, settings } = await resolveInvocation(job.schedule, cmd, name, config);
    ctx.exitCode = await runRequest(configJobRequest(config!, name, { values, settings }), dryRun(cmd));
  });
}
