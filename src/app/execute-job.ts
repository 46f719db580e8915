import { createSystemClock, type Clock } from '../clock/clock.js';
import { exitCodeForSignal } from '../errors/exit-codes.js';
import type { JobObserver } from '../job/events.js';
import { startJob } from '../job/loop.js';
import { capturesOutput } from '../job/run-plan.js';
import type { JobSpec } from '../job/spec.js';
import { executeRun, streamMode } from '../run/execute.js';
import { reapLeftovers } from '../run/reap.js';
import { loadRunner } from '../run/spawn.js';
import { resolveCommand } from '../run/resolve-command.js';
import type { Schedule } from '../schedule/types.js';
import { createStats } from '../report/stats.js';
import { formatSummary } from '../report/format.js';
import { colourWanted, paint } from '../report/colour.js';
import { onStopSignals, type StopSignal } from './signals.js';
import { startObservability, type ObservabilityOptions } from './observability.js';
import type { OutputPlan } from './output.js';

export interface ExecuteOptions {
  spec: JobSpec;
  /** Starts one run; default: spawn the command (an executor plugin replaces this). */
  startRun?: typeof executeRun;
  /** More observers (output plugins). */
  observers?: JobObserver[];
  /**
   * Called after the job, before exit (deliver what output plugins still hold, close plugins);
   * what it returns is a problem for the job's last line (every output failed).
   */
  finish?: () => Promise<string | undefined>;
  schedule: Schedule;
  output: OutputPlan;
  observability: ObservabilityOptions;
  clock?: Clock;
  /** One of several jobs of `rpr up`: signals, health, metrics and leftovers are the supervisor's. */
  supervised?: Supervised;
}

interface Supervised {
  /** The supervisor's observers of this job (its state, metrics, history). */
  observers: JobObserver[];
  /** Called once the job has started, with what stops it. */
  started(control: JobControl): void;
  /** Keep each run's last lines (the page shows them): runs then start with pipes, through execa. */
  captureOutput?: boolean;
  /** Wraps the job's schedule outermost (runJob applies it): pause, and ending at a slot on reload. */
  wrap?(schedule: Schedule): Schedule;
}

export interface JobControl {
  /** Ends the job: no new run; running runs get `graceMs` after SIGTERM, then SIGKILL. */
  shutdown(graceMs: number): void;
  kill(): void;
  /** Starts the next slot's run now; false when no slot is being waited for. */
  trigger(): boolean;
}

const NO_OBSERVABILITY = { observers: [], ports: {}, close: async () => undefined };

/** SIGPIPE's exit status: the reader of rpr's output went away. */
const EXIT_PIPE_CLOSED = 141;

/**
 * Runs one job as a process: checks the command, starts health and metrics
 * before the first run, handles signals, prints the summary, and makes sure
 * no process the job started outlives it. Returns the exit status.
 */
export async function executeJob(options: ExecuteOptions): Promise<number> {
  const { spec, schedule, output } = options;
  // With an executor plugin the command runs elsewhere (a container, another host): not checked here.
  if (!spec.shell && !options.startRun) resolveCommand(spec.argv[0]!);
  const clock = options.clock ?? createSystemClock();
  const stats = createStats();
  const captured = capturesOutput(spec, schedule);
  const pipes = streamMode(spec.io, captured, 'stdout') === 'pipe' || streamMode(spec.io, captured, 'stderr') === 'pipe';
  const supervised = options.supervised;
  const [observability, runner] = await Promise.all([
    supervised ? NO_OBSERVABILITY : startObservability(options.observability, spec.name),
    loadRunner({ pipes, ...(supervised ? { shared: true } : {}), ...(output.note ? { note: output.note } : {}) }),
  ]);
  output.note?.(`rpr: runs are started by ${runner.path === 'launcher' ? 'the launcher' : 'execa'}: ${runner.why}`);
  let stoppedBy: StopSignal | 'pipe' | undefined;
  const pipeWatch: JobObserver = (event) => {
    // A child writing to rpr's own stdout dies of SIGPIPE when the reader has gone.
    if (event.type === 'run-end' && event.result.signal === 'SIGPIPE' && !process.stdout.isTTY) closePipe();
  };
  const job = startJob(spec, {
    clock,
    schedule,
    startRun: options.startRun ?? executeRun,
    observers: [stats.observe, ...observability.observers, ...output.observers, ...(options.observers ?? []), ...(supervised?.observers ?? []), pipeWatch],
  });
  supervised?.started({ shutdown: (graceMs) => job.shutdown(graceMs), kill: () => job.kill(), trigger: () => job.trigger() });
  const closePipe = (): void => {
    stoppedBy ??= 'pipe';
    job.shutdown(spec.killAfterMs, EXIT_PIPE_CLOSED);
  };
  // A reader gone (EPIPE) or output that cannot be written (ENOSPC...): the job stops either way;
  // cli/bin.ts says which, and makes the second one a failure.
  const onPipeError = (): void => closePipe();
  process.stdout.on('error', onPipeError);
  const removeSignals = supervised
    ? () => undefined
    : onStopSignals(
        (signal) => {
          stoppedBy ??= signal;
          job.shutdown(spec.killAfterMs, exitCodeForSignal(signal));
        },
        () => job.kill(stoppedBy && stoppedBy !== 'pipe' ? exitCodeForSignal(stoppedBy) : undefined),
      );
  let code: number | undefined;
  try {
    const outcome = await job.done;
    output.stop();
    if (output.summaryTo && stoppedBy !== 'pipe') {
      const stream = output.summaryTo === 'stdout' ? process.stdout : process.stderr;
      if (output.summaryTo === 'stderr' && output.summaryLines) output.summaryLines(formatSummary(stats.summary(), outcome.detail, paint(false)));
      else stream.write(formatSummary(stats.summary(), outcome.detail, paint(colourWanted(stream))));
    }
    if (stoppedBy === 'pipe') code = EXIT_PIPE_CLOSED;
    else code = stoppedBy ? exitCodeForSignal(stoppedBy) : outcome.exitCode;
    return code;
  } finally {
    removeSignals();
    // Supervised, another job's runs may be alive: what runs left behind is reaped when `rpr up` ends.
    const [, , problem] = await Promise.all([supervised ? undefined : reapLeftovers(spec.killAfterMs), observability.close(), options.finish?.()]);
    process.stdout.off('error', onPipeError);
    if (code !== undefined) output.last(code, problem || undefined);
  }
}
