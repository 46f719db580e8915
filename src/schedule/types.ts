import type { Due } from '../clock/clock.js';
import type { ScheduleEvent } from './events.js';

/** What a schedule may know of the run that just finished (the job loop's RunResult has more). */
export interface LastRun {
  /** 1-based run number. */
  run: number;
  exitCode: number | null;
  success: boolean;
  durationMs: number;
  /** The last few KB of the run's output, when the schedule asked for it (wantsOutput). */
  outputTail?: string;
  /** The first 16 KB of the run's output, when asked for. */
  outputHead?: string;
}

export interface SlotContext {
  /** Monotonic and wall "now" when asked. */
  nowAt: number;
  nowWall: number;
  /** The run that just finished, when the schedule is asked after a run (plugins adapt to it). */
  last?: LastRun;
}

export interface Slot {
  due: Due;
  /** Slots passed over to reach this one (they were due while a run was still going). */
  skipped: number;
  /** The last slot passed over, when skipped > 0 (the queue policy runs it late). */
  lastSkipped?: Due;
}

/**
 * Where runs fall in time. Pure: no timers. The job loop owns waiting.
 * `first` is asked once; `after` is asked for the slot that follows `prev`,
 * not earlier than `notBefore` (for the skip policy) when given.
 */
/** A schedule that decides the job is over (a backoff scheduler after a success, say). */
interface ScheduleEnd {
  end: true;
  reason: string;
  /** The job's exit status, when the schedule decides it (e.g. the last run's exit code). */
  exitCode?: number;
}

export type SlotAnswer = Slot | ScheduleEnd | null;

/**
 * What `after` is told: notBefore, no slot already past (the skip policy); held, "now" was moved
 * forward on purpose (--http-aware making the next run wait), so nothing earlier may be returned.
 */
export type AfterContext = SlotContext & { notBefore?: boolean; held?: boolean };

/**
 * A schedule's word on a slot that has been reached, asked right before its run starts (coordination
 * across instances): 'run' it here, 'pass' it (another instance runs it; the loop moves to the next
 * slot), wait until `retryAt` and ask again (a shared rate limit that is not yet free), or run now
 * standing for `runAs`, a later slot already due (the reached one was taken, that one was not).
 */
export type ClaimAnswer = 'run' | 'pass' | { retryAt: Due } | { runAs: Due };

/**
 * What a schedule's slots are, declared so that the instances of a job can agree on them
 * (--coordinate, docs/coordination.md): a grid (slot k due at origin + k x every, the origin agreed
 * on), instants every host computes alike from the same `key` (cron fire times), or starts counted
 * against a rate limit shared by every instance (a sliding window, or a token bucket).
 */
export type SlotShape =
  | { kind: 'grid'; everyMs: number; firstDelayMs: number; startWall?: number }
  | { kind: 'instants'; key: string }
  | { kind: 'sliding-window'; limit: number; windowMs: number; spread: boolean }
  | { kind: 'token-bucket'; limit: number; windowMs: number; burst: number };

export interface Schedule {
  readonly describe: string;
  /**
   * A slot found already well past due when the wait ends (the machine slept
   * through it): 'skip' counts it and moves on, 'run-once' (default) runs it now.
   */
  readonly missed?: 'skip' | 'run-once';
  first(ctx: SlotContext): SlotAnswer | Promise<SlotAnswer>;
  after(prev: Due, ctx: AfterContext): SlotAnswer | Promise<SlotAnswer>;
  /** Gives the schedule the job's event stream, for what it has to report (delay hints, coordination). */
  bind?(emit: (event: ScheduleEvent) => void): void;
  /**
   * Asked when the wait for `due` is over, before the run starts; without it every slot runs. A
   * wrapper around another schedule must pass it on.
   */
  claim?(due: Due, ctx: SlotContext): Promise<ClaimAnswer>;
  /** A run this schedule claimed has ended (a coordinated run gives back what it held). */
  runEnded?(run: { dueWall: number; endWall: number }): void;
  /** Stops the schedule's resources (plugin instances). */
  close?(): Promise<void>;
  /** Its slots, when instances of one job can agree on them; without it the job cannot be coordinated. */
  readonly slots?: SlotShape;
  /** The output tail of each run is wanted (plugin schedulers read it). */
  readonly wantsOutput?: boolean;
}
