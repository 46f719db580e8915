import type { RunResult } from './events.js';
import type { StopSpec } from './spec.js';

/** Why a job ended. */
export type EndReason = 'times' | 'for' | 'until-time' | 'until-success' | 'until-failure' | 'until-match' | 'until-changes' | 'max-failures' | 'schedule-done' | 'signal';

export interface JobOutcome {
  reason: EndReason;
  /** The reason in words: the EndReason, or the schedule's own (e.g. "succeeded after 3 attempts"). */
  detail: string;
  runs: number;
  failures: number;
  /** 0 all runs passed or an until-condition was met, 1 some run failed; the CLI turns 'signal' into 128+n. */
  exitCode: number;
}

/** What the job has counted so far: the runs started, those that failed, the last result. */
export interface Tally {
  runs: number;
  failures: number;
  last?: RunResult;
  /** The last run's stdout hash (--until-changes compares the next one with it). */
  lastHash: string | null;
}

export const NO_RUNS: Tally = { runs: 0, failures: 0, lastHash: null };

/** A schedule's own end decision (a plugin's): its words and, maybe, the job's exit status. */
export interface ScheduleEnd {
  reason: string;
  exitCode?: number;
}

const UNTIL_MET: ReadonlySet<EndReason> = new Set(['until-success', 'until-failure', 'until-match', 'until-changes']);

/** A run has ended: it is counted, and the stop condition it meets (the first, in this order), if any. */
export function countRun(tally: Tally, stop: StopSpec, result: RunResult, stdoutHash: string | null, matchedUntil: boolean): { tally: Tally; end?: EndReason } {
  const failures = tally.failures + (result.success ? 0 : 1);
  const next: Tally = { runs: tally.runs, failures, last: result, lastHash: stdoutHash };
  let end: EndReason | undefined;
  if (stop.untilSuccess && result.success) end = 'until-success';
  else if (stop.untilFailure && !result.success) end = 'until-failure';
  else if (matchedUntil) end = 'until-match';
  else if (stop.untilChanges && tally.lastHash !== null && stdoutHash !== tally.lastHash) end = 'until-changes';
  else if (stop.maxFailures !== undefined && failures >= stop.maxFailures) end = 'max-failures';
  return end ? { tally: next, end } : { tally: next };
}

/**
 * How the job ended: a stop from outside exits with the status it was given (128+n for a signal), a
 * schedule that ended the job with the one it decided, a met until-condition with 0, others with 1
 * when any run failed.
 */
export function outcomeOf(tally: Tally, reason: EndReason | undefined, stopExit: number | undefined, scheduleEnd: ScheduleEnd | undefined): JobOutcome {
  const ended = reason ?? 'schedule-done';
  const scheduleExit = scheduleEnd?.exitCode;
  const exitCode =
    ended === 'signal' && stopExit !== undefined ? stopExit : scheduleExit !== undefined && ended === 'schedule-done' ? scheduleExit : UNTIL_MET.has(ended) ? 0 : tally.failures > 0 ? 1 : 0;
  const detail = ended === 'schedule-done' && scheduleEnd?.reason ? scheduleEnd.reason : ended;
  return { reason: ended, detail, runs: tally.runs, failures: tally.failures, exitCode };
}
