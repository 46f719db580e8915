import type { ScheduleEvent } from '../schedule/events.js';

export type { CoordinationState } from '../schedule/events.js';
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

export type JobEvent =
  | { type: 'job-start'; wall: number; name: string }
  | { type: 'run-start'; run: number; dueWall: number; startWall: number }
  | { type: 'run-end'; result: RunResult }
  /** Due slots that passed while a run was still going (--on-overlap skip). */
  | { type: 'skipped'; count: number }
  | { type: 'next'; run: number; dueWall: number }
  /** What a schedule itself reports (schedule/events.ts): delay hints, coordination state. */
  | ScheduleEvent
  /** Shutdown has begun (a signal): no new runs; running ones are being stopped. */
  | { type: 'stopping'; wall: number }
  | { type: 'job-end'; reason: string; exitCode: number; wall: number };

export type JobObserver = (event: JobEvent) => void;
