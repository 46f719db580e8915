import type { Command } from 'commander';
import type { LoadedConfig } from '../config/types.js';
import { isCoreSchedule } from '../config/schema.js';
import { usageError } from '../errors/index.js';
import { addCatalogOptions, dryRun, loadJobModules } from './core-commands.js';
import type { CliContext } from './context.js';

/**
 * `rpr run NAME`: a job written down in the config file ([jobs.NAME]), with
 * flags on the command line still winning over what the file says.
 */
/** The plugins this job uses, checked as `rpr config check` does (app/check-config.ts); the first problem stops it. */
async function checkJobPlugins(config: LoadedConfig, name: string): Promise<void> {
  const job = config.jobs[name]!;
  if (isCoreSchedule(job.schedule) && job.options.output === undefined && job.options.executor === undefined) return;
  const { configPluginProblems } = await import('../app/check-config.js');
  const [first] = await configPluginProblems(config, name);
  if (first) throw first;
}

export function registerRunCommand(program: Command, ctx: CliContext): void {
  const command = program
    .command('run')
    .argument('[name]', 'a job defined as [jobs.NAME] in the config file (none: list them)')
    .description('run a job defined in the config file; without a name, list the jobs')
    .usage('[name] [options]')
    .addHelpText('after', '\nExamples:\n  rpr --config ./jobs.toml run                          # the jobs: name, schedule, command\n  rpr --config ./jobs.toml run health-check --verbose\n');
  // Every option is accepted here; resolution rejects those the job's schedule does not take.
  addCatalogOptions(command, 'all-options');
  command.action(async (name: string | undefined, _opts: unknown, cmd: Command) => {
    const { configJob, configJobRequest, loadInvocationConfig, resolveInvocation, runRequest } = await loadJobModules();
    if (name === undefined) return (await import('./run-list.js')).listJobs(await loadInvocationConfig(cmd, ''), (text) => void process.stdout.write(text));
    // Only this job's problems (and those of the [plugins.*] tables it uses) stop it.
    const config = await loadInvocationConfig(cmd, name);
    const job = configJob(config, name);
    if (ctx.commandArgv !== null) throw usageError(`run ${name}: the command comes from the config file`, 'drop the part after --');
    await checkJobPlugins(config!, name);
    const { values, settings, allow } = await resolveInvocation(job.schedule, cmd, name, config);
    ctx.exitCode = await runRequest({ ...configJobRequest(config!, name, { values, settings }), allow }, dryRun(cmd));
  });
}
