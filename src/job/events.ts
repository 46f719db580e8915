/** What a job tells its observers (reporters, health, metrics, output plugins). */

export interface RunResult {
  /** 1-based run number. */
  run: number;
  /** Epoch ms the run was due. */
  dueWall: number;
  startWall: number;
  endWall: number;
  durationMs: number;
  /** Exit code, or null when ended by a signal or not started. */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  success: boolean;
  /** Why the run counts as failed or passed when a pattern decided it. */
  decidedBy: 'exit-code' | 'success-pattern' | 'failure-pattern' | 'timeout' | 'spawn-error';
  /** Why it could not start, when the command is not to blame (a missing working directory). */
  startProblem?: string;
  /** The last few KB of the run's output, when something (a plugin) asked for it. */
  outputTail?: string;
  /** The first 16 KB of the run's output (stdout, then stderr), when asked for. */
  outputHead?: string;
}

/** Coordination across instances (--coordinate), as health and metrics show it. */
export interface CoordinationState {
  backend: 'redis';
  /** This instance, as its claims name it (host:pid). */
  instance: string;
  /** Redis answers (false while it is down or does not answer in time). */
  connected: boolean;
  /** Slots (or, for a shared rate limit, starts) this instance won and ran. */
  claimed: number;
  /** Slots another instance had already claimed. */
  lost: number;
  /** Slots not run because Redis could not be asked (--on-coordination-loss skip). */
  unavailable: number;
  /** Runs started without asking Redis while it was unavailable (--on-coordination-loss run-local). */
  local: number;
  onLoss: 'skip' | 'run-local';
}

export type JobEvent =
  | { type: 'job-start'; wall: number; name: string }
  | { type: 'run-start'; run: number; dueWall: number; startWall: number }
  | { type: 'run-end'; result: RunResult }
  /** Due slots that passed while a run was still going (--on-overlap skip). */
  | { type: 'skipped'; count: number }
  | { type: 'next'; run: number; dueWall: number }
  /** The next run waits longer than the schedule says because the command's output asked for it (--http-aware). */
  | { type: 'delay-hint'; run: number; delayMs: number; detail: string }
  /** Coordination state after a change (a claim won or lost, Redis lost or back). */
  | { type: 'coordination'; state: CoordinationState }
  /** Shutdown has begun (a signal): no new runs; running ones are being stopped. */
  | { type: 'stopping'; wall: number }
  | { type: 'job-end'; reason: string; exitCode: number; wall: number };

export type JobObserver = (event: JobEvent) => void;
