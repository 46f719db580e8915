import type { Command } from 'commander';
import type { LoadedConfig } from '../config/types.js';
import { isCoreSchedule } from '../config/schema.js';
import { RprError, usageError } from '../errors/index.js';
import { addCatalogOptions, loadJobModules } from './core-commands.js';
import type { CliContext } from './context.js';

/**
 * `rpr run NAME`: a job written down in the config file ([jobs.NAME]), with
 * flags on the command line still winning over what the file says.
 */
/** Runs `check` and, when it fails with an RprError (now or, for a promise, later), names the config file, line and key. */
export function withConfigLocation<T>(config: LoadedConfig, path: string[], check: () => T): T {
  const locate = (error: unknown): never => {
    if (!(error instanceof RprError)) throw error;
    const line = config.lineOf(path);
    throw new RprError(error.code === 'E_USAGE' ? 'E_CONFIG' : error.code, `${config.path}${line === undefined ? '' : `:${line}`}: ${path.join('.')}: ${error.message}`, error.hint === undefined ? {} : { hint: error.hint });
  };
  try {
    const result = check();
    return (result instanceof Promise ? result.catch(locate) : result) as T;
  } catch (error) {
    return locate(error);
  }
}

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
    const { coreSchedule, loadInvocationConfig, resolveInvocation, runJob } = await loadJobModules();
    if (name === undefined) return (await import('./run-list.js')).listJobs(await loadInvocationConfig(cmd, ''), (text) => void process.stdout.write(text));
    // Only this job's problems (and those of the [plugins.*] tables it uses) stop it.
    const config = await loadInvocationConfig(cmd, name);
    const job = config?.jobs[name];
    if (!config || !job) {
      const known = Object.keys(config?.jobs ?? {});
      throw new RprError('E_CONFIG', config ? `no job "${name}" in ${config.path}` : `no config file, so no job "${name}"`, {
        hint: known.length ? `jobs: ${known.join(', ')}` : 'define it as [jobs.NAME] with schedule and command',
      });
    }
    if (ctx.commandArgv !== null) throw usageError(`run ${name}: the command comes from the config file`, 'drop the part after --');
    await checkJobPlugins(config, name);
    const invocation = await resolveInvocation(job.schedule, cmd, name, config);
    const { values } = invocation;
    const argv = [...job.command];
    if (job.schedule === 'cron') {
      const { parseCron } = await import('../schedule/cron/parse.js');
      const { cronSchedule } = await import('../schedule/cron-schedule.js');
      const cron = withConfigLocation(config, ['jobs', name, 'cron'], () => parseCron(values.cron as string, values.timezone as string | undefined));
      ctx.exitCode = await runJob({ ...invocation, argv, schedule: cronSchedule(cron, { catchUp: values.catchUp === true }) });
      return;
    }
    if (job.schedule !== 'interval' && job.schedule !== 'count' && job.schedule !== 'duration') {
      // A scheduler plugin: the job's other keys are its settings ([plugins.NAME] still applies below them).
      const { findPlugins, loadJobPlugins } = await import('../app/load-plugins.js');
      const { pluginSchedule } = await import('../app/plugin-schedule.js');
      const report = { line: (text: string) => void process.stderr.write(`${text}\n`), verbose: values.verbose === true };
      const discovery = await findPlugins(config.plugins, report);
      const settings = { ...job.pluginConfig, ...invocation.settings[job.schedule] };
      const [handle] = await withConfigLocation(config, ['jobs', name, 'schedule'], () =>
        loadJobPlugins(discovery, [{ name: job.schedule, kind: 'scheduler', settings, allow: invocation.allow[job.schedule] }], config.plugins, report),
      );
      ctx.exitCode = await runJob({ ...invocation, argv, schedule: pluginSchedule(handle!, report.line), started: [handle!] });
      return;
    }
    ctx.exitCode = await runJob({ ...invocation, argv, schedule: coreSchedule(job.schedule, values) });
  });
}

