/**
 * `rpr up`: every [jobs.NAME] of a config file in one process. A config (at start, and on each
 * reload) is checked whole before anything changes: the file, the plugins it names, and each job
 * assembled as `rpr run NAME` would assemble it. A reload then starts added jobs, ends removed ones
 * after their running run, restarts changed ones at their next slot and leaves the others alone.
 */
import { loadConfigFile } from '../config/load.js';
import type { JobConfig, LoadedConfig } from '../config/types.js';
import { RprError } from '../errors/index.js';
import type { Metrics } from '../observe/metrics.js';
import type { History } from './history.js';
import { UpJob } from './job.js';
import type { JobModules } from './modules.js';

export interface UpOptions {
  jobs: JobModules;
  path: string;
  /** --only: these jobs of the file, no others. */
  only?: ReadonlySet<string>;
  /** --on-reload: a removed or changed job ends after its running run ('wait'), or at once ('kill'). */
  onReload: 'wait' | 'kill';
  history: History;
  line(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Each job's metrics (one registry per job, labelled with its name), when /metrics is served. */
  metricsFor?(job: string): Metrics;
  /** Keep each run's output tail (the page shows it; it costs a pipe and an execa start per run). */
  captureOutput: boolean;
}

const GRACE_DEFAULT_MS = 5000;

/** What a job's definition is, for telling a changed job from an unchanged one after a reload. */
function fingerprint(config: LoadedConfig, job: JobConfig): string {
  const plugins = [job.schedule, ...String(job.options.output ?? '').split(','), String(job.options.executor ?? '')].map((n) => n.trim()).filter(Boolean);
  return JSON.stringify({
    job,
    defaults: config.defaults,
    coordination: config.coordination ?? null,
    plugins: plugins.map((name) => config.plugins.entries[name] ?? null),
    dir: config.plugins.dir ?? null,
  });
}

/** What differs between two definitions of a job, as the file's keys: `every, command`. */
export function changedKeys(before: LoadedConfig, was: JobConfig, after: LoadedConfig, now: JobConfig): string[] {
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const keys: string[] = [];
  for (const key of ['schedule', 'command', 'shell', 'restart'] as const) if (!same(was[key], now[key])) keys.push(key);
  for (const key of new Set([...Object.keys(was.options), ...Object.keys(now.options)])) if (key !== 'shell' && !same(was.options[key], now.options[key])) keys.push(snake(key));
  for (const key of new Set([...Object.keys(was.pluginConfig ?? {}), ...Object.keys(now.pluginConfig ?? {})])) if (!same(was.pluginConfig?.[key], now.pluginConfig?.[key])) keys.push(key);
  if (!same(before.defaults, after.defaults)) keys.push('[defaults]');
  if (!same(before.coordination ?? null, after.coordination ?? null)) keys.push('[coordination]');
  if (keys.length === 0) keys.push('[plugins]');
  return keys;
}

/** Every problem of a config, as `rpr up` would meet them: the file, its plugins, each job assembled. */
export async function checkUpConfig(jobs: JobModules, path: string, only?: ReadonlySet<string>, env: NodeJS.ProcessEnv = process.env): Promise<{ config: LoadedConfig; problems: RprError[] }> {
  const { configJobRequest, resolveJob, resolveCommand } = jobs;
  // The plugin system is loaded by the check only (a config of core jobs never needs it to run).
  const { configPluginProblems } = await import('../app/check-config.js');
  const config = loadConfigFile(path);
  const names = Object.keys(config.jobs).filter((name) => !only || only.has(name));
  const problems: RprError[] = [];
  for (const name of only ?? [])
    if (!config.jobs[name]) problems.push(new RprError('E_CONFIG', `--only: no job "${name}" in ${path}`, { hint: `jobs: ${Object.keys(config.jobs).join(', ') || 'none'}` }));
  if (names.length === 0 && problems.length === 0) problems.push(new RprError('E_CONFIG', `${path}: no [jobs.NAME] to run`, { hint: 'define jobs as [jobs.NAME] with schedule and command' }));
  if (!only) problems.push(...(await configPluginProblems(config)));
  else {
    const seen = new Set<string>();
    for (const name of names) for (const problem of await configPluginProblems(config, name)) if (!seen.has(problem.message) && seen.add(problem.message)) problems.push(problem);
  }
  if (problems.length > 0) return { config, problems };
  for (const name of names) {
    try {
      const job = await resolveJob({ ...configJobRequest(config, name, { env }), line: () => undefined });
      job.output.stop();
      await job.close();
      if (!job.spec.shell && !job.executor) resolveCommand(job.spec.argv[0]!);
    } catch (error) {
      if (!(error instanceof RprError)) throw error;
      problems.push(
        error.message.startsWith(path)
          ? error
          : new RprError(error.code === 'E_USAGE' ? 'E_CONFIG' : error.code, `${path}: jobs.${name}: ${error.message}`, error.hint === undefined ? {} : { hint: error.hint }),
      );
    }
  }
  return { config, problems };
}

export class Supervisor {
  readonly jobs = new Map<string, UpJob>();
  #config: LoadedConfig;
  #reloading: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(
    config: LoadedConfig,
    private readonly options: UpOptions,
  ) {
    this.#config = config;
  }

  /** Starts every job of the config (once the servers are listening). */
  start(): void {
    for (const name of this.#names(this.#config)) this.#start(this.#config, name);
  }

  get history(): History {
    return this.options.history;
  }

  get config(): LoadedConfig {
    return this.#config;
  }

  #names(config: LoadedConfig): string[] {
    return Object.keys(config.jobs).filter((name) => !this.options.only || this.options.only.has(name));
  }

  #start(config: LoadedConfig, name: string): void {
    const job = new UpJob(name, config.jobs[name]!, fingerprint(config, config.jobs[name]!), config, {
      jobs: this.options.jobs,
      history: this.options.history,
      line: this.options.line,
      env: this.options.env,
      captureOutput: this.options.captureOutput,
      ...(this.options.metricsFor ? { metrics: this.options.metricsFor(name) } : {}),
    });
    this.jobs.set(name, job);
  }

  #grace(job: UpJob): number {
    return (job.config.options.killAfter as number | undefined) ?? (this.#config.defaults.killAfter as number | undefined) ?? GRACE_DEFAULT_MS;
  }

  /** Checks the file again and applies it; a broken one is refused in one line and nothing changes. */
  reload(trigger: string): Promise<void> {
    this.#reloading = this.#reloading.then(() => this.#reload(trigger));
    return this.#reloading;
  }

  async #reload(trigger: string): Promise<void> {
    if (this.#stopped) return;
    const { line } = this.options;
    let next: LoadedConfig;
    try {
      const checked = await checkUpConfig(this.options.jobs, this.options.path, this.options.only, this.options.env);
      if (checked.problems.length > 0) {
        const more = checked.problems.length > 1 ? ` (and ${checked.problems.length - 1} more: rpr up --check lists them)` : '';
        line(`rpr: reload (${trigger}) refused, the running config stays: ${checked.problems[0]!.message}${more}`);
        return;
      }
      next = checked.config;
    } catch (error) {
      line(`rpr: reload (${trigger}) refused, the running config stays: ${(error as Error).message}`);
      return;
    }
    const names = new Set([...this.#names(next), ...this.jobs.keys()]);
    const how = this.options.onReload === 'kill' ? 'kill' : 'after-run';
    const endings: Promise<void>[] = [];
    for (const name of [...names].sort()) {
      const old = this.jobs.get(name);
      const wanted = next.jobs[name] && (!this.options.only || this.options.only.has(name));
      if (!old && wanted) {
        line(`rpr: reload: ${name}: added, starting`);
        this.#start(next, name);
      } else if (old && !wanted) {
        line(`rpr: reload: ${name}: removed, ${how === 'kill' ? 'stopping now' : old.active > 0 ? 'ending after its running run' : 'ending'}`);
        endings.push(old.end('removed from the config', how, this.#grace(old)).then(() => void (this.jobs.get(name) === old && this.jobs.delete(name))));
      } else if (old && wanted) {
        const print = fingerprint(next, next.jobs[name]!);
        if (print === old.fingerprint) {
          line(`rpr: reload: ${name}: unchanged`);
          continue;
        }
        // A cron job's next slot may be hours away: it changes once idle; the others at their next slot.
        const at = how === 'kill' ? 'kill' : old.config.schedule === 'cron' ? 'after-run' : 'at-slot';
        line(
          `rpr: reload: ${name}: changed (${changedKeys(this.#config, old.config, next, next.jobs[name]!).join(', ')}), restarting ${at === 'kill' ? 'now' : at === 'at-slot' ? 'at its next slot' : old.active > 0 ? 'after its running run' : 'now'}`,
        );
        endings.push(
          old.end('changed in the config', at, this.#grace(old)).then(() => {
            if (!this.#stopped) this.#start(next, name);
          }),
        );
      }
    }
    this.#config = next;
    // Endings are waited for by shutdown, not by the next reload.
    void Promise.all(endings);
  }

  pause(name: string): boolean {
    const job = this.jobs.get(name);
    job?.pause();
    return !!job;
  }

  resume(name: string): boolean {
    const job = this.jobs.get(name);
    job?.resume();
    return !!job;
  }

  /** Ends every job (running runs get their grace, then the group kill) and what runs left behind. */
  async shutdown(): Promise<number> {
    this.#stopped = true;
    await this.#reloading;
    // Judged before the stop: a run ended by the shutdown itself is not a job failing.
    const failed = this.failed();
    const jobs = [...this.jobs.values()];
    const grace = Math.max(GRACE_DEFAULT_MS, ...jobs.map((job) => this.#grace(job)));
    await Promise.all(jobs.map((job) => job.stop(this.#grace(job))));
    await this.options.jobs.reapLeftovers(grace);
    return failed ? 1 : 0;
  }

  kill(): void {
    for (const job of this.jobs.values()) job.kill();
  }

  /** Whether any job failed: its last run, its end, or its start. */
  failed(): boolean {
    return [...this.jobs.values()].some((job) => job.lastError !== undefined || (job.lastExit !== null && job.lastExit !== 0) || job.state.snapshot().lastRun?.success === false);
  }
}
