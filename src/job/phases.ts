/**
 * The job loop's phases and the transitions between them, pure: each takes what the driver
 * (loop.ts) observed - a schedule's answer, which point a wait reached, a claim - and returns the
 * next phase, the events to emit and the end reason when the job is over. No timers, no processes.
 *
 *   asking ──> slot ──> waiting ──> claiming ──> starting ──> running ──> asking
 *     ^                    │            │           │  (allow: asking at once)
 *     └── missed, full, ───┘<── pass ───┘           │
 *         passed slots        retryAt ──> slot      │
 *   any phase ──> draining (a stop condition, a stop from outside, no more slots)
 */
import { MAX_TIMER_MS, type Due } from '../clock/clock.js';
import type { ClaimAnswer, Slot as ScheduleSlot, SlotAnswer } from '../schedule/types.js';
import type { JobEvent } from './events.js';
import type { JobSpec } from './spec.js';
import type { EndReason, ScheduleEnd } from './tally.js';

/** A slot as the loop tracks it: startNow marks a queued run for a missed slot. */
export type Slot = ScheduleSlot & { startNow?: boolean };

export type Phase =
  /** Asking the schedule for its first slot, or for the one after `after` (`queue`: missed slots become one run now). */
  | { name: 'asking'; after?: Due; queue?: boolean }
  /** A slot is known: the run count is checked, then its wait planned. */
  | { name: 'slot'; slot: Slot }
  /** Waiting for `due` (the slot's time, jitter added), a --for/--until-time stop, or a trigger. */
  | { name: 'waiting'; slot: Slot; due: Due; dueWall: number }
  /** The slot was reached; a coordinating schedule says whether it runs here. */
  | { name: 'claiming'; slot: Slot; dueWall: number }
  /** Its run starts (--on-overlap kill stops the running ones first). `dueWall` is what the run stands for. */
  | { name: 'starting'; slot: Slot; dueWall: number }
  /** skip and queue: the one run goes on; the next slot is asked for once it has ended. */
  | { name: 'running'; slot: Slot }
  /** The job is over: runs still going finish (or were told to stop), the schedule is closed. */
  | { name: 'draining' };

export interface Step {
  phase: Phase;
  /** To emit, in order, on entering the phase. */
  events?: JobEvent[];
  /** The job ends, for this reason. */
  end?: EndReason;
  /** The schedule ended the job itself. */
  scheduleEnd?: ScheduleEnd;
}

/** Both clocks read at one moment. */
export interface Now {
  at: number;
  wall: number;
}

/** Later than this past due means the wait could not have woken in time: the machine slept. */
export const MISSED_AFTER_MS = 2 * MAX_TIMER_MS;

const DRAINING: Step = { phase: { name: 'draining' } };

const wallOf = (due: Due, now: Now): number => ('wall' in due ? due.wall : now.wall + (due.at - now.at));

const askAfter = (slot: Slot, events?: JobEvent[]): Step => ({ phase: { name: 'asking', after: slot.due }, ...(events ? { events } : {}) });

/**
 * asking → slot | draining. `stopping`: the job was told to stop meanwhile (a slow schedule must not
 * delay that, so its answer is not waited for). queue: when slots were missed, one run starts now
 * standing for the last of them, and the grid goes on from it.
 */
export function slotAnswered(answer: SlotAnswer, o: { stopping: boolean; queue?: boolean }): Step {
  if (o.stopping) return DRAINING;
  if (!answer) return { ...DRAINING, end: 'schedule-done' };
  if ('end' in answer) return { ...DRAINING, end: 'schedule-done', scheduleEnd: { reason: answer.reason, ...(answer.exitCode !== undefined ? { exitCode: answer.exitCode } : {}) } };
  const slot: Slot = o.queue && answer.lastSkipped ? { due: answer.lastSkipped, skipped: answer.skipped - 1, startNow: true } : answer;
  return { phase: { name: 'slot', slot } };
}

/** slot → waiting | draining (--times reached): jitter added, the slots passed over counted, the next run announced. */
export function planSlot(slot: Slot, c: { runs: number; times?: number; jitterMs: number; random: () => number; now: Now }): Step {
  if (c.times !== undefined && c.runs >= c.times) return { ...DRAINING, end: 'times' };
  const events: JobEvent[] = [];
  // Counted only now: slots after the last run are not "skipped", the job is simply over.
  if (slot.skipped > 0) events.push({ type: 'skipped', count: slot.skipped });
  const jitter = c.jitterMs > 0 && !slot.startNow ? c.random() * c.jitterMs : 0;
  const due: Due = slot.startNow ? { at: c.now.at } : 'at' in slot.due ? { at: slot.due.at + jitter } : { wall: slot.due.wall + jitter };
  events.push({ type: 'next', run: c.runs + 1, dueWall: wallOf(due, c.now) });
  // A queued run starts now but stands for the missed slot: that is when it was due.
  return { phase: { name: 'waiting', slot, due, dueWall: wallOf(slot.startNow ? slot.due : due, c.now) }, events };
}

/** What the driver saw when a wait ended. */
export interface Reached {
  /** The point reached: 0 the --for deadline, 1 --until-time, 2 the slot; -1 the wait was cut short (a stop or a trigger). */
  point: number;
  stopping: boolean;
  nowWall: number;
  /** How long past `due` it is now. */
  lateMs: number;
  /** Runs going now. */
  running: number;
}

/**
 * waiting → claiming | starting | asking (the slot is passed over) | draining. The stop points come
 * first: a slot due exactly at the --for or --until-time deadline is past the job. A trigger starts
 * the slot now.
 */
export function slotReached(p: Extract<Phase, { name: 'waiting' }>, r: Reached, job: Pick<JobSpec, 'overlap' | 'maxParallel'> & { missed?: 'skip' | 'run-once'; claims: boolean }): Step {
  if (r.point === 0) return { ...DRAINING, end: 'for' };
  if (r.point === 1) return { ...DRAINING, end: 'until-time' };
  if (r.point === -1 && r.stopping) return DRAINING;
  const triggered = r.point === -1;
  const dueWall = triggered ? r.nowWall : p.dueWall;
  if (job.missed === 'skip' && r.lateMs > MISSED_AFTER_MS) return askAfter(p.slot, [{ type: 'skipped', count: 1 }]);
  // Checked before any claim: a slot this instance cannot run must stay free for another.
  if (job.overlap === 'allow' && r.running >= job.maxParallel) return askAfter(p.slot, [{ type: 'skipped', count: 1 }]);
  return { phase: { name: job.claims ? 'claiming' : 'starting', slot: p.slot, dueWall } };
}

/**
 * claiming → starting | asking (another instance runs it) | slot (a shared limit is free at
 * `retryAt`: wait and ask again) | draining. A stop during a slow claim ends the job at once (--for
 * ending meanwhile does not: the slot was reached in time, and once claimed no other instance would run it).
 */
export function claimAnswered(p: Extract<Phase, { name: 'claiming' }>, claim: ClaimAnswer | null, stopping: boolean, now: Now): Step {
  if (stopping || claim === null) return DRAINING;
  if (claim === 'pass') return askAfter(p.slot);
  if (claim === 'run') return { phase: { name: 'starting', slot: p.slot, dueWall: p.dueWall } };
  if ('retryAt' in claim) return { phase: { name: 'slot', slot: { due: claim.retryAt, skipped: 0 } } };
  return { phase: { name: 'starting', slot: { due: claim.runAs, skipped: 0 }, dueWall: wallOf(claim.runAs, now) } };
}

/** starting → running (skip, queue: one run at a time) | asking (kill, allow: the next slot is waited for at once). */
export function runStarted(p: Extract<Phase, { name: 'starting' }>, overlap: JobSpec['overlap']): Step {
  return overlap === 'skip' || overlap === 'queue' ? { phase: { name: 'running', slot: p.slot } } : askAfter(p.slot);
}

/** running → asking | draining: the run ended, or the job was told to stop while it went on. */
export function runFinished(p: Extract<Phase, { name: 'running' }>, stopping: boolean, overlap: JobSpec['overlap']): Step {
  if (stopping) return DRAINING;
  return { phase: { name: 'asking', after: p.slot.due, queue: overlap === 'queue' } };
}
