// fs.promises is loaded on first use: only a run with a working directory of its own needs it.
import { constants, promises as fs } from 'node:fs';
import { monotonicMs } from '../clock/clock.js';
import { OutputCapture, type CaptureNeeds, type CaptureResult } from './capture.js';
import { createPrefixer, expandPrefix } from './prefix.js';
import { groupIsLive, leaderExited, trackGroup } from './process-group.js';
import { spawnRun, type ProcessEnd, type StdioMode } from './spawn.js';
import { endTagged, TAG_ENV } from './tagged.js';

/** Re-exported for app/dry-run.ts: importing it from here keeps it in this module's chunk of the bundle. */
export { resolveCommand } from './resolve-command.js';

type Sink = (chunk: Buffer) => void;

export interface RunPlan {
  run: number;
  argv: readonly string[];
  shell: boolean;
  env: Record<string, string>;
  /** Working directory; rpr's own when absent. */
  cwd?: string;
  timeoutMs?: number;
  killAfterMs: number;
  /** Where each stream's bytes go; undefined discards them. */
  sinks: { stdout?: Sink; stderr?: Sink };
  /** When set and a sink is set, the sink is written directly by the child (no copy through rpr). */
  passthrough: { stdout: boolean; stderr: boolean };
  prefix?: string;
  capture?: CaptureNeeds;
}

export interface RunOutcome extends ProcessEnd {
  timedOut: boolean;
  durationMs: number;
  capture: CaptureResult | null;
  /** Why the run could not start when the command is not to blame (its working directory). */
  startProblem?: string;
}

export interface ActiveRun {
  readonly pid: number | undefined;
  readonly done: Promise<RunOutcome>;
  /** SIGTERM the run's process group, SIGKILL after the grace period; resolves when it has ended. */
  terminate(graceMs: number): Promise<void>;
  /** SIGKILL the process group at once. */
  kill(): void;
}

/** After the child exits, how long its pipes may stay open (held by a background grandchild). */
const STREAM_LINGER_MS = 250;

/** Node's longest timer; a longer delay would fire after 1 ms (with a TimeoutOverflowWarning). */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Timer {
  clear(): void;
  unref(): void;
}

/** setTimeout for any delay (--timeout 30d, --kill-after 4w): chained timers of at most MAX_TIMER_MS. */
function after(ms: number, fn: () => void): Timer {
  let left = ms;
  let timer: NodeJS.Timeout;
  let unref = false;
  const arm = (): void => {
    const step = Math.min(left, MAX_TIMER_MS);
    left -= step;
    timer = setTimeout(() => (left > 0 ? arm() : fn()), step);
    if (unref) timer.unref();
  };
  arm();
  return {
    clear: () => clearTimeout(timer),
    unref: () => {
      unref = true;
      timer.unref();
    },
  };
}

/** Where a run's stream goes: inherited, discarded, or piped into rpr when rpr must read it. */
export function streamMode(io: Pick<RunPlan, 'sinks' | 'passthrough' | 'prefix'>, captured: boolean, stream: 'stdout' | 'stderr'): StdioMode {
  const sink = io.sinks[stream];
  if (captured || (sink && io.prefix)) return 'pipe';
  if (sink) return io.passthrough[stream] ? 'inherit' : 'pipe';
  return 'ignore';
}

export function executeRun(plan: RunPlan): ActiveRun {
  const started = monotonicMs();
  const capture = plan.capture ? new OutputCapture(plan.capture) : null;
  const mode = (stream: 'stdout' | 'stderr'): StdioMode => streamMode(plan, capture !== null, stream);
  // RPR_JOB_ID lets the job's end (and this run's timeout) find what left the run's group.
  const env = { ...plan.env, ...TAG_ENV };
  const child = spawnRun({ argv: plan.argv, shell: plan.shell, env, cwd: plan.cwd, stdout: mode('stdout'), stderr: mode('stderr') });
  if (child.pid !== undefined) trackGroup(child.pid);

  for (const stream of ['stdout', 'stderr'] as const) {
    const readable = child[stream];
    if (!readable) continue;
    const sink = plan.sinks[stream];
    const prefix = plan.prefix ? createPrefixer(() => expandPrefix(plan.prefix!, { run: plan.run, stream, now: new Date() })) : undefined;
    readable.on('data', (chunk: Buffer) => {
      capture?.write(stream, chunk);
      if (sink) sink(prefix ? prefix(chunk) : chunk);
    });
  }

  let timedOut = false;
  let killTimer: Timer | undefined;
  const terminate = async (graceMs: number): Promise<void> => {
    child.signal('SIGTERM');
    killTimer ??= after(graceMs, () => child.signal('SIGKILL'));
    await child.exited;
  };
  const timeoutTimer =
    plan.timeoutMs !== undefined && plan.timeoutMs > 0
      ? after(plan.timeoutMs, () => {
          timedOut = true;
          void terminate(plan.killAfterMs);
          // What the run started outside its group (setsid, set -m) times out with it.
          void endTagged(plan.killAfterMs, plan.run);
        })
      : undefined;

  const done = (async (): Promise<RunOutcome> => {
    await child.exited;
    const ended = monotonicMs();
    // From the exec, where the launcher says when that was: a launcher slow to get to the request
    // (a loaded machine) would otherwise lengthen the run, and move its start earlier for a
    // schedule that reckons starts from durations (rate-limit keeps N starts per window).
    const exec = child.startedAtMs;
    const durationMs = ended - (exec !== undefined && exec >= started && exec <= ended ? exec : started);
    if (child.pid !== undefined) leaderExited(child.pid);
    timeoutTimer?.clear();
    let linger: NodeJS.Timeout | undefined;
    // Without pipes there is nothing to linger for (and no timer to set and clear on every run).
    const end = !child.stdout && !child.stderr ? await child.ended : await Promise.race([child.ended, new Promise<null>((resolve) => (linger = setTimeout(() => resolve(null), STREAM_LINGER_MS)))]);
    clearTimeout(linger);
    // Kill escalation only matters while something in the run's group is alive. A member that
    // ignored SIGTERM may outlive the main process: SIGKILL still reaches it when the grace period
    // ends (unref'd: the job's end reaps leftover groups itself and need not wait for this timer).
    if (killTimer && child.pid !== undefined && groupIsLive(child.pid)) killTimer.unref();
    else killTimer?.clear();
    let processEnd = end;
    if (!processEnd) {
      child.stdout?.destroy();
      child.stderr?.destroy();
      processEnd = await child.ended;
    }
    // A start failure reads as the command's (127, 126) unless the working directory explains it.
    const startProblem = processEnd.spawnError && plan.cwd ? await workingDirectoryProblem(plan.cwd) : undefined;
    return { ...processEnd, timedOut, durationMs, capture: capture ? capture.finish() : null, ...(startProblem ? { startProblem } : {}) };
  })();

  return {
    // A getter: a run started by the launcher learns its pid a moment after it is started.
    get pid() {
      return child.pid;
    },
    done,
    terminate,
    kill: () => child.signal('SIGKILL'),
  };
}

/** What is wrong with a run's working directory, in words; undefined when nothing is. */
async function workingDirectoryProblem(dir: string): Promise<string | undefined> {
  try {
    if (!(await fs.stat(dir)).isDirectory()) return `working directory ${dir} is not a directory`;
    await fs.access(dir, constants.X_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `working directory ${dir} does not exist`;
    if (code === 'ENOTDIR') return `working directory ${dir} is not a directory`;
    if (code === 'EACCES') return `working directory ${dir} cannot be entered (permission denied)`;
    return `working directory ${dir} cannot be used (${code ?? 'error'})`;
  }
}
