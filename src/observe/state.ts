import type { CoordinationState, JobEvent, RunResult } from '../job/events.js';

type JobStatus = 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * JobEvent has no "shutting down" event yet, but /ready and rpr_up must flip
 * as soon as a signal arrives, not when the last run has ended. The caller
 * feeds this synthetic event to every observer when shutdown begins.
 */
export type ObserveEvent = JobEvent | { type: 'stopping'; wall: number };

/** How a finished run is counted; one value per run, so the three add up to `runs`. */
export type RunOutcome = 'success' | 'failure' | 'timeout';

export function runOutcome(result: RunResult): RunOutcome {
  if (result.success) return 'success';
  return result.timedOut ? 'timeout' : 'failure';
}

interface LastRun {
  run: number;
  startWall: number;
  exitCode: number | null;
  success: boolean;
  durationMs: number;
}

export interface JobSnapshot {
  name: string;
  version: string;
  status: JobStatus;
  /** Epoch ms of job-start; the state's creation time until then. */
  startedWall: number;
  runs: number;
  successes: number;
  /** Every failed run, timeouts included, so runs === successes + failures. */
  failures: number;
  timeouts: number;
  skipped: number;
  lastRun: LastRun | null;
  nextDueWall: number | null;
  /** --coordinate: the coordination state, once the job reported one. */
  coordination?: CoordinationState;
}

export interface JobState {
  observe(event: ObserveEvent): void;
  snapshot(): JobSnapshot;
}

export function createJobState(name: string, version: string, wallNow: () => number = Date.now): JobState {
  const s: JobSnapshot = {
    name,
    version,
    status: 'starting',
    startedWall: wallNow(),
    runs: 0,
    successes: 0,
    failures: 0,
    timeouts: 0,
    skipped: 0,
    lastRun: null,
    nextDueWall: null,
  };
  // Run number the announced due time belongs to: a run-start for it (or a
  // later run) makes the announcement stale, whichever order the loop emits.
  let nextRun = 0;
  return {
    observe(event) {
      switch (event.type) {
        case 'job-start':
          s.startedWall = event.wall;
          if (s.status === 'starting') s.status = 'running';
          break;
        case 'run-start':
          if (event.run >= nextRun) s.nextDueWall = null;
          break;
        case 'run-end': {
          const r = event.result;
          const outcome = runOutcome(r);
          s.runs++;
          if (outcome === 'success') s.successes++;
          else s.failures++;
          if (outcome === 'timeout') s.timeouts++;
          s.lastRun = { run: r.run, startWall: r.startWall, exitCode: r.exitCode, success: r.success, durationMs: r.durationMs };
          break;
        }
        case 'skipped':
          s.skipped += event.count;
          break;
        case 'next':
          if (s.status === 'stopping' || s.status === 'stopped') break;
          nextRun = event.run;
          s.nextDueWall = event.dueWall;
          break;
        case 'stopping':
          if (s.status !== 'stopped') s.status = 'stopping';
          s.nextDueWall = null;
          break;
        case 'job-end':
          s.status = 'stopped';
          s.nextDueWall = null;
          break;
        case 'coordination':
          s.coordination = { ...event.state };
          break;
      }
    },
    snapshot: () => ({ ...s, lastRun: s.lastRun && { ...s.lastRun }, ...(s.coordination ? { coordination: { ...s.coordination } } : {}) }),
  };
}
