/**
 * What a schedule reports into the job's event stream (Schedule.bind). Owned here, below the job
 * loop, so that schedules need nothing from job/ (which imports them).
 */

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

export type ScheduleEvent =
  /** The next run waits longer than the schedule says because the command's output asked for it (--http-aware). */
  | { type: 'delay-hint'; run: number; delayMs: number; detail: string }
  /** Coordination state after a change (a claim won or lost, Redis lost or back). */
  | { type: 'coordination'; state: CoordinationState }
  /** Due slots passed because a run went on elsewhere (--on-overlap skip across instances). */
  | { type: 'skipped'; count: number };
