import type { JobConfig, LoadedConfig } from '../config/types.js';
import { RprError } from '../errors/index.js';
import { resolveOptions, withExplicit } from '../options/resolve.js';
import type { JobRequest, PluginSettings } from './resolve-job.js';

export { withConfigLocation } from '../config/located.js';

/** [jobs.NAME] of the config file, or the error that lists the jobs there are. */
export function configJob(config: LoadedConfig | null, name: string): JobConfig {
  const job = config?.jobs[name];
  if (config && job) return job;
  const known = Object.keys(config?.jobs ?? {});
  throw new RprError('E_CONFIG', config ? `no job "${name}" in ${config.path}` : `no config file, so no job "${name}"`, {
    hint: known.length ? `jobs: ${known.join(', ')}` : 'define it as [jobs.NAME] with schedule and command',
  });
}

/**
 * The request for [jobs.NAME], as `rpr run NAME` and `rpr up` make it: its values resolved (flags,
 * when a command line gave some, > RPR_* environment > the job's keys > [defaults] > built-ins), its
 * command and its scheduler plugin's settings from the file.
 */
export function configJobRequest(config: LoadedConfig, name: string, given: { values?: JobRequest['values']; settings?: PluginSettings; env?: NodeJS.ProcessEnv } = {}): JobRequest {
  const job = configJob(config, name);
  const values = given.values ?? withExplicit(resolveOptions({ command: job.schedule, env: given.env ?? process.env, config, job: name }));
  return {
    schedule: job.schedule,
    values,
    config,
    settings: given.settings ?? {},
    argv: [...job.command],
    ...(job.pluginConfig ? { schedulerSettings: job.pluginConfig } : {}),
    job: name,
  };
}
