import type { JobConfig, LoadedConfig } from '../config/types.js';
import { RprError } from '../errors/index.js';
import { formatDuration } from '../units/duration.js';

/** A job's schedule in a few words, as its flags would say it: `interval --every 30s`, `fibonacci`. */
export function scheduleBrief(job: JobConfig): string {
  const o = job.options;
  const parts = [job.schedule];
  const duration = (flag: string, value: unknown): void => void (typeof value === 'number' && parts.push(`${flag} ${formatDuration(value)}`));
  if (typeof o.cron === 'string') parts.push(`--cron '${o.cron}'`);
  if (typeof o.timezone === 'string') parts.push(`--tz ${o.timezone}`);
  duration('--every', o.every);
  if (typeof o.times === 'number') parts.push(`--times ${o.times}`);
  duration('--for', o.for);
  return parts.join(' ');
}

/**
 * `rpr run` without a name: the jobs of the config file, one a line (name, schedule, command), on
 * stdout for scripts and completion. Problems inside a job do not hide it: `rpr config check` says them.
 */
export function listJobs(config: LoadedConfig | null, write: (text: string) => void): void {
  if (!config) throw new RprError('E_CONFIG', 'no config file, so no jobs to run', { hint: 'name one with --config FILE, or write ~/.config/rpr/config.toml with [jobs.NAME] tables' });
  const jobs = Object.values(config.jobs);
  if (jobs.length === 0) throw new RprError('E_CONFIG', `no jobs in ${config.path}`, { hint: 'define one as [jobs.NAME] with schedule and command' });
  const width = Math.max(...jobs.map((j) => j.name.length));
  const briefs = jobs.map(scheduleBrief);
  const schedWidth = Math.max(...briefs.map((b) => b.length));
  jobs.forEach((job, i) => write(`${job.name.padEnd(width)}  ${briefs[i]!.padEnd(schedWidth)}  ${job.command.join(' ')}\n`));
}
