import type { RunOutcome, RunPlan } from '../run/execute.js';
import type { Schedule } from '../schedule/types.js';
import { decideRun } from './decide.js';
import type { RunResult } from './events.js';
import type { JobSpec } from './spec.js';

/** Whether rpr reads each run's output: for a pattern, --until-changes, or a plugin that is given its tail. */
export function capturesOutput(spec: JobSpec, schedule: Schedule): boolean {
  return !!(spec.successPattern || spec.failurePattern || spec.stop.untilMatch) || spec.stop.untilChanges || spec.wantsOutputTail === true || schedule.wantsOutput === true;
}

/** What the job reads of each run's output: the patterns matched (in this order), whether it is captured at all, its tail. */
export interface Reading {
  patterns: RegExp[];
  capture: boolean;
  tail: boolean;
}

export function readingOf(spec: JobSpec, schedule: Schedule): Reading {
  return {
    patterns: [spec.successPattern, spec.failurePattern, spec.stop.untilMatch].filter((p): p is RegExp => !!p),
    capture: capturesOutput(spec, schedule),
    tail: spec.wantsOutputTail === true || schedule.wantsOutput === true,
  };
}

/** Run `run`, due at `dueWall`: what it is started with, the previous run's result in its environment. */
export function runPlan(spec: JobSpec, reading: Reading, run: number, dueWall: number, last: RunResult | undefined): RunPlan {
  return {
    run,
    argv: spec.argv,
    shell: spec.shell,
    env: {
      RPR_RUN: String(run),
      RPR_SCHEDULED_AT: new Date(dueWall).toISOString(),
      RPR_LAST_EXIT_CODE: last?.exitCode?.toString() ?? '',
      RPR_LAST_DURATION_MS: last ? String(Math.round(last.durationMs)) : '',
    },
    timeoutMs: spec.timeoutMs,
    killAfterMs: spec.killAfterMs,
    ...spec.io,
    capture: reading.capture ? { patterns: reading.patterns, hashStdout: spec.stop.untilChanges } : undefined,
  };
}

/** An ended run as the job counts it: passed or failed (decide.ts), its stdout hash, whether --until-match matched. */
export function runResult(
  spec: JobSpec,
  reading: Reading,
  outcome: RunOutcome,
  times: Pick<RunResult, 'run' | 'dueWall' | 'startWall' | 'endWall'>,
): { result: RunResult; stdoutHash: string | null; matchedUntil: boolean } {
  const indexOf = (p?: RegExp): number | undefined => (p ? reading.patterns.indexOf(p) : undefined);
  const decided = decideRun(outcome, { success: indexOf(spec.successPattern), failure: indexOf(spec.failurePattern) });
  const untilIndex = indexOf(spec.stop.untilMatch);
  const result: RunResult = {
    ...times,
    durationMs: outcome.durationMs,
    signal: outcome.signal,
    timedOut: outcome.timedOut,
    ...decided,
    ...(outcome.startProblem ? { startProblem: outcome.startProblem } : {}),
    ...(reading.tail && outcome.capture ? { outputTail: outcome.capture.tail, outputHead: outcome.capture.head } : {}),
  };
  return { result, stdoutHash: outcome.capture?.stdoutHash ?? null, matchedUntil: untilIndex !== undefined && !!outcome.capture?.matched[untilIndex] };
}
