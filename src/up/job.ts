/**
 * One job of `rpr up`: started through the same path as `rpr run NAME` (configJobRequest →
 * resolveJob → runJob), restarted by its `restart` policy, paused, and ended on reload either at
 * once, after its running run, or at its next slot (the new definition then takes that slot).
 */
import type { JobControl } from '../app/execute-job.js';
import type { JobModules } from './modules.js';
import type { JobConfig, LoadedConfig } from '../config/types.js';
import { exitCodeFor, formatError } from '../errors/exit-codes.js';
import type { JobObserver } from '../job/events.js';
import type { Metrics } from '../observe/metrics.js';
import { createJobState, type JobState } from '../observe/state.js';
import type { ClaimAnswer, Schedule } from '../schedule/types.js';
import { VERSION } from '../version.js';
import type { History } from './history.js';

export type UpStatus = 'starting' | 'running' | 'paused' | 'stopping' | 'finished' | 'failed' | 'restarting' | 'stopped';

export interface UpJobDeps {
  jobs: JobModules;
  history: History;
  line(text: string): void;
  env: NodeJS.ProcessEnv;
  metrics?: Metrics;
  /** Keep each run's output tail (for the page). */
  captureOutput: boolean;
}

const RESTART_MIN_MS = 1000;
const RESTART_MAX_MS = 60_000;
/** How often a paused job without a grid asks again whether it may run. */
const PAUSED_RETRY_MS = 500;

export class UpJob {
  status: UpStatus = 'starting';
  paused = false;
  restarts = 0;
  lastExit: number | null = null;
  lastError: string | undefined;
  describe = '';
  /** Runs going now. */
  active = 0;
  readonly state: JobState;
  readonly done: Promise<void>;
  #control: JobControl | undefined;
  #endRequested: string | undefined;
  #stopping = false;
  /** The grace of the stop asked for, for a job that had no control yet when it was asked. */
  #stopGraceMs = 0;
  /** A trigger's slot is claimed even while paused. */
  #triggered = false;
  #wakeRestart: (() => void) | undefined;
  readonly #observers: JobObserver[];

  constructor(
    readonly name: string,
    readonly config: JobConfig,
    readonly fingerprint: string,
    private readonly file: LoadedConfig,
    private readonly deps: UpJobDeps,
  ) {
    this.state = createJobState(name, VERSION);
    this.#observers = [this.state.observe, ...(deps.metrics ? [deps.metrics.observe] : []), (event) => this.#observe(event)];
    this.done = this.#supervise();
  }

  get restart(): NonNullable<JobConfig['restart']> {
    return this.config.restart ?? 'never';
  }

  /** The job's own lines, each naming it. */
  #line(text: string): void {
    this.deps.line(text.startsWith('rpr: ') ? `rpr: ${this.name}: ${text.slice(5)}` : `rpr: ${this.name}: ${text}`);
  }

  #observe(event: Parameters<JobObserver>[0]): void {
    if (event.type === 'run-start') this.active++;
    if (event.type === 'skipped') this.deps.history.record({ job: this.name, run: 0, outcome: 'skipped', startWall: Date.now(), durationMs: 0, exitCode: null, signal: null, count: event.count });
    if (event.type !== 'run-end') return;
    this.active = Math.max(0, this.active - 1);
    const r = event.result;
    this.deps.history.record({
      job: this.name,
      run: r.run,
      outcome: r.timedOut ? 'timeout' : r.success ? 'ok' : 'failed',
      dueWall: r.dueWall,
      startWall: r.startWall,
      durationMs: Math.round(r.durationMs * 1000) / 1000,
      exitCode: r.exitCode,
      signal: r.signal,
      tail: r.outputTail ?? r.startProblem ?? '',
    });
  }

  /** The schedule, wrapped so that pause and a reload's ending reach the loop at a slot. */
  #wrap(inner: Schedule): Schedule {
    const ended = (): { end: true; reason: string } | undefined => (this.#endRequested ? { end: true, reason: this.#endRequested } : undefined);
    const onGrid = inner.slots?.kind === 'grid' || inner.slots?.kind === 'instants';
    return {
      describe: inner.describe,
      ...(inner.missed ? { missed: inner.missed } : {}),
      ...(inner.slots ? { slots: inner.slots } : {}),
      ...(inner.wantsOutput ? { wantsOutput: inner.wantsOutput } : {}),
      first: (ctx) => ended() ?? inner.first(ctx),
      after: (prev, ctx) => ended() ?? inner.after(prev, ctx),
      bind: (emit) => inner.bind?.(emit),
      claim: async (due, ctx): Promise<ClaimAnswer> => {
        if (this.#endRequested) return 'pass';
        const triggered = this.#triggered;
        this.#triggered = false;
        // Paused: a slot of a grid or cron passes (the grid keeps its place); other schedules wait.
        if (this.paused && !triggered) return onGrid ? 'pass' : { retryAt: { at: ctx.nowAt + PAUSED_RETRY_MS } };
        return inner.claim ? inner.claim(due, ctx) : 'run';
      },
      runEnded: (run) => inner.runEnded?.(run),
      close: async () => inner.close?.(),
    };
  }

  async #runOnce(): Promise<number> {
    const { configJobRequest, resolveJob, runJob } = this.deps.jobs;
    const request = configJobRequest(this.file, this.name, { env: this.deps.env });
    // One terminal line per process cannot show many jobs.
    request.values.progress = false;
    request.line = (text) => this.#line(text);
    const job = await resolveJob(request);
    this.describe = job.schedule.describe;
    if (this.#stopping) {
      await job.close();
      return 0;
    }
    this.status = this.paused ? 'paused' : 'running';
    return runJob(job, {
      observers: this.#observers,
      started: (control) => {
        this.#control = control;
        // A stop asked for while the job was starting (after the check above, before its loop existed)
        // had nothing to reach: it reaches the loop now, or `rpr up` would wait for this job forever.
        if (this.#stopping) control.shutdown(this.#stopGraceMs);
      },
      captureOutput: this.deps.captureOutput,
      wrap: (schedule) => this.#wrap(schedule),
    });
  }

  async #supervise(): Promise<void> {
    for (;;) {
      let code: number;
      try {
        code = await this.#runOnce();
        this.lastError = undefined;
      } catch (error) {
        code = exitCodeFor(error);
        this.lastError = formatError(error);
        this.#line(`could not start: ${this.lastError.replace(/^rpr: /, '')}`);
      }
      this.#control = undefined;
      this.active = 0;
      this.lastExit = code;
      if (this.#stopping || this.#endRequested) break;
      const again = this.restart === 'always' || (this.restart === 'on-failure' && code !== 0);
      if (!again) {
        this.status = code === 0 ? 'finished' : 'failed';
        this.#line(`ended, exit ${code}${this.restart === 'never' ? '' : ` (restart = "${this.restart}": not started again)`}`);
        return;
      }
      const delay = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** Math.min(this.restarts, 16));
      this.restarts++;
      this.status = 'restarting';
      this.#line(`ended, exit ${code}; starting again in ${delay / 1000}s (restart = "${this.restart}")`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.#wakeRestart = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wakeRestart = undefined;
      if (this.#stopping || this.#endRequested) break;
    }
    this.status = 'stopped';
  }

  /** Ends the job now: no new run; running runs get `graceMs` after SIGTERM. */
  stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    this.#stopGraceMs = graceMs;
    if (this.status !== 'finished' && this.status !== 'failed') this.status = 'stopping';
    this.#control?.shutdown(graceMs);
    this.#wakeRestart?.();
    return this.done;
  }

  kill(): void {
    this.#control?.kill();
  }

  /**
   * Ends the job for a reload: `atSlot`, at its next slot (the new definition starts then and takes
   * it); otherwise once its running run has ended (at once when idle). `kill`: now, runs stopped.
   */
  end(reason: string, how: 'at-slot' | 'after-run' | 'kill', graceMs: number): Promise<void> {
    this.#endRequested = reason;
    if (!this.#control || how === 'kill' || (how === 'after-run' && this.active === 0)) return this.stop(graceMs);
    this.status = 'stopping';
    return this.done;
  }

  /** The next slot's run starts now (a paused job's too). */
  trigger(): boolean {
    if (!this.#control) return false;
    // The claim of a paused job would pass the slot: this one runs.
    this.#triggered = this.#control.trigger();
    return this.#triggered;
  }

  pause(): void {
    this.paused = true;
    if (this.status === 'running') this.status = 'paused';
  }

  resume(): void {
    this.paused = false;
    if (this.status === 'paused') this.status = 'running';
  }
}
